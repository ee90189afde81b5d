import { Job, JobState, Priority } from '../engine/job';
import { QueueState } from '../engine/queue-state';
import { CronSetRecord } from '../engine/records';
import { GroupLimits, NO_LIMITS, RateLimit, noLimits, rateFromFields } from '../engine/flow-limits';
import { CodecError, Kind, RECORD_TYPES, decodeValue, encodeFrame, encodeRecord, recordFromBody } from './record-codec';
import { FastReader, Interner } from './fast-reader';

/**
 * Snapshot frames (same framing as the log; codes 64.. so a snapshot frame
 * found in a log segment is reported as corruption). A snapshot file is:
 *
 *   header, queue*, group-config*, cron-set*, job*, end
 *
 * The end frame repeats the counts: a snapshot without it (or with other
 * counts) is incomplete and never loaded.
 */
export const SNAP_FORMAT = 1;
export const SNAP_HEADER = 64;
export const SNAP_QUEUE = 65;
export const SNAP_JOB = 66;
export const SNAP_END = 67;
/** cron entries are cron-set log records: today's code, and the one written before 0.2 (option words) */
const CRON_SET = RECORD_TYPES['cron-set'].code;
export const CRON_SET_WORDS = 12;

export interface SnapshotHeader {
  format: number;
  /** wall clock unix ms when the snapshot started */
  createdAt: number;
  /** the log segment that follows the snapshot */
  firstSegment: number;
  nextSeq: number;
  /** jobs in the store at the snapshot's point in time (all are written) */
  jobs: number;
}

export interface QueueMeta {
  name: string;
  paused: boolean;
  maxlen: number | null;
  concurrency: number | null;
  credit: number[];
  rate: RateLimit | null;
  groupDefaults: GroupLimits;
}

export function encodeHeader(h: SnapshotHeader): Buffer {
  return encodeFrame([SNAP_HEADER, h.format, h.createdAt, h.firstSegment, h.nextSeq, h.jobs]);
}

export function encodeQueue(q: QueueState | QueueMeta): Buffer {
  // fields added later go last: a frame of 7 or 8 (written before they existed) decodes as no limit
  const d = q.groupDefaults;
  return encodeFrame([
    SNAP_QUEUE,
    Buffer.from(q.name, 'latin1'),
    q.paused,
    q.maxlen,
    q.credit[0],
    q.credit[1],
    q.credit[2],
    q.concurrency,
    q.rate?.rate ?? null,
    q.rate?.per ?? null,
    d.concurrency,
    d.rate?.rate ?? null,
    d.rate?.per ?? null,
    d.maxlen,
  ]);
}

export function encodeCron(c: CronSetRecord): Buffer {
  return encodeRecord(c);
}

export function encodeEnd(jobs: number, queues: number, crons: number): Buffer {
  return encodeFrame([SNAP_END, jobs, queues, crons]);
}

const nullableBytes = (s: string | null) => (s === null ? null : Buffer.from(s, 'latin1'));

/**
 * Every persisted field of a job, and `prev`: the id of the job before it in
 * its state's list when it was written (nil at the head), from which the
 * reader rebuilds each list's order (see snapshot-order.ts). Not persisted:
 * list and heap links and `deadline` (rebuilt), `owner` (connections do not
 * survive a restart), the snapshot epoch.
 */
export function encodeJob(job: Job): Buffer {
  return encodeFrame([
    SNAP_JOB,
    job.prev === null ? null : Buffer.from(job.prev.id, 'latin1'),
    Buffer.from(job.id, 'latin1'),
    Buffer.from(job.queue, 'latin1'),
    Buffer.from(job.payload, 'latin1'),
    job.priority,
    job.createdAt,
    job.retries,
    job.backoffBase,
    job.backoffMax,
    job.lease,
    job.expiresAt,
    job.state,
    job.deliveries,
    job.updatedAt,
    job.runAt,
    job.leaseUntil,
    job.deliveryLease,
    job.finishedAt,
    nullableBytes(job.lastError),
    nullableBytes(job.result),
    Buffer.from(job.group, 'latin1'),
  ]);
}

