/**
 * Pure functions from raw replies (read with callBuffer: bulk strings as
 * Buffers, integers as numbers) to the SDK's typed objects.
 */
import { Codec } from './codecs';
import { DeadJob, GroupStats, GroupSummary, JobsPage, JobState, JobStatus, ListedJob, PeekedJob, Priority, QueueStats } from './types';

export type Raw = Buffer | string | number | null | Raw[];

function str(v: Raw | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new TypeError('expected a string, got an array');
}

function num(v: Raw | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  const s = str(v);
  if (s === null || !/^-?\d+(\.\d+)?$/.test(s)) throw new TypeError(`expected a number, got '${s}'`);
  return Number(s);
}

function buf(v: Raw | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string' || typeof v === 'number') return Buffer.from(String(v));
  throw new TypeError('expected bytes, got an array');
}

/** A flat [field, value, field, value, ...] array (RESP2 map) as a Map. */
export function flatToMap(reply: Raw): Map<string, Raw> {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw new TypeError('expected a flat field/value array');
  const m = new Map<string, Raw>();
  for (let i = 0; i < reply.length; i += 2) m.set(str(reply[i]) ?? '', reply[i + 1]);
  return m;
}

const STATUS_FIELDS = new Set([
  'id',
  'queue',
  'state',
  'priority',
  'deliveries',
  'retries',
  'created-at',
  'updated-at',
  'run-at',
  'lease-until',
  'last-error',
  'result',
  'group',
  'payload',
]);

function extras(m: Map<string, Raw>, known: Set<string>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of m) {
    if (known.has(k)) continue;
    out[k] = typeof v === 'number' ? v : Array.isArray(v) ? JSON.stringify(v) : str(v);
  }
  return out;
}

/** STATUS / WAITJOB reply -> JobStatus (null reply -> null). */
export function parseStatus<T, R>(reply: Raw, codec: Codec<unknown>): JobStatus<T, R> | null {
  if (reply === null) return null;
  const m = flatToMap(reply);
  const result = buf(m.get('result'));
  const status: JobStatus<T, R> = {
    id: str(m.get('id')) ?? '',
    queue: str(m.get('queue')) ?? '',
    state: (str(m.get('state')) ?? '') as JobState,
    priority: (str(m.get('priority')) ?? 'normal') as Priority,
    deliveries: num(m.get('deliveries')) ?? 0,
    retries: num(m.get('retries')) ?? 0,
    createdAt: num(m.get('created-at')) ?? 0,
    updatedAt: num(m.get('updated-at')) ?? 0,
    runAt: num(m.get('run-at')),
    leaseUntil: num(m.get('lease-until')),
    lastError: str(m.get('last-error')),
    group: str(m.get('group')),
    result: result === null ? null : (codec.decode(result) as R),
    extra: extras(m, STATUS_FIELDS),
  };
  if (m.has('payload')) {
    const p = buf(m.get('payload'));
    if (p !== null) status.payload = codec.decode(p) as T;
  }
  return status;
}

const STATS_FIELDS: ReadonlyArray<[string, keyof QueueStats]> = [
  ['ready', 'ready'],
  ['scheduled', 'scheduled'],
  ['active', 'active'],
  ['completed', 'completed'],
  ['dead', 'dead'],
  ['cancelled', 'cancelled'],
  ['ready-high', 'readyHigh'],
  ['ready-normal', 'readyNormal'],
  ['ready-low', 'readyLow'],
  ['maxlen', 'maxLen'],
  ['concurrency', 'concurrency'],
  ['rate', 'rate'],
  ['rate-per', 'ratePer'],
  ['groups', 'groups'],
  ['group-concurrency', 'groupConcurrency'],
  ['group-rate', 'groupRate'],
  ['group-rate-per', 'groupRatePer'],
  ['group-maxlen', 'groupMaxLen'],
  ['enqueued', 'enqueued'],
  ['acked', 'acked'],
  ['failed', 'failed'],
  ['retried', 'retried'],
  ['expired-leases', 'expiredLeases'],
];

/** QSTATS reply -> QueueStats. */
export function parseStats(reply: Raw): QueueStats {
  const m = flatToMap(reply);
  const s = { paused: num(m.get('paused')) === 1 } as QueueStats;
  const numbers = s as unknown as Record<string, number>;
  for (const [wire, key] of STATS_FIELDS) numbers[key] = num(m.get(wire)) ?? 0;
  s.extra = extras(m, new Set(['paused', ...STATS_FIELDS.map(([w]) => w)]));
  return s;
}

