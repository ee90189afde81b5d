import type * as Msgpackr from 'msgpackr';
import type { EnqueueOptions } from '../engine/engine';
import { LogRecord, RecordType } from '../engine/records';
import { enqueueOptionsFromWords } from '../rules/enqueue-options';
import { crc32Int } from './crc32';
import { FrameArena } from './frame-arena';
import { FastReader, Interner } from './fast-reader';
import { Kind } from './field-kind';

export { Kind };

/**
 * Log records <-> bytes.
 *
 * Frame: [u32le body length][u32le CRC32 of the body][body]. The same frames
 * are used in log segments and snapshots.
 *
 * Body: a msgpack array [typeCode, ...fields], the fields in the fixed order
 * of the table below. The table is our "shared structure": it is fixed at
 * compile time, so field names never go to disk and no msgpackr structure
 * definitions need persisting (useRecords is off; a record is a plain array).
 * A new field goes at the END of its type's list (old frames then decode with
 * it missing), a new record type gets a new code; codes are never reused.
 *
 * Byte strings (ids, queue names, payloads, results, errors: JS strings with
 * char codes 0..255) are written as msgpack `bin` from Buffer.from(s,
 * 'latin1') and read back with latin1: raw bytes, never base64 or JSON.
 */

export const FRAME_HEADER = 8;
/** a body longer than this is taken as a damaged length field */
export const MAX_BODY = 0x7fff_ffff;

type FieldSpec = readonly [name: string, kind: Kind, missing?: unknown];

interface TypeSpec {
  readonly code: number;
  readonly fields: readonly FieldSpec[];
}

/**
 * type -> code and fields. Codes 1..63 are log records; 64.. are snapshot
 * frames (snapshot-codec.ts). A field added later goes at the end with the
 * value an older frame without it decodes to (the third element).
 */
const TABLE = {
  enqueue: {
    code: 1,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
      ['seq', Kind.Num],
      ['queue', Kind.Bytes],
      ['payload', Kind.Bytes],
      ['priority', Kind.Num],
      ['runAt', Kind.Num],
      ['retries', Kind.Num],
      ['backoffBase', Kind.Num],
      ['backoffMax', Kind.Num],
      ['lease', Kind.Num],
      ['expiresAt', Kind.Num],
      ['group', Kind.Bytes, ''],
    ],
  },
  claim: {
    code: 2,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
      ['leaseUntil', Kind.Num],
      ['deliveryLease', Kind.Num],
    ],
  },
  ack: {
    code: 3,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
      ['result', Kind.BytesOrNull],
    ],
  },
  nack: {
    code: 4,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
      ['to', Kind.Num],
      ['runAt', Kind.Num],
      ['error', Kind.BytesOrNull],
    ],
  },
  touch: {
    code: 5,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
      ['leaseUntil', Kind.Num],
    ],
  },
  'lease-lost': {
    code: 6,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
      ['to', Kind.Num],
      ['reason', Kind.Str],
    ],
  },
  'ttl-expired': {
    code: 7,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
    ],
  },
  cancel: {
    code: 8,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
    ],
  },
  requeue: {
    code: 9,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
    ],
  },
  purge: {
    code: 10,
    fields: [
      ['at', Kind.Num],
      ['queue', Kind.Bytes],
      ['what', Kind.Str],
    ],
  },
  'queue-config': {
    code: 11,
    fields: [
      ['at', Kind.Num],
      ['queue', Kind.Bytes],
      ['maxlen', Kind.NumOrNull],
      ['paused', Kind.Bool],
      ['concurrency', Kind.NumOrNull, null],
      ['rate', Kind.NumOrNull, null],
      ['ratePer', Kind.NumOrNull, null],
      ['groupConcurrency', Kind.NumOrNull, null],
      ['groupRate', Kind.NumOrNull, null],
      ['groupRatePer', Kind.NumOrNull, null],
      ['groupMaxlen', Kind.NumOrNull, null],
    ],
  },
  'group-config': {
    code: 18,
    fields: [
      ['at', Kind.Num],
      ['queue', Kind.Bytes],
      ['group', Kind.Bytes],
      ['concurrency', Kind.NumOrNull],
      ['rate', Kind.NumOrNull],
      ['ratePer', Kind.NumOrNull],
      ['maxlen', Kind.NumOrNull],
    ],
  },
  // code 12 was cron-set with the ENQUEUE option words (see LEGACY below)
  'cron-set': {
    code: 15,
    fields: [
      ['at', Kind.Num],
      ['name', Kind.Bytes],
      ['expression', Kind.Str],
      ['timezone', Kind.Str],
      ['queue', Kind.Bytes],
      ['payload', Kind.Bytes],
      ['options', Kind.Options],
      ['nextRunAt', Kind.Num],
    ],
  },
  'queue-delete': {
    code: 16,
    fields: [
      ['at', Kind.Num],
      ['queue', Kind.Bytes],
    ],
  },
  'cron-del': {
    code: 13,
    fields: [
      ['at', Kind.Num],
      ['name', Kind.Bytes],
    ],
  },
  'cron-run': {
    code: 14,
    fields: [
      ['at', Kind.Num],
      ['name', Kind.Bytes],
      ['nextRunAt', Kind.Num],
    ],
  },
  promote: {
    code: 17,
    fields: [
      ['at', Kind.Num],
      ['id', Kind.Bytes],
    ],
  },
} as const;

