import { Job } from '../engine/job';
import { JobStore, StoreObserver } from '../engine/job-store';
import { AppendLog, LogLevel } from './append-log';
import { FsOps, writeAll } from './fs-ops';
import { inDir, snapshotName } from './data-files';
import { encodeRecord } from './record-codec';
import { SNAP_FORMAT, encodeCron, encodeEnd, encodeHeader, encodeJob, encodeQueue } from './snapshot-codec';

export interface SnapshotWriterOptions {
  dir: string;
  fs: FsOps;
  store: JobStore;
  log: AppendLog;
  /** jobs written per event-loop turn */
  slice: () => number;
  logger: (level: LogLevel, msg: string) => void;
}

export interface SnapshotResult {
  file: string;
  firstSegment: number;
  jobs: number;
  bytes: number;
  /** wall clock unix ms at the snapshot's point in time */
  createdAt: number;
  ms: number;
}

/** longest run of one slice, whatever snapshot-slice says (the loop should never block for more than 5 ms) */
const SLICE_BUDGET_MS = 3;

/** shards of JobMarks: each stays small enough that its growth (a rehash) is short */
const MARK_SHARDS = 256;

/**
 * A set of jobs, split over MARK_SHARDS Sets by a cheap key of the job. One
 * Set of 500,000 jobs rehashes all of them in one go when it grows (85 ms in
 * one slice, measured); a shard of a few thousand takes well under 1 ms.
 */
class JobMarks {
  private readonly shards: Array<Set<Job>> = Array.from({ length: MARK_SHARDS }, () => new Set<Job>());

  private shard(job: Job): Set<Job> {
    const id = job.key;
    // ids are mostly decimal counters (number keys): consecutive ones spread over the shards.
    // Of a string id, the last two characters spread them and createdAt mixes in the rest.
    if (typeof id === 'number') return this.shards[id & (MARK_SHARDS - 1)];
    const n = id.length;
    const k = (n > 1 ? id.charCodeAt(n - 1) * 31 + id.charCodeAt(n - 2) * 7 : n > 0 ? id.charCodeAt(0) : 0) + job.createdAt;
    return this.shards[k & (MARK_SHARDS - 1)];
  }

  has(job: Job): boolean {
    return this.shard(job).has(job);
  }

  add(job: Job): void {
    this.shard(job).add(job);
  }
}

/**
 * Writes one snapshot of the store, point-in-time consistent, without
 * stopping the broker for long: nothing at the start is proportional to the
 * number of jobs.
 *
 * At the start, synchronously: the log rotates to a new segment S (every
 * record from now on is in S or later), the snapshot takes a new epoch E,
 * and the header, queue settings and cron entries are encoded. A job is
 * still to be written until it is in the writer's `done` set. Then
 * store.jobs is walked slice by slice, one slice per event-loop turn,
 * writing those jobs. Copy-on-write keeps the snapshot at its point in
 * time: a store observer writes a job's current (pre-change) state the
 * moment before it changes or is removed, if it is still to be written; a
 * job created after the start goes into `done` at once (its ENQUEUE is in S).
 * Each job is written with the id of its list predecessor at that moment,
 * from which the reader rebuilds the lists' order (snapshot-order.ts).
 *
 * The file is written as *.tmp, fsynced, renamed and the directory synced
 * (once segment S exists); the caller then points the manifest at it. On
 * failure the temp file is removed and the previous snapshot stays in use;
 * nothing needs undoing in the store (the next snapshot has a higher epoch).
 */
export class SnapshotWriter {
  readonly firstSegment: number;
  readonly createdAt = Date.now();
  /** jobs written, or created after the start (never to be written) */
  private done = new JobMarks();
  private readonly started = performance.now();
  /** jobs in the store at the start: exactly these are written */
  private readonly total: number;
  private out: Buffer[] = [];
  private outBytes = 0;
  private written = 0;
  private fileBytes = 0;
  private readonly observer: StoreObserver;
  private readonly queueCount: number;
  private readonly cronCount: number;
  private aborted = false;

