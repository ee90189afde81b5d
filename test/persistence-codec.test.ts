import { expect } from 'chai';
import * as zlib from 'zlib';
import { Job, JobState } from '../server/engine/job';
import { LogRecord, RecordType } from '../server/engine/records';
import {
  FRAME_HEADER,
  RECORD_TYPES,
  decodeRecord,
  encodeFrame,
  encodeRecord,
  encodeRecordMsgpackr,
  encodeValue,
  readFrames,
  recordFromBody,
  walkFrames,
} from '../server/persistence/record-codec';
import * as snapCodec from '../server/persistence/snapshot-codec';
import { PERSISTED_JOB_FIELDS, RUNTIME_JOB_FIELDS, encodeJob, encodeJobMsgpackr, jobFromBody, readJobFrame } from '../server/persistence/snapshot-codec';
import { decodeBody } from '../server/persistence/record-codec';
import { listOrder } from '../server/persistence/snapshot-order';
import { prng } from './helpers/prng';

/** every byte value, as a byte string */
const ALL_BYTES = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
const T = 1_790_000_000_123;

/** one record of each type (the Record<RecordType> makes a new type fail to compile here until it has a sample) */
const SAMPLES: { [K in RecordType]: Extract<LogRecord, { type: K }> } = {
  enqueue: {
    type: 'enqueue',
    at: T,
    id: `id-${ALL_BYTES}`,
    seq: 0,
    queue: `q\u0000\u00ff`,
    payload: ALL_BYTES,
    priority: 2,
    runAt: T + 5000,
    retries: 3,
    backoffBase: 1000,
    backoffMax: 3_600_000,
    lease: 30_000,
    expiresAt: T + 86_400_000,
    group: 'tenant-\u0000\u00ff',
  },
  claim: { type: 'claim', at: T, id: '17', leaseUntil: T + 30_000, deliveryLease: 30_000 },
  ack: { type: 'ack', at: T, id: '17', result: ALL_BYTES },
  nack: { type: 'nack', at: T, id: '17', to: JobState.Scheduled, runAt: T + 2000, error: `boom\r\n${ALL_BYTES}` },
  touch: { type: 'touch', at: T, id: '17', leaseUntil: T + 60_000 },
  'lease-lost': { type: 'lease-lost', at: T, id: '17', to: JobState.Dead, reason: 'disconnect' },
  'ttl-expired': { type: 'ttl-expired', at: T, id: '17' },
  cancel: { type: 'cancel', at: T, id: '__proto__' },
  requeue: { type: 'requeue', at: T, id: 'constructor' },
  promote: { type: 'promote', at: T, id: `p${ALL_BYTES}` },
  purge: { type: 'purge', at: T, queue: ALL_BYTES, what: 'waiting' },
  'queue-config': {
    type: 'queue-config',
    at: T,
    queue: 'q',
    maxlen: null,
    paused: true,
    concurrency: 3,
    rate: 10,
    ratePer: 1000,
    groupConcurrency: 1,
    groupRate: null,
    groupRatePer: null,
    groupMaxlen: 500,
  },
  'group-config': { type: 'group-config', at: T, queue: 'q', group: `g${ALL_BYTES}`, concurrency: 0, rate: 5, ratePer: 60_000, maxlen: null },
  'cron-set': {
    type: 'cron-set',
    at: T,
    name: `n${ALL_BYTES}`,
    expression: '*/5 * * * *',
    timezone: 'Europe/Zürich',
    queue: 'q',
    payload: ALL_BYTES,
    options: { priority: 0, delay: 1000, retries: 3, backoffBase: 100, backoffMax: 900, lease: 5000, ttl: 60_000, group: 'g\u00ff' },
    nextRunAt: T + 300_000,
  },
  'queue-delete': { type: 'queue-delete', at: T, queue: `q${ALL_BYTES}` },
  'cron-del': { type: 'cron-del', at: T, name: 'n' },
  'cron-run': { type: 'cron-run', at: T, name: 'n', nextRunAt: T + 60_000 },
};

