import * as fs from 'fs';
import { Job, JobState } from '../engine/job';
import { JobKey, idOfKey } from '../engine/job-key';
import { JobStore } from '../engine/job-store';
import { CronSetRecord, GroupConfigRecord } from '../engine/records';
import { rateFromFields } from '../engine/flow-limits';
import { joinGroup } from '../engine/group-book';
import { walkFile } from './file-walker';
import { FrameCheck } from './frame-check';
import { listOrder } from './snapshot-order';
import { CodecError, RECORD_TYPES, decodeBody, recordFromBody } from './record-codec';

const GROUP_CONFIG = RECORD_TYPES['group-config'].code;
import {
  CRON_SET,
  CRON_SET_WORDS,
  QueueMeta,
  SNAP_END,
  SNAP_FORMAT,
  SNAP_HEADER,
  SNAP_JOB,
  SNAP_QUEUE,
  SnapshotHeader,
  cronFromBody,
  endFromBody,
  headerFromBody,
  jobFromBody,
  lastPrev,
  lastPrevIs,
  readJobFrame,
  queueFromBody,
} from './snapshot-codec';

export interface LoadedSnapshot {
  header: SnapshotHeader;
  queues: QueueMeta[];
  crons: CronSetRecord[];
  /** per-group limits, as the log records that set them */
  groupConfigs: GroupConfigRecord[];
  /** in write order (installSnapshot puts each list in order) */
  jobs: Job[];
  /**
   * each job's list predecessor when it was written (undefined: the job of its list written
   * last before it, or nil if none, see listOrder); null when every job's is undefined: then
   * each list's order is its write order
   */
  prevIds: Array<string | null | undefined> | null;
  bytes: number;
}

export class SnapshotError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`snapshot ${file} unusable at offset ${offset}: ${reason}`);
  }
}

/**
 * Reads a whole snapshot into memory without touching the store, so a bad
 * one (damaged, or incomplete: no end frame) can be set aside for the
 * previous one. install() then puts it into an empty store.
 */