/** the Job fields this codec handles; a test compares it with the Job class so a new field is not forgotten */
export const PERSISTED_JOB_FIELDS = [
  'id',
  'queue',
  'payload',
  'priority',
  'createdAt',
  'retries',
  'backoffBase',
  'backoffMax',
  'lease',
  'expiresAt',
  'state',
  'deliveries',
  'updatedAt',
  'runAt',
  'leaseUntil',
  'deliveryLease',
  'finishedAt',
  'lastError',
  'result',
  'group',
  // the shared object behind retries/backoffBase/backoffMax/lease, persisted through those four
  'policy',
] as const;
export const RUNTIME_JOB_FIELDS = ['prev', 'next', 'gprev', 'gnext', 'heapIndex', 'deadline', 'owner', 'listSeq'] as const;

/** a job frame: 22 fields; 21 when written before groups existed (no group) */
const JOB_FIELDS = 22;
const JOB_FIELDS_V0 = 21;

function num(v: unknown): number {
  return decodeValue(v, Kind.Num) as number;
}

export function jobFromBody(b: unknown[]): { prev: string | null; job: Job } {
  if (b.length !== JOB_FIELDS && b.length !== JOB_FIELDS_V0) throw new CodecError(`job frame with ${b.length} fields, expected ${JOB_FIELDS}`);
  const state = num(b[12]);
  const priority = num(b[5]);
  if (state < JobState.Ready || state > JobState.Cancelled || !Number.isInteger(state)) throw new CodecError(`bad job state ${state}`);
  if (priority !== 0 && priority !== 1 && priority !== 2) throw new CodecError(`bad priority ${priority}`);
  const job = new Job(
    decodeValue(b[2], Kind.Bytes) as string,
    decodeValue(b[3], Kind.Bytes) as string,
    decodeValue(b[4], Kind.Bytes) as string,
    priority as Priority,
    num(b[6]),
    num(b[7]),
    num(b[8]),
    num(b[9]),
    num(b[10]),
    num(b[11]),
  );
  job.state = state as JobState;
  job.deliveries = num(b[13]);
  job.updatedAt = num(b[14]);
  job.runAt = num(b[15]);
  job.leaseUntil = num(b[16]);
  job.deliveryLease = num(b[17]);
  job.finishedAt = num(b[18]);
  job.lastError = decodeValue(b[19], Kind.BytesOrNull) as string | null;
  job.result = decodeValue(b[20], Kind.BytesOrNull) as string | null;
  if (b.length > JOB_FIELDS_V0) job.group = decodeValue(b[21], Kind.Bytes) as string;
  return { prev: decodeValue(b[1], Kind.BytesOrNull) as string | null, job };
}

const reader = new FastReader();
const queueNames = new Interner();
/** group keys repeat across a tenant's jobs: one string each */
const groupKeys = new Interner();

/** the prev id of the last job readJobFrame returned */
export let lastPrev: string | null = null;