/** the queue-config fields added with flow control, as a record without them decodes */
const NO_FLOW_LIMITS = { rate: null, ratePer: null, groupConcurrency: null, groupRate: null, groupRatePer: null, groupMaxlen: null };

function roundTrip(rec: LogRecord): LogRecord {
  const frame = encodeRecord(rec);
  return decodeRecord(frame, FRAME_HEADER, frame.length);
}

describe('persistence: record codec', () => {
  for (const [type, rec] of Object.entries(SAMPLES)) {
    it(`round-trips a ${type} record`, () => {
      expect(roundTrip(rec)).to.deep.equal(rec);
    });
  }

  it('the hand encoder writes exactly the bytes msgpackr writes', () => {
    const nums = [0, 1, 31, 32, 63, 64, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, T, 2 ** 53 - 1, -0, 1.5, -1, -32, -33, -128, -129];
    nums.push(-32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, NaN, Infinity, -Infinity);
    const strs = ['', 'x', ALL_BYTES.slice(0, 31), ALL_BYTES.slice(0, 32), ALL_BYTES, ALL_BYTES + 'x', 'y'.repeat(65_535), 'z'.repeat(65_536)];
    const recs: LogRecord[] = Object.values(SAMPLES) as LogRecord[];
    for (const n of nums) {
      recs.push({ ...SAMPLES.claim, at: n, leaseUntil: n, deliveryLease: n });
      recs.push({ ...SAMPLES.enqueue, seq: n, runAt: n, expiresAt: n, retries: n });
      recs.push({ ...SAMPLES['queue-config'], maxlen: n });
    }
    for (const str of strs) {
      recs.push({ ...SAMPLES.enqueue, id: str, queue: str, payload: str });
      recs.push({ ...SAMPLES.ack, id: str, result: str });
      recs.push({ ...SAMPLES.ack, result: null });
      recs.push({ ...SAMPLES.nack, error: null });
    }
    // many frames in a row: some of them start a fresh arena
    for (let i = 0; i < 3000; i++) recs.push({ ...SAMPLES.enqueue, id: String(i), payload: 'p'.repeat(i % 300) });
    const frames = recs.map((rec) => encodeRecord(rec));
    for (let i = 0; i < recs.length; i++) {
      expect(frames[i].equals(encodeRecordMsgpackr(recs[i])), `record ${i} (${recs[i].type})`).to.equal(true);
    }
  });

  it('the fast reader and msgpackr decode every record alike', () => {
    for (const rec of Object.values(SAMPLES) as LogRecord[]) {
      const frame = encodeRecord(rec);
      expect(decodeRecord(frame, FRAME_HEADER, frame.length)).to.deep.equal(recordFromBody(decodeBody(frame, FRAME_HEADER, frame.length)));
    }
  });

  it('a body in an encoding the fast reader does not take (bytes as str) goes to msgpackr, which reports it', () => {
    const frame = encodeFrame([RECORD_TYPES.cancel.code, T, 'id-as-str']);
    expect(() => decodeRecord(frame, FRAME_HEADER, frame.length)).to.throw(/cancel\.id: expected bytes/);
    const extra = encodeFrame([RECORD_TYPES.cancel.code, T, Buffer.from('x'), 5]);
    expect(() => decodeRecord(extra, FRAME_HEADER, extra.length)).to.throw(/cancel record with 3 fields/);
  });

  it('has a distinct code for every record type', () => {
    const codes = Object.values(RECORD_TYPES).map((s) => s.code);
    expect(new Set(codes).size).to.equal(codes.length);
  });

  it('keeps null and 0 distinct from absent values', () => {
    const a: LogRecord = { type: 'ack', at: 0, id: '', result: null };
    const b: LogRecord = { type: 'ack', at: 0, id: '', result: '' };
    expect(roundTrip(a)).to.deep.equal(a);
    expect(roundTrip(b)).to.deep.equal(b);
    const c: LogRecord = { type: 'queue-config', at: T, queue: 'q', maxlen: 0, paused: false, concurrency: null, ...NO_FLOW_LIMITS };
    expect(roundTrip(c)).to.deep.equal(c);
  });

  it('decodes an older queue-config frame (no concurrency field) as no cap', () => {
    const frame = encodeFrame([RECORD_TYPES['queue-config'].code, T, Buffer.from('q'), 5, true]);
    expect(decodeRecord(frame, FRAME_HEADER, frame.length)).to.deep.equal({
      type: 'queue-config',
      at: T,
      queue: 'q',
      maxlen: 5,
      paused: true,
      concurrency: null,
      ...NO_FLOW_LIMITS,
    });
  });

  it('decodes an older enqueue frame (no group field) as ungrouped', () => {
    const spec = RECORD_TYPES.enqueue;
    const { group, ...older } = SAMPLES.enqueue;
    void group;
    const full = encodeRecordMsgpackr(SAMPLES.enqueue);
    const body = decodeRecord(full, FRAME_HEADER, full.length) as Record<string, unknown>;
    const frame = encodeFrame([spec.code, ...spec.fields.slice(0, -1).map(([name, kind]) => encodeValue(body[name], kind))]);
    expect(decodeRecord(frame, FRAME_HEADER, frame.length)).to.deep.equal({ ...older, group: '' });
  });

  it('writes byte strings as raw bytes (msgpack bin), not base64 or JSON', () => {
    const frame = encodeRecord(SAMPLES.enqueue);
    expect(frame.indexOf(Buffer.from(ALL_BYTES, 'latin1'))).to.be.greaterThan(0);
    expect(frame.length).to.be.lessThan(256 * 2 + 120);
  });

  it('round-trips a 1 MB payload of every byte value', () => {
    const payload = ALL_BYTES.repeat(4096);
    expect(payload.length).to.equal(1 << 20);
    const rec: LogRecord = { ...SAMPLES.enqueue, payload };
    const frame = encodeRecord(rec);
    expect(frame.length).to.be.lessThan((1 << 20) + 2000);
    expect(roundTrip(rec)).to.deep.equal(rec);
  });

  it('frames as [u32 length][u32 crc32][body]', () => {
    const frame = encodeRecord(SAMPLES.claim);
    const len = frame.readUInt32LE(0);
    expect(len).to.equal(frame.length - FRAME_HEADER);
    expect(frame.readUInt32LE(4)).to.equal(zlib.crc32(frame.subarray(FRAME_HEADER)));
  });

  it('decodes an older cron-set frame (code 12: option words, no nextRunAt) into parsed options', () => {
    const c = SAMPLES['cron-set'];
    const words = ['PRIORITY', 'high', 'DELAY', '1000', 'RETRIES', '3', 'BACKOFF', '100', 'MAX', '900', 'LEASE', '5000', 'TTL', '60000', 'GROUP', 'g\u00ff'];
    const frame = encodeFrame([
      12,
      c.at,
      Buffer.from(c.name, 'latin1'),
      c.expression,
      c.timezone,
      Buffer.from(c.queue, 'latin1'),
      Buffer.from(c.payload, 'latin1'),
      words.map((o) => Buffer.from(o, 'latin1')),
    ]);
    expect(decodeRecord(frame, FRAME_HEADER, frame.length)).to.deep.equal({ ...c, nextRunAt: 0 });
  });

  it('refuses an older cron-set frame whose option words do not parse, naming the field', () => {
    const c = SAMPLES['cron-set'];
    const frame = encodeFrame([12, c.at, Buffer.from('n'), c.expression, c.timezone, Buffer.from('q'), Buffer.from('p'), [Buffer.from('BOGUS')]]);
    expect(() => decodeRecord(frame, FRAME_HEADER, frame.length)).to.throw(/cron-set\.options/);
  });
});