// Compile-time check that the table names every field of every record type:
// a field added to a record in records.ts without a place here fails the build
// with its name, instead of being silently dropped from the log.
type FieldsOf<T extends RecordType> = Exclude<keyof Extract<LogRecord, { type: T }>, 'type'>;
type Unlisted = { [T in RecordType]: Exclude<FieldsOf<T>, (typeof TABLE)[T]['fields'][number][0]> }[RecordType];
const everyFieldListed: [Unlisted] extends [never] ? true : { unlistedField: Unlisted } = true;
void everyFieldListed;

export const RECORD_TYPES: { readonly [T in RecordType]: TypeSpec } = TABLE;

interface CodeSpec {
  type: RecordType;
  fields: readonly FieldSpec[];
  required: number;
  /** turns a record of an older layout into today's */
  upgrade?: (rec: Record<string, unknown>) => void;
}

/** cron-set as written before 0.2: the ENQUEUE options as words, parsed once here when loaded */
const CRON_SET_WORDS: FieldSpec[] = [
  ['at', Kind.Num],
  ['name', Kind.Bytes],
  ['expression', Kind.Str],
  ['timezone', Kind.Str],
  ['queue', Kind.Bytes],
  ['payload', Kind.Bytes],
  ['options', Kind.BytesList],
  ['nextRunAt', Kind.Num, 0],
];

function upgradeCronWords(rec: Record<string, unknown>): void {
  try {
    rec.options = enqueueOptionsFromWords(rec.options as string[], 0).options;
  } catch (e) {
    throw new CodecError(`cron-set.options: ${(e as Error).message}`);
  }
}

const BY_CODE: Array<CodeSpec | undefined> = [];
function addCode(code: number, type: RecordType, fields: readonly FieldSpec[], upgrade?: CodeSpec['upgrade']): void {
  let required = fields.length;
  while (required > 0 && fields[required - 1].length > 2) required--;
  BY_CODE[code] = { type, fields, required, upgrade };
}
for (const [type, spec] of Object.entries(RECORD_TYPES)) addCode(spec.code, type as RecordType, spec.fields);
addCode(12, 'cron-set', CRON_SET_WORDS, upgradeCronWords);

export class CodecError extends Error {}

// ---- values -------------------------------------------------------------

export function encodeValue(v: unknown, kind: Kind): unknown {
  switch (kind) {
    case Kind.Bytes:
      return Buffer.from(v as string, 'latin1');
    case Kind.BytesOrNull:
      return v === null || v === undefined ? null : Buffer.from(v as string, 'latin1');
    case Kind.BytesList:
      return (v as string[]).map((s) => Buffer.from(s, 'latin1'));
    case Kind.Options: {
      const o = v as EnqueueOptions;
      const list: unknown[] = OPTION_KEYS.map((k) => o[k] ?? null);
      if (o.group !== undefined) list.push(Buffer.from(o.group, 'latin1'));
      return list;
    }
    default:
      return v;
  }
}

