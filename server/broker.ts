import * as net from 'net';
import { Settings, parsePriorityWeights } from '../config/settings';
import { ParserLimits } from '../protocol/request-parser';
import { Engine, EngineConfig } from './engine/engine';
import { RetentionPolicy } from './engine/job-store';
import { ClientConnection, ConnectionHost } from './net/client-connection';
import { dispatch } from './commands/dispatcher';
import { MemoryPersistence, Persistence } from './persistence/types';
import { Logger } from './log';
import { HttpServer, startHttp } from './http/http-server'; // [http/metrics]
import { Slowlog } from './metrics/slowlog'; // [slowlog]
import { CronScheduler } from './cron/cron-scheduler';

export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

export interface ServerStats {
  startedAt: number;
  connectionsReceived: number;
  rejectedConnections: number;
  commandsProcessed: number;
  errorReplies: number;
  commands: Map<string, CommandStat>;
}

function engineConfig(s: Settings): EngineConfig {
  return {
    defaultRetries: s.int('default-retries'),
    defaultBackoff: s.int('default-backoff'),
    defaultBackoffMax: s.int('default-backoff-max'),
    backoffJitter: s.get('backoff-jitter') as number,
    defaultLease: s.int('default-lease'),
    defaultMaxlen: s.int('default-maxlen'),
    requeueOnDisconnect: s.bool('requeue-on-disconnect'),
    priorityWeights: parsePriorityWeights(s.str('priority-weights')),
  };
}

function retentionPolicy(s: Settings): RetentionPolicy {
  return {
    completedMs: s.int('completed-retention'),
    completedMax: s.int('completed-max'),
    deadMs: s.int('dead-retention'),
    deadMax: s.int('dead-max'),
    cancelledMs: s.int('cancelled-retention'),
  };
}

/**
 * The composition root of a running broker: settings, engine, persistence
 * and the client connections. It is the ConnectionHost the connections talk
 * to; commands reach the engine through the dispatcher.
 */
export class Broker implements ConnectionHost {
  readonly engine: Engine;
  readonly cron: CronScheduler;
  persistence: Persistence = new MemoryPersistence();
  loading = true;
  readonly clients = new Map<number, ClientConnection>();
  readonly stats: ServerStats = {
    startedAt: Date.now(),
    connectionsReceived: 0,
    rejectedConnections: 0,
    commandsProcessed: 0,
    errorReplies: 0,
    commands: new Map(),
  };
  port = 0;
  /** [http/metrics] the HTTP listener (/metrics, /health, /ready, /v1) and its metrics; null when http-port is 0 */
  http: HttpServer | null = null;
  /** [slowlog] commands slower than slowlog-slower-than, filled by the dispatcher */
  readonly slowlog = new Slowlog(
    () => this.settings.int('slowlog-slower-than'),
    () => this.settings.int('slowlog-max-len'),
  );
  private nextClientId = 1;
  private readonly awaiting = new Set<ClientConnection>();
  private server: net.Server | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private shuttingDown: Promise<void> | null = null;

  constructor(
    readonly settings: Settings,
    readonly log: Logger,
    private readonly onExit: (code: number) => void = (code) => process.exit(code),
  ) {
    this.engine = new Engine(engineConfig(settings), retentionPolicy(settings), this.persistence);
    this.cron = new CronScheduler(this.engine, log, () => settings.str('cron-catchup'), settings.str('timezone'));
    settings.onChange((name) => {
      this.engine.config = engineConfig(settings);
      this.engine.store.retention = retentionPolicy(settings);
      if (name.startsWith('max-')) for (const c of this.clients.values()) c.refreshLimits();
    });
  }

  /** switches from the loading placeholder to the real log once start-up replay is done */
  attachPersistence(p: Persistence): void {
    this.persistence = p;
    this.engine.journal = p;
    p.onDurable((lsn) => this.releaseReplies(lsn));
    this.http?.metrics.watchPersistence(); // fsync latency and group-commit sizes from the first flush on
  }

  finishLoading(): void {
    this.loading = false;
    this.engine.afterLoad();
    this.cron.start();
  }