const GROUP_STATS_FIELDS: ReadonlyArray<[string, keyof GroupStats]> = [
  ['waiting', 'waiting'],
  ['ready', 'ready'],
  ['scheduled', 'scheduled'],
  ['active', 'active'],
  ['in-progress', 'inProgress'],
  ['concurrency', 'concurrency'],
  ['rate', 'rate'],
  ['rate-per', 'ratePer'],
  ['maxlen', 'maxLen'],
];

/** GROUP STATS reply -> GroupStats. */
export function parseGroupStats(reply: Raw): GroupStats {
  const m = flatToMap(reply);
  const s = { ownLimits: num(m.get('own-limits')) === 1 } as GroupStats;
  const numbers = s as unknown as Record<string, number>;
  for (const [wire, key] of GROUP_STATS_FIELDS) numbers[key] = num(m.get(wire)) ?? 0;
  s.extra = extras(m, new Set(['own-limits', ...GROUP_STATS_FIELDS.map(([w]) => w)]));
  return s;
}

/** GROUP LIST reply: [[key, waiting, ready, active, in-progress], ...] */
export function parseGroupList(reply: Raw): GroupSummary[] {
  if (!Array.isArray(reply)) throw new TypeError('expected an array of groups');
  return reply.map((e) => {
    if (!Array.isArray(e) || e.length < 5) throw new TypeError('expected [key, waiting, ready, active, in-progress]');
    return { key: str(e[0]) ?? '', waiting: num(e[1]) ?? 0, ready: num(e[2]) ?? 0, active: num(e[3]) ?? 0, inProgress: num(e[4]) ?? 0 };
  });
}

/** One element of a CLAIM / PEEK reply: [id, queue, payload, deliveries]. */
export interface RawJob {
  id: Buffer;
  queue: Buffer;
  payload: Buffer;
  deliveries: number;
  lastError?: string | null;
}

export function parseJobs(reply: Raw): RawJob[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw new TypeError('expected an array of jobs');
  return reply.map((j) => {
    if (!Array.isArray(j) || j.length < 4) throw new TypeError('expected [id, queue, payload, deliveries]');
    const job: RawJob = { id: buf(j[0])!, queue: buf(j[1])!, payload: buf(j[2]) ?? Buffer.alloc(0), deliveries: num(j[3]) ?? 0 };
    if (j.length >= 5) job.lastError = str(j[4]);
    return job;
  });
}

export function toPeeked<T>(j: RawJob, codec: Codec<unknown>): PeekedJob<T> {
  return { id: j.id.toString('utf8'), queue: j.queue.toString('utf8'), payload: codec.decode(j.payload) as T, deliveries: j.deliveries };
}

export function toDead<T>(j: RawJob, codec: Codec<unknown>): DeadJob<T> {
  return { ...toPeeked<T>(j, codec), lastError: j.lastError ?? null };
}

/** A simple-string or bulk reply as a string. */
export function replyString(reply: Raw): string {
  const s = str(reply);
  if (s === null) throw new TypeError('unexpected nil reply');
  return s;
}

export function replyNumber(reply: Raw): number {
  const n = num(reply);
  if (n === null) throw new TypeError('unexpected nil reply');
  return n;
}

/** JOBS reply: [cursor, [[id, queue, priority, deliveries, created-at, updated-at, due-at, payload-size, payload-head, last-error], ...]] */
export function parseJobsPage(reply: Raw): JobsPage {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) throw new TypeError('expected [cursor, [entries]]');
  const jobs = reply[1].map((e): ListedJob => {
    if (!Array.isArray(e) || e.length < 10) throw new TypeError('expected a JOBS entry of 10 fields');
    return {
      id: str(e[0]) ?? '',
      queue: str(e[1]) ?? '',
      priority: (str(e[2]) ?? 'normal') as Priority,
      deliveries: num(e[3]) ?? 0,
      createdAt: num(e[4]) ?? 0,
      updatedAt: num(e[5]) ?? 0,
      dueAt: num(e[6]),
      payloadSize: num(e[7]) ?? 0,
      payloadHead: buf(e[8]) ?? Buffer.alloc(0),
      lastError: str(e[9]),
    };
  });
  return { cursor: str(reply[0]) ?? '0', jobs };
}