describe('persistence: frame reader', () => {
  const recs = Object.values(SAMPLES) as LogRecord[];
  const frames = recs.map(encodeRecord);
  const all = Buffer.concat(frames);
  const offsets: number[] = [];
  frames.reduce((off, f) => (offsets.push(off), off + f.length), 0);

  it('reads back every record of a clean buffer', () => {
    const { records, end } = readFrames(all);
    expect(end).to.deep.equal({ kind: 'clean', offset: all.length });
    expect(records).to.deep.equal(recs);
  });

  it('reports an empty buffer as clean', () => {
    expect(readFrames(Buffer.alloc(0)).end).to.deep.equal({ kind: 'clean', offset: 0 });
  });

  it('reports torn at the start of the last frame, for a cut at every byte of it', () => {
    const lastOff = offsets[offsets.length - 1];
    for (let cut = lastOff + 1; cut < all.length; cut++) {
      const { records, end } = readFrames(all.subarray(0, cut));
      expect(end.kind, `cut at ${cut}`).to.equal('torn');
      expect(end.offset).to.equal(lastOff);
      expect(records).to.deep.equal(recs.slice(0, -1));
    }
  });

  it('reports corrupt (CRC) at the frame whose body has a flipped byte', () => {
    const i = 3;
    for (let b = offsets[i] + FRAME_HEADER; b < offsets[i] + frames[i].length; b++) {
      const bad = Buffer.from(all);
      bad[b] ^= 0x40;
      const { records, end } = readFrames(bad);
      expect(end).to.deep.include({ kind: 'corrupt', offset: offsets[i], reason: 'CRC mismatch' });
      expect(records).to.deep.equal(recs.slice(0, i));
    }
  });

  it('reports a flipped CRC byte as corrupt', () => {
    const bad = Buffer.from(all);
    bad[offsets[2] + 5] ^= 1;
    expect(readFrames(bad).end).to.deep.include({ kind: 'corrupt', offset: offsets[2] });
  });

  it('reports a zero length as corrupt', () => {
    const bad = Buffer.concat([frames[0], Buffer.alloc(16)]);
    expect(readFrames(bad).end).to.deep.include({ kind: 'corrupt', offset: frames[0].length, reason: 'bad frame length 0' });
  });

  it('reports a frame with a good CRC but an undecodable or ill-typed body as corrupt', () => {
    const body = Buffer.from([0xc1, 0xc1, 0xc1]); // 0xc1 is never used in msgpack
    const raw = Buffer.alloc(FRAME_HEADER + body.length);
    raw.writeUInt32LE(body.length, 0);
    raw.writeUInt32LE(zlib.crc32(body), 4);
    body.copy(raw, FRAME_HEADER);
    expect(readFrames(Buffer.concat([frames[0], raw])).end).to.deep.include({ kind: 'corrupt', offset: frames[0].length });

    const wrongType = encodeFrame([RECORD_TYPES.claim.code, T, 17, T, 1]); // id as a number
    const r = readFrames(Buffer.concat([frames[0], wrongType]));
    expect(r.end.kind).to.equal('corrupt');
    expect((r.end as { reason: string }).reason).to.match(/claim\.id/);

    const unknown = encodeFrame([60, T]);
    expect(readFrames(unknown).end).to.deep.include({ kind: 'corrupt', offset: 0 });
  });

  it('walks from an offset and reports file-relative offsets of each frame', () => {
    const seen: number[] = [];
    const end = walkFrames(all, offsets[2], (_s, _e, off) => seen.push(off));
    expect(end.kind).to.equal('clean');
    expect(seen).to.deep.equal(offsets.slice(2));
  });
});