  listen(): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.int('port'), this.settings.str('bind'), () => {
        server.off('error', reject);
        server.on('error', (e) => this.log('error', `listener error: ${e.message}`));
        this.port = (server.address() as net.AddressInfo).port;
        this.idleTimer = setInterval(() => this.closeIdleClients(), 1000);
        this.idleTimer.unref();
        // [http/metrics] the HTTP listener starts once RESP listens (http-port 0 = off); if it cannot, listen() fails
        startHttp(this).then(
          (http) => {
            this.http = http;
            resolve(this.port);
          },
          (e) => {
            clearInterval(this.idleTimer!);
            server.close();
            reject(e);
          },
        );
      });
    });
  }

  private accept(socket: net.Socket): void {
    this.stats.connectionsReceived++;
    if (this.shuttingDown || this.clients.size >= this.settings.int('max-clients')) {
      this.stats.rejectedConnections++;
      socket.on('error', () => {});
      socket.end(this.shuttingDown ? '-ERR server is shutting down\r\n' : '-ERR max number of clients reached\r\n');
      return;
    }
    const id = this.nextClientId++;
    const conn = new ClientConnection(id, socket, this, this.settings.str('requirepass') !== '');
    this.clients.set(id, conn);
  }

  private closeIdleClients(): void {
    const timeout = this.settings.int('timeout') * 1000;
    if (timeout <= 0) return;
    const now = Date.now();
    for (const c of this.clients.values()) if (!c.isBlocked && now - c.lastActivity > timeout) c.kill();
  }

  // ---- ConnectionHost ---------------------------------------------------

  parserLimits(authed: boolean): ParserLimits {
    const s = this.settings;
    const tight = !authed && s.str('requirepass') !== '';
    return {
      maxArgs: tight ? s.int('max-args-unauth') : s.int('max-args'),
      maxBulk: tight ? s.int('max-bulk-unauth') : s.int('max-bulk'),
      maxInline: tight ? Math.min(s.int('max-inline'), s.int('max-bulk-unauth')) : s.int('max-inline'),
    };
  }
  maxQueryBuffer(): number {
    return this.settings.int('max-query-buffer');
  }
  maxOutputBuffer(): number {
    return this.settings.int('max-output-buffer');
  }
  dispatch(conn: ClientConnection, args: string[]): void {
    dispatch(this, conn, args);
  }
  lastLsn(): number {
    return this.persistence.lastLsn;
  }
  durableLsn(): number {
    return this.persistence.durableLsn;
  }
  logWritable(): boolean {
    return this.persistence.writable;
  }
  awaitDurable(conn: ClientConnection): void {
    this.awaiting.add(conn);
  }
  closed(conn: ClientConnection): void {
    this.clients.delete(conn.id);
    this.awaiting.delete(conn);
    this.engine.releaseOwner(conn.id);
  }

  /**
   * Protocol errors are logged as bursts, at most one line per 10 s with the
   * count and the last example, so a misbehaving client cannot flood the log.
   */
  clientError(conn: ClientConnection, message: string): void {
    const burst = this.errorBurst;
    if (burst.timer) {
      burst.count++;
      burst.last = `${conn.addr}: ${message}`;
      return;
    }
    this.log('warn', `client error: ${conn.addr}: protocol error: ${message}`);
    const flush = () => {
      if (burst.count === 0) {
        burst.timer = null;
        return;
      }
      this.log('warn', `client errors: ${burst.count} more protocol error(s) in 10 s, the last from ${burst.last}`);
      burst.count = 0;
      burst.timer = setTimeout(flush, 10_000);
      burst.timer.unref();
    };
    burst.timer = setTimeout(flush, 10_000);
    burst.timer.unref();
  }

  private readonly errorBurst: { count: number; last: string; timer: NodeJS.Timeout | null } = { count: 0, last: '', timer: null };

  private releaseReplies(lsn: number): void {
    for (const c of this.awaiting) if (c.release(lsn)) this.awaiting.delete(c);
    this.http?.releaseDurable(lsn); // [http] HTTP responses wait for the log too
  }

  // ---- stats ------------------------------------------------------------

  commandStat(name: string): CommandStat {
    let s = this.stats.commands.get(name);
    if (!s) this.stats.commands.set(name, (s = { calls: 0, usec: 0, rejected: 0, failed: 0 }));
    return s;
  }

  resetStats(): void {
    this.stats.commands.clear();
    this.stats.connectionsReceived = 0;
    this.stats.rejectedConnections = 0;
    this.stats.commandsProcessed = 0;
    this.stats.errorReplies = 0;
    this.engine.resetCounters();
  }

  // ---- lifecycle --------------------------------------------------------

  /**
   * Graceful stop: refuse new connections, answer what was already read,
   * flush and fsync the log, snapshot unless NOSAVE, close clients, exit 0.
   * Active jobs keep their leases across the restart (never requeued here).
   */
  shutdown(mode: 'save' | 'nosave', why: string): Promise<void> {
    if (this.shuttingDown) return this.shuttingDown;
    this.shuttingDown = (async () => {
      this.log('info', `shutting down (${why}, ${mode})`);
      this.server?.close();
      this.http?.close(); // [http] stop accepting; requests in flight are released with the replies below
      if (this.idleTimer) clearInterval(this.idleTimer);
      this.engine.stop();
      this.cron.stop();
      const force = setTimeout(() => {
        this.log('error', 'shutdown took longer than 10 s; exiting');
        this.onExit(1);
      }, 10_000);
      force.unref();
      let code = 0;
      try {
        if (mode === 'save' && !this.loading) await this.persistence.save();
        await this.persistence.close();
      } catch (e) {
        this.log('error', `shutdown: ${(e as Error).message}`);
        code = 1;
      }
      this.releaseReplies(Infinity);
      await Promise.all([...this.clients.values()].map((c) => c.end(2000)));
      clearTimeout(force);
      this.log('info', 'bye');
      this.onExit(code);
    })();
    return this.shuttingDown;
  }
}
