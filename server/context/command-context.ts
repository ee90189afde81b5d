import type { Settings } from '../../config/settings';
import type { Acl } from '../acl/acl';
import type { Engine } from '../engine/engine';
import type { Logger } from '../log';
import type { CommandStats } from '../metrics/command-stats';
import type { ClientConnection } from '../net/client-connection';
import type { GateState } from '../rules/request-gate';

/** The recurring-job timers (server/cron), as commands use them. */
export interface CronControl {
  /** (re)starts the timer of a stored entry */
  schedule(name: string): void;
  unschedule(name: string): void;
  /** next run of an entry (unix ms), 0 if none */
  nextRunOf(name: string): number;
}

/** Snapshots and log facts, as SAVE / BGSAVE / LASTSAVE / INFO need them. */
export interface PersistenceControl {
  save(): Promise<void>;
  bgsave(): boolean;
  readonly lastSaveTime: number;
  info(): Array<[string, string | number]>;
}

export interface ClientRegistry {
  get(id: number): ClientConnection | undefined;
  all(): IterableIterator<ClientConnection>;
  readonly size: number;
}

export interface ServerControl {
  /** the RESP port, once listening */
  readonly port: number;
  shutdown(mode: 'save' | 'nosave', why: string): Promise<void>;
  /** CONFIG RESETSTAT: server totals and per-queue totals */
  resetStats(): void;
}

/** Security events worth an operator's attention (logged rate-limited). */
export interface SecurityLog {
  authFailed(addr: string, user: string): void;
}

/**
 * What command handlers may use. The composition root (server/broker.ts)
 * implements it; handlers never see the broker, its listener or its files.
 */
export interface CommandContext {
  readonly engine: Engine;
  readonly settings: Settings;
  readonly cron: CronControl;
  /** loading / log writable / password set: what the request gate reads */
  readonly gate: GateState;
  readonly persistence: PersistenceControl;
  readonly stats: CommandStats;
  readonly clients: ClientRegistry;
  readonly server: ServerControl;
  readonly security: SecurityLog;
  /** users and permissions (ACL commands, AUTH); the gate reads them through gate.acl */
  readonly acl: Acl;
  readonly log: Logger;
}