/** EnqueueOptions on disk: these fields in this order, nil for an absent one (ID is never stored: each run gets its own) */
const OPTION_KEYS = ['priority', 'delay', 'at', 'retries', 'backoffBase', 'backoffMax', 'lease', 'ttl'] as const;
/** fields added later go after OPTION_KEYS (an older list is shorter); GROUP is a byte string */
const OPTION_GROUP = OPTION_KEYS.length;

function decodeOptions(v: unknown): EnqueueOptions {
  if (!Array.isArray(v) || v.length < OPTION_KEYS.length || v.length > OPTION_GROUP + 1) throw new CodecError('expected the option list');
  const o: Record<string, number | string> = {};
  OPTION_KEYS.forEach((k, i) => {
    if (v[i] === null) return;
    if (typeof v[i] !== 'number') throw new CodecError(`option ${k}: expected a number or nil`);
    o[k] = v[i];
  });
  if (v.length > OPTION_GROUP) o.group = latin1(v[OPTION_GROUP]);
  return o as EnqueueOptions;
}

function latin1(v: unknown): string {
  if (!(v instanceof Uint8Array)) throw new CodecError('expected bytes');
  return (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)).toString('latin1');
}

export function decodeValue(v: unknown, kind: Kind): unknown {
  switch (kind) {
    case Kind.Bytes:
      return latin1(v);
    case Kind.BytesOrNull:
      return v === null ? null : latin1(v);
    case Kind.Num:
      if (typeof v !== 'number') throw new CodecError('expected a number');
      return v;
    case Kind.NumOrNull:
      if (v !== null && typeof v !== 'number') throw new CodecError('expected a number or nil');
      return v;
    case Kind.Str:
      if (typeof v !== 'string') throw new CodecError('expected a string');
      return v;
    case Kind.Bool:
      if (typeof v !== 'boolean') throw new CodecError('expected a boolean');
      return v;
    case Kind.BytesList:
      if (!Array.isArray(v)) throw new CodecError('expected a list');
      return v.map(latin1);
    case Kind.Options:
      return decodeOptions(v);
  }
}

// ---- frames -------------------------------------------------------------

let msgpackrCodecs: { packr: Msgpackr.Packr; unpackr: Msgpackr.Unpackr; reserveStart: number } | null = null;
/**
 * msgpackr, loaded on first use: with its native add-on it is a fair part of
 * start-up (bench/results/perf-step-13-restart.md), and the hand encoder and
 * fast readers below leave it little to do.
 */
function msgpackr(): NonNullable<typeof msgpackrCodecs> {
  if (msgpackrCodecs === null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('msgpackr') as typeof Msgpackr;
    msgpackrCodecs = {
      packr: new m.Packr({ useRecords: false, variableMapSize: true }),
      unpackr: new m.Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' }),
      reserveStart: m.RESERVE_START_SPACE,
    };
  }
  return msgpackrCodecs;
}

/** one frame for a positional body (header filled in, CRC computed) */
export function encodeFrame(body: unknown[]): Buffer {
  // msgpackr reserves the 8 header bytes in front of the body: no copy
  const { packr, reserveStart } = msgpackr();
  const buf = packr.pack(body, reserveStart | FRAME_HEADER);
  const len = buf.length - FRAME_HEADER;
  buf.writeUInt32LE(len, 0);
  buf.writeInt32LE(crc32Int(buf, FRAME_HEADER, buf.length), 4);
  return buf;
}

export function encodeRecord(rec: LogRecord): Buffer {
  const spec = RECORD_TYPES[rec.type];
  if (!spec) throw new CodecError(`unknown record type ${String(rec.type)}`);
  const fast = FAST_TYPES[spec.code];
  if (fast && encodeFast(rec as unknown as Record<string, unknown>, spec, fast)) return arena.buf.subarray(frameStart, frameEnd);
  return encodeRecordMsgpackr(rec);
}

/**
 * The log's encoder: writes the frame of rec at the end of the shared arena
 * (a record the hand encoder does not take is encoded by msgpackr and copied
 * there) and returns the arena; the frame is [frameStart, frameEnd) of it.
 * No Buffer per record: frames appended one after the other are one run of
 * the arena, which the log writes as it is (append-log.ts).
 */