  constructor(private readonly o: SnapshotWriterOptions) {
    const store = o.store;
    this.firstSegment = o.log.rotate();
    this.total = store.jobs.size;
    const head = [encodeHeader({ format: SNAP_FORMAT, createdAt: this.createdAt, firstSegment: this.firstSegment, nextSeq: store.nextSeq, jobs: this.total })];
    for (const q of store.queues.values()) head.push(encodeQueue(q));
    this.queueCount = store.queues.size;
    for (const q of store.queues.values()) {
      for (const [group, o] of q.groupOverrides) {
        head.push(
          encodeRecord({
            type: 'group-config',
            at: 0,
            queue: q.name,
            group,
            concurrency: o.concurrency,
            rate: o.rate?.rate ?? null,
            ratePer: o.rate?.per ?? null,
            maxlen: o.maxlen,
          }),
        );
      }
    }
    // copies: a cron-run record changes an entry in place
    for (const c of store.crons.values()) head.push(encodeCron({ ...c }));
    this.cronCount = store.crons.size;
    // queued now: a copy-on-write job frame may come before the file is even open, and must follow these
    for (const f of head) this.push(f);
    this.observer = {
      beforeChange: (job) => {
        if (!this.done.has(job)) this.writeJob(job);
      },
      created: (job) => {
        this.done.add(job);
      },
    };
    store.observers.push(this.observer);
  }

  get file(): string {
    return snapshotName(this.firstSegment);
  }

  /** stops at the next slice; the promise of run() rejects */
  abort(): void {
    this.aborted = true;
  }

  async run(): Promise<SnapshotResult> {
    const { fs, dir } = this.o;
    const final = inDir(dir, this.file);
    const tmp = `${final}.tmp`;
    let fd = -1;
    try {
      fd = await fs.open(tmp, 'w');
      // The walk survives changes (JobIndex.values): it meets every job of the
      // start at least once (one removed meanwhile was written before removal,
      // and is in `done`, as are new ones). So it ends once all of those are
      // written, whatever keeps coming.
      const it = this.o.store.jobs.values();
      for (let more = this.written < this.total; more;) {
        const slice = Math.max(1, this.o.slice());
        // a slice also ends after SLICE_BUDGET_MS (cold code at the start, a slow machine)
        const until = performance.now() + SLICE_BUDGET_MS;
        for (let n = 0; n < slice; n++) {
          if ((n & 63) === 63 && performance.now() > until) break;
          const r = it.next();
          if (r.done) {
            more = false;
            break;
          }
          if (!this.done.has(r.value)) this.writeJob(r.value);
          if (this.written === this.total) {
            more = false;
            break;
          }
        }
        await this.drain(fd);
        if (more) await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.aborted) throw new Error('snapshot aborted');
      }
      this.detach();
      if (this.written !== this.total) throw new Error(`snapshot wrote ${this.written} of ${this.total} jobs`);
      this.push(encodeEnd(this.written, this.queueCount, this.cronCount));
      await this.drain(fd);
      await fs.fsync(fd);
      await fs.close(fd);
      fd = -1;
      // the segment the snapshot hands over to must exist before the snapshot does
      await this.o.log.segmentCreated(this.firstSegment);
      await fs.rename(tmp, final);
      await fs.syncDir(dir);
      return {
        file: this.file,
        firstSegment: this.firstSegment,
        jobs: this.written,
        bytes: this.fileBytes,
        createdAt: this.createdAt,
        ms: Math.round(performance.now() - this.started),
      };
    } catch (e) {
      this.detach();
      if (fd >= 0) await fs.close(fd).catch(() => {});
      await fs.unlink(tmp).catch(() => {});
      throw e;
    }
  }

  private writeJob(job: Job): void {
    this.push(encodeJob(job));
    this.done.add(job);
    this.written++;
  }

  private push(frame: Buffer): void {
    this.out.push(frame);
    this.outBytes += frame.length;
  }

  private async drain(fd: number): Promise<void> {
    while (this.outBytes > 0) {
      const bufs = this.out;
      const bytes = this.outBytes;
      this.out = [];
      this.outBytes = 0;
      await writeAll(this.o.fs, fd, bufs.length === 1 ? bufs[0] : Buffer.concat(bufs, bytes), this.fileBytes);
      this.fileBytes += bytes;
    }
  }

  /** stops copy-on-write (jobs left below the epoch are simply written by the next snapshot) */
  private detach(): void {
    const obs = this.o.store.observers;
    const i = obs.indexOf(this.observer);
    if (i >= 0) obs.splice(i, 1);
    this.done = new JobMarks();
  }
}
