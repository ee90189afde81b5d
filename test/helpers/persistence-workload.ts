import { Engine, EngineConfig } from '../../server/engine/engine';
import { Job, JobState } from '../../server/engine/job';
import { JobStore, RetentionPolicy } from '../../server/engine/job-store';
import { EngineError } from '../../server/engine/engine-errors';
import { LogRecord } from '../../server/engine/records';
import { openPersistence, RecoveryReport } from '../../server/persistence';
import { DiskPersistence } from '../../server/persistence/disk-persistence';
import { FsOps } from '../../server/persistence/fs-ops';
import { prng } from './prng';

export { prng };

export const CONFIG: EngineConfig = {
  defaultRetries: 2,
  defaultBackoff: 1000,
  defaultBackoffMax: 60_000,
  backoffJitter: 0,
  defaultLease: 30_000,
  defaultMaxlen: 0,
  requeueOnDisconnect: false,
  priorityWeights: [6, 3, 1],
};

/** no time-based removal (it is not logged: a replay would keep such jobs until its first tick); small count caps (logged) */
export const RETENTION: RetentionPolicy = { completedMs: 1e12, completedMax: 40, deadMs: 1e12, deadMax: 30, cancelledMs: 1e12 };

export function fakeClock(start = 1_790_000_000_000): { now: () => number; t: number; advance: (ms: number) => void } {
  const c = { t: start, now: () => c.t, advance: (ms: number) => (c.t += ms) };
  return c;
}

/** an engine on a fake clock with no timer (tests drive deadlines with tick(now)); records go to `journal.target` */
export function newEngine(clock = fakeClock(), journal: JournalSlot = new JournalSlot()): Engine {
  return new Engine({ config: CONFIG, retention: RETENTION, journal, clock, random: () => 0.5 });
}

/** a journal whose target is set once the log is open (the engine's store is loaded first) */
export class JournalSlot {
  target: { append(rec: LogRecord): void } = { append() {} };
  append(rec: LogRecord): void {
    this.target.append(rec);
  }
}

const QUEUES = ['emails', '\u0000\u00ffbin', '__proto__', 'constructor'];

function bytes(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
  return s;
}

function pick<T>(rnd: () => number, xs: T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[Math.floor(rnd() * xs.length)];
}

function jobsIn(store: JobStore, state: JobState): Job[] {
  const out: Job[] = [];
  for (const j of store.jobs.values()) if (j.state === state) out.push(j);
  return out;
}

/**
 * Drives an engine through `steps` random operations: every command kind,
 * lease and TTL expiry through tick(), count retention, cron entries, byte
 * names. Only events the log records (no promotion of scheduled jobs: delays
 * are far in the future), so a replay must reproduce the state exactly.
 */
export function runWorkload(engine: Engine, clock: { advance(ms: number): void; now(): number }, steps: number, seed: number): void {
  const rnd = prng(seed);
  const store = engine.store;
  for (let i = 0; i < steps; i++) {
    const r = rnd();
    const q = pick(rnd, QUEUES)!;
    try {
      if (r < 0.35) {
        const o: Parameters<Engine['enqueue']>[2] = { priority: Math.floor(rnd() * 3) as 0 | 1 | 2 };
        if (rnd() < 0.1) o.delay = 1e10;
        if (rnd() < 0.1) o.ttl = 30 + Math.floor(rnd() * 200);
        if (rnd() < 0.1) o.id = `custom-${Math.floor(rnd() * 20)}`;
        if (rnd() < 0.3) o.lease = 20 + Math.floor(rnd() * 100);
        engine.enqueue(q, bytes(rnd, Math.floor(rnd() * 40)), o);
      } else if (r < 0.55) {
        engine.claim(q, { count: 1 + Math.floor(rnd() * 3), owner: 1, lease: rnd() < 0.5 ? 25 + Math.floor(rnd() * 80) : undefined });
      } else if (r < 0.68) {
        const j = pick(rnd, jobsIn(store, JobState.Active));
        if (j) engine.ack(j.id, rnd() < 0.5 ? bytes(rnd, 10) : null, rnd() < 0.5 ? j.deliveries : undefined);
      } else if (r < 0.76) {
        const j = pick(rnd, jobsIn(store, JobState.Active));
        if (j) engine.nack(j.id, { delay: rnd() < 0.5 ? 0 : 1e10, error: rnd() < 0.7 ? `err ${bytes(rnd, 5)}` : undefined, noRetry: rnd() < 0.2 });
      } else if (r < 0.8) {
        const j = pick(rnd, jobsIn(store, JobState.Active));
        if (j) engine.touch(j.id, rnd() < 0.5 ? 500 : undefined);
      } else if (r < 0.83) {
        const j = pick(rnd, [...jobsIn(store, JobState.Ready), ...jobsIn(store, JobState.Scheduled)]);
        if (j) engine.cancel(j.id);
      } else if (r < 0.86) {
        const j = pick(rnd, [...jobsIn(store, JobState.Dead), ...jobsIn(store, JobState.Cancelled)]);
        if (j) engine.requeue(j.id);
      } else if (r < 0.87) {
        engine.purge(q, pick(rnd, ['dead', 'completed', 'cancelled', 'all'] as const)!);
      } else if (r < 0.89) {
        engine.setPaused(q, rnd() < 0.5);
      } else if (r < 0.9) {
        engine.setMaxlen(q, rnd() < 0.5 ? 0 : 500);
      } else if (r < 0.92) {
        const name = `cron-${Math.floor(rnd() * 4)}`;
        if (rnd() < 0.6)
          engine.setCron({
            name,
            expression: '*/5 * * * *',
            timezone: 'UTC',
            queue: q,
            payload: bytes(rnd, 8),
            options: { priority: 0 },
            nextRunAt: 1_790_000_300_000,
          });
        else if (rnd() < 0.5) engine.deleteCron(name);
        else engine.cronRan(name, 1_790_000_600_000 + i);
      } else if (r < 0.93) {
        engine.requeueAllDead(q);
      } else {
        clock.advance(1 + Math.floor(rnd() * 20));
        engine.tick(clock.now());
      }
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
    }
  }
}