export function encodeRecordToArena(rec: LogRecord): Buffer {
  const spec = RECORD_TYPES[rec.type];
  if (!spec) throw new CodecError(`unknown record type ${String(rec.type)}`);
  const fast = FAST_TYPES[spec.code];
  if (fast && encodeFast(rec as unknown as Record<string, unknown>, spec, fast)) return arena.buf;
  const frame = encodeRecordMsgpackr(rec);
  arena.reserve(frame.length);
  frame.copy(arena.buf, arena.pos);
  frameStart = arena.pos;
  frameEnd = arena.pos += frame.length;
  return arena.buf;
}

/** encodeRecord through msgpackr alone (the reference the hand encoder must match byte for byte) */
export function encodeRecordMsgpackr(rec: LogRecord): Buffer {
  const spec = RECORD_TYPES[rec.type];
  if (!spec) throw new CodecError(`unknown record type ${String(rec.type)}`);
  const fields = spec.fields;
  const body: unknown[] = new Array(fields.length + 1);
  body[0] = spec.code;
  const r = rec as unknown as Record<string, unknown>;
  for (let i = 0; i < fields.length; i++) body[i + 1] = encodeValue(r[fields[i][0]], fields[i][1]);
  return encodeFrame(body);
}

// ---- the hot path: records of plain numbers and byte strings ---------------

/**
 * Records whose fields are all numbers and byte strings (enqueue, claim, ack,
 * nack, touch, ...: nearly every record of live traffic) are encoded by hand
 * straight into a shared arena, skipping the body array, one Buffer per
 * byte string and msgpackr's generic walk. The bytes are exactly the ones
 * msgpackr writes for the same body (useRecords off, no float32): the same
 * smallest integer forms, float64 for the rest, bin8/16/32 for bytes
 * (test/persistence-codec.test.ts compares the two). A frame is a slice of
 * the arena, which is never rewritten (frame-arena.ts).
 */
const FAST_TYPES: Array<FastEncoder | undefined> = [];

/** a record type's fields as straight-line code: how many bytes they may take, and writing them (-1: a value it does not take) */
interface FastEncoder {
  room(rec: unknown): number;
  write(rec: unknown, buf: Buffer, p: number): number;
}

/**
 * Built once per record type from its field table, so each field is read by
 * its name: a load V8 caches per record shape. A loop over the table reads
 * rec[name] with a name that changes every iteration, a lookup shared by all
 * record types and slower (bench/record-encode-bench.ts). The names come from
 * RECORD_TYPES, never from input.
 */
function compileFast(fields: readonly FieldSpec[]): FastEncoder {
  const room: string[] = [];
  const write: string[] = [];
  for (const [name, kind] of fields) {
    const v = `r[${JSON.stringify(name)}]`;
    room.push(`v = ${v}; n += typeof v === 'string' ? 5 + v.length : 9;`);
    const nil = kind === Kind.NumOrNull || kind === Kind.BytesOrNull ? ` else if (v === null || v === undefined) buf[p++] = 0xc0;` : '';
    const type = kind === Kind.Num || kind === Kind.NumOrNull ? 'number' : 'string';
    const put = type === 'number' ? 'p = writeNumber(buf, p, v);' : 'p = writeBytes(buf, p, v);';
    write.push(`v = ${v}; if (typeof v === '${type}') ${put}${nil} else return -1;`);
  }
  const make = new Function(
    'writeNumber',
    'writeBytes',
    `return {
    room(r) { let v; let n = ${FRAME_HEADER + 1}; ${room.join(' ')} return n; },
    write(r, buf, p) { let v; ${write.join(' ')} return p; },
  };`,
  ) as (wn: typeof writeNumber, wb: typeof writeBytes) => FastEncoder;
  return make(writeNumber, writeBytes);
}

for (const spec of Object.values(RECORD_TYPES)) {
  if (
    spec.fields.length < 15 &&
    spec.fields.every(([, kind]) => kind === Kind.Num || kind === Kind.NumOrNull || kind === Kind.Bytes || kind === Kind.BytesOrNull)
  ) {
    FAST_TYPES[spec.code] = compileFast(spec.fields);
  }
}