/** a job frame read straight from the buffer (fast-reader.ts), its prev in lastPrev; null if it is not one it reads (use decodeBody + jobFromBody) */
export function readJobFrame(buf: Buffer, start: number, end: number): Job | null {
  const r = reader;
  const head = r.start(buf, start, end);
  if (!head || head.code !== SNAP_JOB || (head.length !== JOB_FIELDS && head.length !== JOB_FIELDS_V0)) return null;
  const prev = r.field(Kind.BytesOrNull) as string | null | undefined;
  const id = r.field(Kind.Bytes) as string | undefined;
  const queue = r.field(Kind.Bytes, queueNames) as string | undefined;
  const payload = r.field(Kind.Bytes) as string | undefined;
  const priority = r.field(Kind.Num) as number | undefined;
  const createdAt = r.field(Kind.Num) as number | undefined;
  const retries = r.field(Kind.Num) as number | undefined;
  const backoffBase = r.field(Kind.Num) as number | undefined;
  const backoffMax = r.field(Kind.Num) as number | undefined;
  const lease = r.field(Kind.Num) as number | undefined;
  const expiresAt = r.field(Kind.Num) as number | undefined;
  const state = r.field(Kind.Num) as number | undefined;
  const deliveries = r.field(Kind.Num) as number | undefined;
  const updatedAt = r.field(Kind.Num) as number | undefined;
  const runAt = r.field(Kind.Num) as number | undefined;
  const leaseUntil = r.field(Kind.Num) as number | undefined;
  const deliveryLease = r.field(Kind.Num) as number | undefined;
  const finishedAt = r.field(Kind.Num) as number | undefined;
  const lastError = r.field(Kind.BytesOrNull) as string | null | undefined;
  const result = r.field(Kind.BytesOrNull) as string | null | undefined;
  const group = head.length > JOB_FIELDS_V0 ? (r.field(Kind.Bytes, groupKeys) as string | undefined) : '';
  if (
    group === undefined ||
    result === undefined ||
    lastError === undefined ||
    finishedAt === undefined ||
    deliveryLease === undefined ||
    leaseUntil === undefined ||
    runAt === undefined ||
    updatedAt === undefined ||
    deliveries === undefined ||
    state === undefined ||
    expiresAt === undefined ||
    lease === undefined ||
    backoffMax === undefined ||
    backoffBase === undefined ||
    retries === undefined ||
    createdAt === undefined ||
    priority === undefined ||
    payload === undefined ||
    queue === undefined ||
    id === undefined ||
    prev === undefined ||
    !r.done
  ) {
    return null;
  }
  if ((priority !== 0 && priority !== 1 && priority !== 2) || !(state >= JobState.Ready && state <= JobState.Cancelled && Number.isInteger(state))) return null;
  const job = new Job(id, queue, payload, priority, createdAt, retries, backoffBase, backoffMax, lease, expiresAt);
  job.state = state as JobState;
  job.deliveries = deliveries;
  job.updatedAt = updatedAt;
  job.runAt = runAt;
  job.leaseUntil = leaseUntil;
  job.deliveryLease = deliveryLease;
  job.finishedAt = finishedAt;
  job.lastError = lastError;
  job.result = result;
  job.group = group;
  lastPrev = prev;
  return job;
}

export function headerFromBody(b: unknown[]): SnapshotHeader {
  if (b.length !== 6) throw new CodecError('bad snapshot header');
  return { format: num(b[1]), createdAt: num(b[2]), firstSegment: num(b[3]), nextSeq: num(b[4]), jobs: num(b[5]) };
}

export function queueFromBody(b: unknown[]): QueueMeta {
  if (b.length !== 7 && b.length !== 8 && b.length !== 14) throw new CodecError('bad queue frame');
  const orNull = (i: number) => (b.length > i ? (decodeValue(b[i], Kind.NumOrNull) as number | null) : null);
  const defaults = { concurrency: orNull(10), rate: rateFromFields(orNull(11), orNull(12)), maxlen: orNull(13) };
  return {
    rate: rateFromFields(orNull(8), orNull(9)),
    groupDefaults: noLimits(defaults) ? NO_LIMITS : defaults,
    name: decodeValue(b[1], Kind.Bytes) as string,
    paused: decodeValue(b[2], Kind.Bool) as boolean,
    maxlen: decodeValue(b[3], Kind.NumOrNull) as number | null,
    concurrency: b.length > 7 ? (decodeValue(b[7], Kind.NumOrNull) as number | null) : null,
    credit: [num(b[4]), num(b[5]), num(b[6])],
  };
}

export function cronFromBody(b: unknown[]): CronSetRecord {
  const rec = recordFromBody(b);
  if (rec.type !== 'cron-set') throw new CodecError('bad cron frame');
  return rec;
}

export function endFromBody(b: unknown[]): { jobs: number; queues: number; crons: number } {
  if (b.length !== 4) throw new CodecError('bad end frame');
  return { jobs: num(b[1]), queues: num(b[2]), crons: num(b[3]) };
}

export { CRON_SET };