describe('persistence: snapshot job codec', () => {
  it('covers every field of Job (a new field must be persisted or declared runtime-only)', () => {
    const job = new Job('i', 'q', 'p', 1, T, 3, 1000, 60_000, 30_000, 0);
    // where the accessors keep their values (the id's key, queue + policy, state/priority/listSeq, createdAt, the JobExtra,
    // the payload's arena ref) and what is derived from a persisted field (payloadSize)
    const storage = ['key', 'kind', 'place', 'created', 'extra', 'body', 'payloadSize'];
    const known = new Set<string>([...PERSISTED_JOB_FIELDS, ...RUNTIME_JOB_FIELDS, ...storage]);
    const accessors = Object.entries(Object.getOwnPropertyDescriptors(Job.prototype))
      .filter(([, d]) => d.get !== undefined)
      .map(([k]) => k);
    expect([...Object.keys(job), ...accessors].filter((k) => !known.has(k))).to.deep.equal([]);
  });

  it('round-trips a job with every field set, bytes 0..255 included', () => {
    const job = new Job(ALL_BYTES, `q${ALL_BYTES}`, ALL_BYTES.repeat(3), 0, T, 5, 250, 9000, 12_000, T + 99);
    job.state = JobState.Active;
    job.deliveries = 2;
    job.updatedAt = T + 10;
    job.runAt = 0;
    job.leaseUntil = T + 12_010;
    job.deliveryLease = 12_000;
    job.finishedAt = 0;
    job.lastError = `err${ALL_BYTES}`;
    job.result = ALL_BYTES;
    const before = new Job(`p${ALL_BYTES}`, 'q', '', 1, T, 0, 0, 0, 0, 0);
    job.prev = before;
    const frame = encodeJob(job);
    const { prev, job: back } = jobFromBody(decodeBody(frame, FRAME_HEADER, frame.length));
    expect(prev).to.equal(before.id);
    for (const f of PERSISTED_JOB_FIELDS) expect(back[f], f).to.deep.equal(job[f]);
    const fast = readJobFrame(frame, FRAME_HEADER, frame.length)!;
    expect(snapCodec.lastPrev()).to.equal(before.id);
    expect(snapCodec.lastPrevIs(before.id)).to.equal(true);
    expect(snapCodec.lastPrevIs(`${before.id}x`)).to.equal(false);
    expect(snapCodec.lastPrevIs(null)).to.equal(false);
    // a decimal prev id is compared with a job's number key in place
    const numbered = new Job('i', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    numbered.prev = new Job('1234', 'q', '', 1, T, 0, 0, 0, 0, 0);
    const f2 = encodeJob(numbered);
    expect(readJobFrame(f2, FRAME_HEADER, f2.length)!.id).to.equal('i');
    expect(snapCodec.lastPrevIs(1234)).to.equal(true);
    expect(snapCodec.lastPrevIs(123)).to.equal(false);
    expect(snapCodec.lastPrevIs('1234')).to.equal(true);
    const f3 = encodeJob(numbered.prev);
    expect(readJobFrame(f3, FRAME_HEADER, f3.length)!.key).to.equal(1234);
    for (const f of PERSISTED_JOB_FIELDS) expect(fast[f], `fast ${f}`).to.deep.equal(job[f]);
  });

  it('writes job frames byte for byte as msgpackr does, for every kind of field value', () => {
    const random = prng(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const numbers = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -129, -40_000, T, T + 0.5, 1e15];
    const strings = ['', 'a', ALL_BYTES, 'x'.repeat(255), 'y'.repeat(256), 'z'.repeat(70_000)];
    let prev: Job | null = null;
    for (let i = 0; i < 300; i++) {
      const id = random() < 0.5 ? String(i + 1) : `job-${i}${pick(strings).slice(0, 300)}`;
      const job = new Job(
        id,
        pick(['q', ALL_BYTES]),
        pick([...strings, 'p'.repeat(100), 'p'.repeat(4094), 'p'.repeat(4095)]),
        pick([0, 1, 2] as const),
        T + i,
        pick(numbers),
        pick(numbers),
        pick(numbers),
        pick(numbers),
        pick([0, T + 5]),
      );
      job.state = pick([JobState.Ready, JobState.Active, JobState.Completed, JobState.Dead]);
      job.deliveries = pick(numbers);
      job.updatedAt = pick(numbers);
      job.runAt = pick(numbers);
      job.leaseUntil = pick(numbers);
      job.deliveryLease = pick(numbers);
      job.finishedAt = pick(numbers);
      job.lastError = pick([null, ...strings]);
      job.result = pick([null, ...strings]);
      job.group = pick(['', 'tenant-1', ALL_BYTES]);
      job.prev = random() < 0.8 ? prev : null;
      expect(Buffer.compare(encodeJob(job), encodeJobMsgpackr(job)), `job ${i}`).to.equal(0);
      prev = job;
    }
  });
});

function order3(jobs: Job[], prevIds: Array<string | null | undefined>, list: (j: Job) => string): Job[] {
  const names = [...new Set(jobs.map(list))];
  const listIds = Int32Array.from(jobs.map((j) => names.indexOf(list(j))));
  return listOrder({ jobs, prevIds, listIds, indexOf: (id) => jobs.findIndex((j) => j.id === id) });
}

describe('persistence: snapshot list order (prev links)', () => {
  /**
   * Simulates the writer on one list: the list changes (removals anywhere,
   * appends at the tail) while jobs are written in some order, each with its
   * predecessor at that moment; a removed job is written just before. The
   * rebuilt order must be the list as it was at the start.
   */
  it('rebuilds the order at the start from any interleaving of removals, appends and writes (2000 random cases)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let c = 0; c < 2000; c++) {
      const n = 1 + Math.floor(rnd() * 12);
      const start: Job[] = Array.from({ length: n }, (_, i) => new Job(`j${i}`, 'q', '', 1, T, 0, 0, 0, 0, 0));
      let list = [...start];
      const written = new Set<Job>();
      const order: Job[] = [];
      const prevs: Array<string | null> = [];
      const write = (j: Job) => {
        const i = list.indexOf(j);
        order.push(j);
        prevs.push(i > 0 ? list[i - 1].id : null);
        written.add(j);
      };
      let fresh = 0;
      while (written.size < n) {
        const r = rnd();
        const pending = start.filter((j) => !written.has(j) && list.includes(j));
        if (r < 0.35 && list.length > 0) {
          const j = list[Math.floor(rnd() * list.length)]; // removed (a written or new job may leave too)
          if (start.includes(j) && !written.has(j)) write(j);
          list = list.filter((x) => x !== j);
        } else if (r < 0.5) {
          list.push(new Job(`new${fresh++}`, 'q', '', 1, T, 0, 0, 0, 0, 0)); // appended after the start
        } else if (r < 0.6 && rnd() < 0.5) {
          const back = start.find((j) => written.has(j) && !list.includes(j));
          if (back) list.push(back); // a written job comes back at the tail
        } else if (pending.length > 0) {
          write(pending[Math.floor(rnd() * pending.length)]); // the walk, in any order
        }
      }
      const rebuilt = order3(order, prevs, () => 'q');
      expect(
        rebuilt.map((j) => j.id),
        `case ${c}`,
      ).to.deep.equal(start.map((j) => j.id));
      // as the reader passes them: undefined for "the job of the list written last before it" (nil for the first)
      const compact = prevs.map((p, i) => (p === (i > 0 ? order[i - 1].id : null) ? undefined : p));
      expect(
        order3(order, compact, () => 'q').map((j) => j.id),
        `case ${c}, compact`,
      ).to.deep.equal(start.map((j) => j.id));
    }
  });

  it('undefined prev: the job of the same list written last before it, with lists interleaved', () => {
    const mk = (id: string, q: string) => new Job(id, q, '', 1, T, 0, 0, 0, 0, 0);
    const jobs = [mk('a1', 'a'), mk('b1', 'b'), mk('a2', 'a'), mk('b2', 'b'), mk('a0', 'a'), mk('a3', 'a')];
    // a0 was written first-in-list out of order (copy-on-write): it is the head, a1 follows it
    const prevIds = ['a0', undefined, undefined, undefined, null, 'a2'];
    const out = order3(jobs, prevIds, (j) => j.queue).map((j) => j.id);
    expect(out.filter((id) => id.startsWith('a'))).to.deep.equal(['a0', 'a1', 'a2', 'a3']);
    expect(out.filter((id) => id.startsWith('b'))).to.deep.equal(['b1', 'b2']);
  });

  it('rejects a link to an unknown job or to another list', () => {
    const a = new Job('a', 'q', '', 1, T, 0, 0, 0, 0, 0);
    const b = new Job('b', 'r', '', 1, T, 0, 0, 0, 0, 0);
    expect(() => order3([a], ['zz'], () => 'q')).to.throw(/unknown job/);
    expect(() => order3([a, b], [null, 'a'], (j) => j.queue)).to.throw(/another list/);
    expect(() => order3([a, b], ['b', 'a'], () => 'q')).to.throw(/reach 0 of 2/);
  });
});