/** the log's frames (the log writes frames that follow one another there as one run: append-log.ts) */
const arena = new FrameArena(256 * 1024);
/** where the last frame encoded into the arena begins and ends */
export let frameStart = 0;
export let frameEnd = 0;

function encodeFast(rec: Record<string, unknown>, spec: TypeSpec, enc: FastEncoder): boolean {
  arena.reserve(enc.room(rec));
  const buf = arena.buf;
  const start = arena.pos;
  let p = start + FRAME_HEADER;
  buf[p++] = 0x90 | (spec.fields.length + 1);
  buf[p++] = spec.code; // codes < 0x80: a positive fixint
  p = enc.write(rec, buf, p);
  if (p < 0) return false;
  sealFrame(buf, start, p);
  arena.pos = p;
  frameStart = start;
  frameEnd = p;
  return true;
}

/** writes the header of the frame whose body was written at start + FRAME_HEADER up to end: its length and CRC */
export function sealFrame(buf: Buffer, start: number, end: number): void {
  buf.writeUInt32LE(end - start - FRAME_HEADER, start);
  buf.writeInt32LE(crc32Int(buf, start + FRAME_HEADER, end), start + 4);
}

/** a msgpack bin8/16/32 header for `len` bytes */
function writeBinHeader(buf: Buffer, p: number, len: number): number {
  if (len < 0x100) {
    buf[p++] = 0xc4;
    buf[p++] = len;
  } else if (len < 0x10000) {
    buf[p++] = 0xc5;
    buf[p++] = len >> 8;
    buf[p++] = len & 0xff;
  } else {
    buf[p++] = 0xc6;
    buf.writeUInt32BE(len, p);
    p += 4;
  }
  return p;
}

/** bytes as msgpack bin, as msgpackr writes a Buffer */
export function writeBin(buf: Buffer, p: number, v: Buffer): number {
  p = writeBinHeader(buf, p, v.length);
  return p + v.copy(buf, p);
}

/** a byte string as msgpack bin8/16/32 */
export function writeBytes(buf: Buffer, p: number, v: string): number {
  const len = v.length;
  p = writeBinHeader(buf, p, len);
  // ids, queue names, group keys: a call into C++ costs more than copying a few chars here
  if (len <= SHORT_BYTES) {
    for (let i = 0; i < len; i++) buf[p + i] = v.charCodeAt(i);
    return p + len;
  }
  return p + (buf as Buffer & { latin1Write(s: string, offset: number, length: number): number }).latin1Write(v, p, len);
}

const SHORT_BYTES = 32;

/** a number in the smallest form msgpackr (float32 off) writes it in */
export function writeNumber(buf: Buffer, p: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) {
      buf[p++] = v;
    } else if (v < 0x100) {
      buf[p++] = 0xcc;
      buf[p++] = v;
    } else if (v < 0x10000) {
      buf[p++] = 0xcd;
      buf[p++] = v >> 8;
      buf[p++] = v & 0xff;
    } else {
      buf[p++] = 0xce;
      buf.writeUInt32BE(v, p);
      p += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) {
      buf[p++] = 0x100 + v;
    } else if (v >= -0x80) {
      buf[p++] = 0xd0;
      buf[p++] = v + 0x100;
    } else if (v >= -0x8000) {
      buf[p++] = 0xd1;
      buf.writeInt16BE(v, p);
      p += 2;
    } else {
      buf[p++] = 0xd2;
      buf.writeInt32BE(v, p);
      p += 4;
    }
  } else {
    buf[p++] = 0xcb;
    buf.writeDoubleBE(v, p);
    p += 8;
  }
  return p;
}

