import { Job, JobState, Priority } from '../engine/job';
import { JobKey, numberKeyAt } from '../engine/job-key';
import { QueueState } from '../engine/queue-state';
import { payloads } from '../engine/payload-arena';
import { CronSetRecord } from '../engine/records';
import { GroupLimits, NO_LIMITS, RateLimit, noLimits, rateFromFields } from '../engine/flow-limits';
import {
  CodecError,
  FRAME_HEADER,
  Kind,
  RECORD_TYPES,
  decodeValue,
  encodeFrame,
  encodeRecord,
  recordFromBody,
  sealFrame,
  writeBin,
  writeBytes,
  writeNumber,
} from './record-codec';
import { Interner } from './fast-reader';
import { FrameArena } from './frame-arena';

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
  const prev = job.prev === null ? null : job.prev.id;
  const id = job.id;
  const queue = job.queue;
  const payload = job.payloadBytes();
  const lastError = job.lastError;
  const result = job.result;
  const group = job.group;
  // the frame and array16 headers, the code, 7 byte fields with their largest header, 15 numbers as float64 at most
  const room =
    FRAME_HEADER +
    4 +
    7 * 5 +
    15 * 9 +
    (prev?.length ?? 0) +
    id.length +
    queue.length +
    payload.length +
    (lastError?.length ?? 0) +
    (result?.length ?? 0) +
    group.length;
  jobFrames.reserve(room);
  const buf = jobFrames.buf;
  const start = jobFrames.pos;
  let p = start + FRAME_HEADER;
  buf[p++] = 0xdc; // array16: 22 elements
  buf[p++] = 0;
  buf[p++] = JOB_FIELDS;
  buf[p++] = SNAP_JOB; // a positive fixint
  p = prev === null ? nil(buf, p) : writeBytes(buf, p, prev);
  p = writeBytes(buf, p, id);
  p = writeBytes(buf, p, queue);
  p = writeBin(buf, p, payload);
  p = writeNumber(buf, p, job.priority);
  p = writeNumber(buf, p, job.createdAt);
  p = writeNumber(buf, p, job.retries);
  p = writeNumber(buf, p, job.backoffBase);
  p = writeNumber(buf, p, job.backoffMax);
  p = writeNumber(buf, p, job.lease);
  p = writeNumber(buf, p, job.expiresAt);
  p = writeNumber(buf, p, job.state);
  p = writeNumber(buf, p, job.deliveries);
  p = writeNumber(buf, p, job.updatedAt);
  p = writeNumber(buf, p, job.runAt);
  p = writeNumber(buf, p, job.leaseUntil);
  p = writeNumber(buf, p, job.deliveryLease);
  p = writeNumber(buf, p, job.finishedAt);
  p = lastError === null ? nil(buf, p) : writeBytes(buf, p, lastError);
  p = result === null ? nil(buf, p) : writeBytes(buf, p, result);
  p = writeBytes(buf, p, group);
  sealFrame(buf, start, p);
  jobFrames.pos = p;
  return buf.subarray(start, p);
}

function nil(buf: Buffer, p: number): number {
  buf[p] = 0xc0;
  return p + 1;
}

/**
 * Job frames are written by hand into this arena (a snapshot is nearly all
 * job frames): the same bytes msgpackr writes for the same fields
 * (encodeJobMsgpackr, compared in test/persistence-codec.test.ts), without
 * its generic walk or a Buffer per byte field. Not the log's arena: log
 * frames must follow one another there.
 */
const jobFrames = new FrameArena(256 * 1024);