function describeJob(j: Job) {
  return {
    id: j.id,
    queue: j.queue,
    payload: j.payload,
    priority: j.priority,
    createdAt: j.createdAt,
    retries: j.retries,
    backoffBase: j.backoffBase,
    backoffMax: j.backoffMax,
    lease: j.lease,
    expiresAt: j.expiresAt,
    state: j.state,
    deliveries: j.deliveries,
    updatedAt: j.updatedAt,
    runAt: j.runAt,
    leaseUntil: j.leaseUntil,
    deliveryLease: j.deliveryLease,
    finishedAt: j.finishedAt,
    lastError: j.lastError,
    result: j.result,
    deadline: j.heapIndex >= 0 ? j.deadline : null,
  };
}

/**
 * Everything persistence must bring back: each queue's settings and every
 * state list in order with every job field, the heap deadlines, crons and
 * the id counter. (Not the priority picker's round credit: claims change it
 * without a record of their own.)
 */
export function dumpStore(store: JobStore) {
  const queues = [...store.queues.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((q) => ({
      name: q.name,
      paused: q.paused,
      maxlen: q.maxlen,
      lists: [q.ready[0], q.ready[1], q.ready[2], q.scheduled, q.active, q.completed, q.dead, q.cancelled].map((l) => [...l].map(describeJob)),
    }));
  let inHeap = 0;
  for (const j of store.jobs.values()) if (j.heapIndex >= 0) inHeap++;
  const crons = [...store.crons.values()].map((c) => ({ ...c })).sort((a, b) => (a.name < b.name ? -1 : 1));
  return { jobs: store.jobs.size, heap: store.heap.size, inHeap, nextSeq: store.nextSeq, queues, crons };
}

export interface Opened {
  engine: Engine;
  clock: ReturnType<typeof fakeClock>;
  p: DiskPersistence;
  report: RecoveryReport;
  logs: string[];
}

export interface OpenOpts {
  repair?: boolean;
  fs?: FsOps;
  slice?: number;
  segmentSize?: number;
  snapshotLogSize?: number;
}

/** an engine on a fake clock over the data directory `dir`, loaded and journaling to its log */
export async function openDir(dir: string, o: OpenOpts = {}): Promise<Opened> {
  const clock = fakeClock();
  const journal = new JournalSlot();
  const engine = newEngine(clock, journal);
  const logs: string[] = [];
  const { persistence, report } = await openPersistence(engine.store, {
    dir,
    appendfsync: () => 'always',
    segmentSize: () => o.segmentSize ?? 64 * 1024 * 1024,
    snapshotLogSize: () => o.snapshotLogSize ?? 0,
    snapshotSlice: () => o.slice ?? 2000,
    repair: o.repair ?? false,
    log: (level, msg) => logs.push(`${level}: ${msg}`),
    fs: o.fs,
    retryMs: 20,
  });
  journal.target = persistence;
  return { engine, clock, p: persistence, report, logs };
}