export async function readSnapshot(path: string, name: string): Promise<LoadedSnapshot> {
  let header: SnapshotHeader | null = null;
  let end: { jobs: number; queues: number; crons: number } | null = null;
  const queues: QueueMeta[] = [];
  const crons: CronSetRecord[] = [];
  const groupConfigs: GroupConfigRecord[] = [];
  let written: Job[] = [];
  let count = 0;
  // null while every job's prev is the job of its list written last before it (or nil for
  // the first): the usual case, which needs neither the prev strings nor listOrder
  let prevIds: Array<string | null | undefined> | null = null;
  // the job written last in each list of the queue, by list index (listIndex)
  const tailsByQueue = new Map<string, Array<Job | null>>();
  let tailsQueue: string | null = null;
  let tails: Array<Job | null> = [];
  const add = (job: Job, prevIs: (key: JobKey | null) => boolean, prev: () => string | null) => {
    if (job.queue !== tailsQueue) {
      let t = tailsByQueue.get(job.queue);
      if (t === undefined) tailsByQueue.set(job.queue, (t = [null, null, null, null, null, null, null, null]));
      tailsQueue = job.queue;
      tails = t;
    }
    const li = listIndex(job);
    const tail = tails[li];
    tails[li] = job;
    if (count < written.length) written[count] = job;
    else written.push(job);
    count++;
    if (prevIs(tail === null ? null : tail.key)) {
      if (prevIds !== null) prevIds.push(undefined);
    } else {
      if (prevIds === null) prevIds = new Array<string | null | undefined>(count - 1).fill(undefined);
      prevIds.push(prev());
    }
  };
  // a large snapshot's CRCs are checked on another thread while this one decodes (frame-check.ts);
  // nothing read is used before it answers, and damage it finds wins over what decoding made of it
  const fileSize = fs.statSync(path).size;
  const check = fileSize >= CHECK_IN_THREAD_FROM ? new FrameCheck(path) : null;
  let unexpected: Error | null = null;
  // a snapshot that cannot be used gives its jobs' arena slots back (an older one may be tried next)
  try {
    const visit = (buf: Buffer, s: number, e: number) => {
      if (header && !end) {
        const job = readJobFrame(buf, s, e);
        if (job) {
          add(job, lastPrevIs, lastPrev);
          return;
        }
      }
      const body = decodeBody(buf, s, e);
      const code = body[0] as number;
      if (end) throw new CodecError('frame after the end frame');
      if (code === SNAP_HEADER) {
        if (header) throw new CodecError('second header');
        header = headerFromBody(body);
        if (header.format !== SNAP_FORMAT) throw new CodecError(`unknown snapshot format ${header.format}`);
        // room for the jobs the header announces (bounded: a frame is at least a few dozen bytes)
        const n = Math.min(header.jobs, Math.floor(fileSize / 32));
        if (Number.isInteger(n) && n > 0) written = new Array<Job>(n);
        return;
      }
      if (!header) throw new CodecError('no header');
      switch (code) {
        case SNAP_JOB: {
          const { prev, job } = jobFromBody(body);
          add(
            job,
            (key) => (key === null ? null : idOfKey(key)) === prev,
            () => prev,
          );
          return;
        }
        case SNAP_QUEUE:
          queues.push(queueFromBody(body));
          return;
        case GROUP_CONFIG: {
          const rec = recordFromBody(body);
          if (rec.type === 'group-config') groupConfigs.push(rec);
          return;
        }
        case CRON_SET:
        case CRON_SET_WORDS:
          crons.push(cronFromBody(body));
          return;
        case SNAP_END:
          end = endFromBody(body);
          return;
        default:
          throw new CodecError(`unexpected frame type ${code}`);
      }
    };
    const walk = await walkFile(
      path,
      check === null
        ? visit
        : (buf, s, e) => {
            try {
              visit(buf, s, e);
            } catch (err) {
              if (err instanceof CodecError) throw err;
              // frames not yet CRC-checked can be garbage: stop here and see whether they were
              unexpected = err as Error;
              throw new CodecError((err as Error).message);
            }
          },
      check === null,
    );
    const damage = check === null ? null : await check.damageBefore(walk.end.offset);
    if (!damage && unexpected) throw unexpected;
    if (written.length !== count) written.length = count;
    const stop = damage ?? walk.end;
    if (stop.kind !== 'clean') throw new SnapshotError(name, stop.offset, stop.kind === 'torn' ? `incomplete (${stop.reason})` : stop.reason);
    const h = header as SnapshotHeader | null;
    const e = end as { jobs: number; queues: number; crons: number } | null;
    if (!h) throw new SnapshotError(name, 0, walk.size === 0 ? 'empty file' : 'no header');
    if (!e) throw new SnapshotError(name, walk.size, 'incomplete: no end frame');
    if (e.jobs !== count || count !== h.jobs || e.queues !== queues.length || e.crons !== crons.length) {
      throw new SnapshotError(
        name,
        walk.size,
        `counts do not match (jobs ${count}/${h.jobs}/${e.jobs}, queues ${queues.length}/${e.queues}, crons ${crons.length}/${e.crons})`,
      );
    }
    return { header: h, queues, crons, groupConfigs, jobs: written, prevIds, bytes: walk.size };
  } catch (e) {
    releasePayloads(written, count);
    throw e;
  }
}

function releasePayloads(jobs: Job[], n: number): void {
  for (let i = 0; i < n; i++) jobs[i].releasePayload();
}

/** a state list's index within its queue: 0-2 ready by priority, then one per other state */
function listIndex(job: Job): number {
  return job.state === JobState.Ready ? job.priority : 2 + job.state;
}

const INSTALL_SLICE = 50_000;
/** snapshots this large have their CRCs checked on another thread (frame-check.ts) */
const CHECK_IN_THREAD_FROM = 16 * 1024 * 1024;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Puts a loaded snapshot into an EMPTY store: every list in its order at the
 * snapshot's point in time (snapshot-order.ts), deadlines in the heap, queue
 * settings, crons, the id counter. Yields to the event loop as it goes.
 * Throws SnapshotError, leaving the store empty again, if the list links
 * do not hold together (then an older snapshot can be tried).
 */