/** the positional array of a body; throws CodecError when it does not decode */
export function decodeBody(buf: Buffer, start: number, end: number): unknown[] {
  let v: unknown;
  try {
    v = msgpackr().unpackr.unpack(buf, { start, end });
  } catch (e) {
    throw new CodecError(`undecodable body (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || typeof v[0] !== 'number') throw new CodecError('body is not a typed array');
  return v;
}

/** a log record from a decoded body */
export function recordFromBody(body: unknown[]): LogRecord {
  const spec = BY_CODE[body[0] as number];
  if (!spec) throw new CodecError(`unknown record type code ${String(body[0])}`);
  const fields = spec.fields;
  const n = body.length - 1;
  if (n < spec.required || n > fields.length) throw new CodecError(`${spec.type} record with ${n} fields, expected ${fields.length}`);
  const rec: Record<string, unknown> = { type: spec.type };
  for (let i = 0; i < fields.length; i++) {
    if (i >= n) {
      rec[fields[i][0]] = fields[i][2];
      continue;
    }
    try {
      rec[fields[i][0]] = decodeValue(body[i + 1], fields[i][1]);
    } catch (e) {
      throw new CodecError(`${spec.type}.${fields[i][0]}: ${(e as Error).message}`);
    }
  }
  spec.upgrade?.(rec);
  return rec as unknown as LogRecord;
}

const reader = new FastReader();
const queueNames = new Interner();

/** a record from a frame body: the fast reader, or msgpackr (which also names what is wrong) */
export function decodeRecord(buf: Buffer, start: number, end: number): LogRecord {
  return fastRecord(buf, start, end) ?? recordFromBody(decodeBody(buf, start, end));
}

function fastRecord(buf: Buffer, start: number, end: number): LogRecord | null {
  const head = reader.start(buf, start, end);
  if (!head) return null;
  const spec = BY_CODE[head.code];
  if (!spec || spec.upgrade) return null;
  const n = head.length - 1;
  const fields = spec.fields;
  if (n < spec.required || n > fields.length) return null;
  const rec: Record<string, unknown> = { type: spec.type };
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (i >= n) {
      rec[f[0]] = f[2];
      continue;
    }
    const v = reader.field(f[1], f[0] === 'queue' ? queueNames : undefined);
    if (v === undefined) return null;
    rec[f[0]] = v;
  }
  return reader.done ? (rec as unknown as LogRecord) : null;
}

// ---- frame reader -------------------------------------------------------

/** how a walk over a buffer of frames ended */
export type FrameEnd =
  | { kind: 'clean'; offset: number }
  /** an incomplete frame starts at offset (a torn write, or just the end of what was read so far) */
  | { kind: 'torn'; offset: number; reason: string }
  /** a complete frame at offset is damaged: CRC mismatch, impossible length, or a body that does not decode */
  | { kind: 'corrupt'; offset: number; reason: string };

/**
 * Walks the frames of buf from `from`, calling visit(bodyStart, bodyEnd,
 * frameOffset) for each frame whose CRC matches, until the end of the
 * buffer, an incomplete frame, or a bad one. visit may throw CodecError to
 * report an undecodable body: the walk ends `corrupt` at that frame.
 * checkCrc false: only for a reader whose CRCs another walk checks
 * (frame-check.ts), which must then not trust what it read until that
 * walk has answered.
 */
export function walkFrames(buf: Buffer, from: number, visit: (start: number, end: number, offset: number) => void, checkCrc = true): FrameEnd {
  let off = from;
  const n = buf.length;
  while (off < n) {
    if (n - off < FRAME_HEADER) return { kind: 'torn', offset: off, reason: `${n - off} bytes of a frame header` };
    const len = buf.readUInt32LE(off);
    if (len === 0 || len > MAX_BODY) return { kind: 'corrupt', offset: off, reason: `bad frame length ${len}` };
    const start = off + FRAME_HEADER;
    const end = start + len;
    if (end > n) return { kind: 'torn', offset: off, reason: `frame of ${len} bytes, ${n - start} present` };
    if (checkCrc && crc32Int(buf, start, end) !== buf.readInt32LE(off + 4)) return { kind: 'corrupt', offset: off, reason: 'CRC mismatch' };
    try {
      visit(start, end, off);
    } catch (e) {
      if (e instanceof CodecError) return { kind: 'corrupt', offset: off, reason: e.message };
      throw e;
    }
    off = end;
  }
  return { kind: 'clean', offset: off };
}

/** all the log records of a buffer, and how the walk ended */
export function readFrames(buf: Buffer): { records: LogRecord[]; end: FrameEnd } {
  const records: LogRecord[] = [];
  const end = walkFrames(buf, 0, (s, e) => records.push(decodeRecord(buf, s, e)));
  return { records, end };
}