/** encodeJob through msgpackr: the reference the hand encoder must match byte for byte */
export function encodeJobMsgpackr(job: Job): Buffer {
  return encodeFrame([
    SNAP_JOB,
    job.prev === null ? null : Buffer.from(job.prev.id, 'latin1'),
    Buffer.from(job.id, 'latin1'),
    Buffer.from(job.queue, 'latin1'),
    job.payloadBytes(),
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
  try {
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
  } catch (e) {
    job.releasePayload(); // a damaged frame: nobody else will hold this job to free its arena slot
    throw e;
  }
}

const queueNames = new Interner();
/** group keys repeat across a tenant's jobs: one string each */
const groupKeys = new Interner();

// ---- the job frame read straight from the buffer ---------------------------------
// A snapshot is nearly all job frames, so they are read here field by field with the
// encodings msgpackr writes inline (no per-field dispatch, no value boxed on the way,
// no string for a prev id that is only compared). Anything else makes readJobFrame
// answer null and the caller decodes the frame with msgpackr (decodeBody + jobFromBody).

/** the position after the value num/bin just read, or -1 if it was not one they read */
let at = 0;
let viewOf: Buffer | null = null;
let view: DataView = new DataView(new ArrayBuffer(8));

function dataView(buf: Buffer): DataView {
  if (buf !== viewOf) {
    viewOf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return view;
}

/** msgpack's float 64 marker */
const FLOAT64 = 0xcb;

/** a msgpack number at p (ints of every width, float 32/64) */
function readNum(buf: Buffer, d: DataView, p: number, end: number): number {
  if (p < end) {
    const b = buf[p];
    if (b <= 0x7f) {
      at = p + 1;
      return b;
    }
    if (b >= 0xe0) {
      at = p + 1;
      return b - 0x100;
    }
    switch (b) {
      case 0xcb:
        if (p + 9 > end) break;
        at = p + 9;
        return d.getFloat64(p + 1);
      case 0xcc:
        if (p + 2 > end) break;
        at = p + 2;
        return buf[p + 1];
      case 0xcd:
        if (p + 3 > end) break;
        at = p + 3;
        return d.getUint16(p + 1);
      case 0xce:
        if (p + 5 > end) break;
        at = p + 5;
        return d.getUint32(p + 1);
      case 0xcf:
        if (p + 9 > end) break;
        at = p + 9;
        return d.getUint32(p + 1) * 0x1_0000_0000 + d.getUint32(p + 5);
      case 0xd0:
        if (p + 2 > end) break;
        at = p + 2;
        return d.getInt8(p + 1);
      case 0xd1:
        if (p + 3 > end) break;
        at = p + 3;
        return d.getInt16(p + 1);
      case 0xd2:
        if (p + 5 > end) break;
        at = p + 5;
        return d.getInt32(p + 1);
      case 0xd3:
        if (p + 9 > end) break;
        at = p + 9;
        return d.getInt32(p + 1) * 0x1_0000_0000 + d.getUint32(p + 5);
      case 0xca:
        if (p + 5 > end) break;
        at = p + 5;
        return d.getFloat32(p + 1);
    }
  }
  at = -1;
  return 0;
}

/** a msgpack bin at p: returns where its bytes start (they end at `at`), or -1 */
function bin(buf: Buffer, d: DataView, p: number, end: number): number {
  if (p + 2 <= end) {
    const b = buf[p];
    let s = -1;
    let len = 0;
    if (b === 0xc4) {
      len = buf[p + 1];
      s = p + 2;
    } else if (b === 0xc5) {
      if (p + 3 <= end) {
        len = d.getUint16(p + 1);
        s = p + 3;
      }
    } else if (b === 0xc6) {
      if (p + 5 <= end) {
        len = d.getUint32(p + 1);
        s = p + 5;
      }
    }
    if (s >= 0 && s + len <= end) {
      at = s + len;
      return s;
    }
  }
  at = -1;
  return -1;
}

/** bin or nil at p: -2 for nil (at = p + 1), else as bin */
function binOrNil(buf: Buffer, d: DataView, p: number, end: number): number {
  if (p < end && buf[p] === 0xc0) {
    at = p + 1;
    return -2;
  }
  return bin(buf, d, p, end);
}

type Latin1Buffer = Buffer & { latin1Slice?: (start: number, end: number) => string };

function latin1(buf: Buffer, s: number, e: number): string {
  const b = buf as Latin1Buffer;
  return b.latin1Slice ? b.latin1Slice(s, e) : buf.toString('latin1', s, e);
}

/** where the prev id of the job readJobFrame returned last lies (prevStart -1: nil) */
let prevBuf: Buffer = Buffer.alloc(0);
let prevStart = -1;
let prevEnd = -1;

/** the prev id of the job readJobFrame returned last */
export function lastPrev(): string | null {
  return prevStart < 0 ? null : latin1(prevBuf, prevStart, prevEnd);
}

/** whether the prev id of the job readJobFrame returned last is the id of `key` (compared in place, no string made) */
export function lastPrevIs(key: JobKey | null): boolean {
  if (prevStart < 0) return key === null;
  if (typeof key === 'number') return numberKeyAt(prevBuf, prevStart, prevEnd) === key;
  const id = key;
  const n = prevEnd - prevStart;
  if (id === null || id.length !== n) return false;
  const b = prevBuf;
  const s = prevStart;
  for (let i = 0; i < n; i++) if (id.charCodeAt(i) !== b[s + i]) return false;
  return true;
}

/** a job frame read straight from the buffer, its prev through lastPrev/lastPrevIs; null if it is not one it reads (use decodeBody + jobFromBody) */
export function readJobFrame(buf: Buffer, start: number, end: number): Job | null {
  // [66, ...21 fields] (20 before groups): an array16 header (> 15 elements), then the fixint code
  const fields = buf[start + 2];
  if (start + 4 > end || buf[start] !== 0xdc || buf[start + 1] !== 0 || (fields !== JOB_FIELDS && fields !== JOB_FIELDS_V0) || buf[start + 3] !== SNAP_JOB)
    return null;
  const d = dataView(buf);
  const ps = binOrNil(buf, d, start + 4, end);
  if (at < 0) return null;
  const pe = at;
  const is = bin(buf, d, at, end);
  if (is < 0) return null;
  const ie = at;
  const qs = bin(buf, d, at, end);
  if (qs < 0) return null;
  const qe = at;
  const ys = bin(buf, d, at, end);
  if (ys < 0) return null;
  const ye = at;
  const priority = readNum(buf, d, at, end);
  if (at < 0) return null;
  // the two timestamps (float64) read here, not by readNum: its result would be a boxed number,
  // 16 bytes of garbage per field and job, as V8 inlines few of its calls into this function
  let createdAt: number;
  if (buf[at] === FLOAT64 && at + 9 <= end) {
    createdAt = d.getFloat64(at + 1);
    at += 9;
  } else createdAt = readNum(buf, d, at, end);
  if (at < 0) return null;
  const retries = readNum(buf, d, at, end);
  if (at < 0) return null;
  const backoffBase = readNum(buf, d, at, end);
  if (at < 0) return null;
  const backoffMax = readNum(buf, d, at, end);
  if (at < 0) return null;
  const lease = readNum(buf, d, at, end);
  if (at < 0) return null;
  const expiresAt = readNum(buf, d, at, end);
  if (at < 0) return null;
  const state = readNum(buf, d, at, end);
  if (at < 0) return null;
  const deliveries = readNum(buf, d, at, end);
  if (at < 0) return null;
  let updatedAt: number;
  if (buf[at] === FLOAT64 && at + 9 <= end) {
    updatedAt = d.getFloat64(at + 1);
    at += 9;
  } else updatedAt = readNum(buf, d, at, end);
  if (at < 0) return null;
  const runAt = readNum(buf, d, at, end);
  if (at < 0) return null;
  const leaseUntil = readNum(buf, d, at, end);
  if (at < 0) return null;
  const deliveryLease = readNum(buf, d, at, end);
  if (at < 0) return null;
  const finishedAt = readNum(buf, d, at, end);
  if (at < 0) return null;
  const es = binOrNil(buf, d, at, end);
  if (at < 0) return null;
  const ee = at;
  const rs = binOrNil(buf, d, at, end);
  if (at < 0) return null;
  const re = at;
  let gs = -1;
  if (fields === JOB_FIELDS) {
    gs = bin(buf, d, at, end);
    if (gs < 0) return null;
  }
  if (at !== end) return null;
  if ((priority !== 0 && priority !== 1 && priority !== 2) || !(state >= JobState.Ready && state <= JobState.Cancelled && Number.isInteger(state))) return null;
  const key = numberKeyAt(buf, is, ie);
  const job = new Job(
    key >= 0 ? key : latin1(buf, is, ie),
    queueNames.get(buf, qs, qe),
    payloads.storeBytes(buf, ys, ye),
    priority,
    createdAt,
    retries,
    backoffBase,
    backoffMax,
    lease,
    expiresAt,
  );
  job.state = state as JobState;
  job.deliveries = deliveries;
  if (updatedAt !== createdAt) job.updatedAt = updatedAt; // else the default: no call with a boxed time
  job.runAt = runAt;
  job.leaseUntil = leaseUntil;
  job.deliveryLease = deliveryLease;
  job.finishedAt = finishedAt;
  if (es >= 0) job.lastError = latin1(buf, es, ee);
  if (rs >= 0) job.result = latin1(buf, rs, re);
  if (gs >= 0 && end > gs) job.group = groupKeys.get(buf, gs, end);
  prevBuf = buf;
  prevStart = ps < 0 ? -1 : ps;
  prevEnd = pe;
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