export async function installSnapshot(store: JobStore, snap: LoadedSnapshot, name: string): Promise<void> {
  if (store.jobs.size !== 0 || store.queues.size !== 0) throw new Error('installSnapshot needs an empty store');
  const jobs = snap.jobs;
  const n = jobs.length;
  // write index by id: only needed for a prev that is not the job written just before
  // (jobs changed while the snapshot was written), so built on first use
  let indexOfId: Map<string, number> | null = null;
  const indexOf = (id: string): number => {
    if (indexOfId === null) {
      indexOfId = new Map();
      for (let i = 0; i < n; i++) indexOfId.set(jobs[i].id, i);
    }
    return indexOfId.get(id) ?? -1;
  };
  try {
    for (const m of snap.queues) {
      const q = store.queue(m.name);
      q.paused = m.paused;
      q.maxlen = m.maxlen;
      q.concurrency = m.concurrency;
      q.rate = m.rate;
      q.groupDefaults = m.groupDefaults;
      for (let p = 0; p < 3; p++) q.credit[p] = m.credit[p];
    }
    for (const c of snap.crons) store.crons.set(c.name, c);
    for (const g of snap.groupConfigs) {
      store.queue(g.queue).groupOverrides.set(g.group, { concurrency: g.concurrency, rate: rateFromFields(g.rate, g.ratePer), maxlen: g.maxlen });
    }
    const map = store.jobs;
    if (snap.prevIds === null) {
      // every list in write order: one pass
      let q = null as ReturnType<JobStore['queue']> | null;
      for (let i = 0; i < n; i++) {
        const job = jobs[i];
        const size: number = map.size;
        map.set(job);
        if (map.size === size) throw new CodecError(`job ${JSON.stringify(job.id)} twice`);
        if (q === null || q.name !== job.queue) q = store.queue(job.queue);
        store.listFor(q, job).push(job);
        if (job.state <= JobState.Active) joinGroup(q, job);
        if (i % INSTALL_SLICE === INSTALL_SLICE - 1) await yieldToLoop();
      }
      // deadlines once nothing can fail (a failure leaves the store empty, the heap included)
      for (let i = 0; i < n; i++) store.scheduleDeadline(jobs[i]);
    } else {
      const listIds = new Int32Array(n);
      const queueIds = new Map<string, number>();
      let lastQueue: string | null = null;
      let lastQueueId = 0;
      for (let i = 0; i < n; i++) {
        const job = jobs[i];
        const size: number = map.size;
        map.set(job);
        if (map.size === size) throw new CodecError(`job ${JSON.stringify(job.id)} twice`);
        if (job.queue !== lastQueue) {
          lastQueue = job.queue;
          let q = queueIds.get(job.queue);
          if (q === undefined) queueIds.set(job.queue, (q = queueIds.size));
          lastQueueId = q;
        }
        listIds[i] = lastQueueId * 8 + listIndex(job);
        if (i % INSTALL_SLICE === INSTALL_SLICE - 1) await yieldToLoop();
      }
      const ordered = listOrder({ jobs, prevIds: snap.prevIds, listIds, indexOf });
      indexOfId = null;
      let q = null as ReturnType<JobStore['queue']> | null;
      for (let i = 0; i < n; i++) {
        const job = ordered[i];
        if (q === null || q.name !== job.queue) q = store.queue(job.queue);
        store.listFor(q, job).push(job);
        if (job.state <= JobState.Active) joinGroup(q, job);
        store.scheduleDeadline(job);
        if (i % INSTALL_SLICE === INSTALL_SLICE - 1) await yieldToLoop();
      }
    }
    if (snap.header.nextSeq > store.nextSeq) store.nextSeq = snap.header.nextSeq;
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    store.jobs.clear();
    releasePayloads(jobs, n);
    store.queues.clear();
    store.crons.clear();
    throw new SnapshotError(name, snap.bytes, e.message);
  }
}
