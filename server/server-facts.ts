import type { CommandContext } from './context/command-context';
import { SERVER_VERSION } from './version';

/** GET /v1/server: what the dashboard's server panel shows (a JSON subset of INFO) */
export interface ServerFacts {
  version: string;
  node: string;
  pid: number;
  uptimeSeconds: number;
  connections: number;
  memory: { rss: number; heapUsed: number };
  queues: number;
  jobs: number;
  recurringJobs: number;
  appendfsync: string;
  logBytesSinceSnapshot: number;
  /** unix seconds of the last successful snapshot, 0 = none yet */
  lastSnapshotTime: number;
  lastSnapshotStatus: string;
  logWritable: boolean;
  loading: boolean;
}

export function serverFacts(ctx: CommandContext): ServerFacts {
  const p = new Map(ctx.persistence.info());
  const m = process.memoryUsage();
  const store = ctx.engine.store;
  return {
    version: SERVER_VERSION,
    node: process.version,
    pid: process.pid,
    uptimeSeconds: Math.floor((Date.now() - ctx.stats.startedAt) / 1000),
    connections: ctx.clients.size,
    memory: { rss: m.rss, heapUsed: m.heapUsed },
    queues: store.queues.size,
    jobs: store.jobs.size,
    recurringJobs: store.crons.size,
    appendfsync: ctx.settings.str('appendfsync'),
    logBytesSinceSnapshot: Number(p.get('aof_size_since_snapshot') ?? 0),
    lastSnapshotTime: ctx.persistence.lastSaveTime,
    lastSnapshotStatus: String(p.get('rdb_last_bgsave_status') ?? ''),
    logWritable: ctx.gate.logWritable,
    loading: ctx.gate.loading,
  };
}
