import { Slowlog } from './slowlog';

export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/**
 * Server-wide totals for INFO stats / commandstats and /metrics, and the
 * slowlog: one set of counters, whichever of them reads it.
 */
export class CommandStats {
  startedAt = Date.now();
  connectionsReceived = 0;
  rejectedConnections = 0;
  commandsProcessed = 0;
  errorReplies = 0;
  readonly commands = new Map<string, CommandStat>();

  constructor(readonly slowlog: Slowlog) {}

  of(name: string): CommandStat {
    let s = this.commands.get(name);
    if (!s) this.commands.set(name, (s = { calls: 0, usec: 0, rejected: 0, failed: 0 }));
    return s;
  }

  /** CONFIG RESETSTAT (the slowlog has its own SLOWLOG RESET) */
  reset(): void {
    this.commands.clear();
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.commandsProcessed = 0;
    this.errorReplies = 0;
  }
}
