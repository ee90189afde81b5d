import type { LogLevel } from '../log';
import { LogRecord } from '../engine/records';
import { FsOps, errorText, writeAll } from './fs-ops';
import * as codec from './record-codec';
import { inDir, segmentName } from './data-files';

export type FsyncPolicy = 'always' | 'everysec' | 'no';
export type { LogLevel };

export interface AppendLogOptions {
  dir: string;
  fs: FsOps;
  /** read at every batch: CONFIG SET applies at once */
  appendfsync: () => FsyncPolicy;
  segmentSize: () => number;
  log: (level: LogLevel, msg: string) => void;
  /** the segment the first records go to; it must not exist yet, unless reuseFirst */
  firstSegment: number;
  /** firstSegment exists and is empty (found so at start-up): write into it */
  reuseFirst?: boolean;
  /** after a disk error, try again this often (default 500 ms) */
  retryMs?: number;
  /** `everysec`: fdatasync this often (default 1000 ms) */
  syncIntervalMs?: number;
  /**
   * `always`: write each batch at once and fdatasync apart from the writes
   * (writtenLsn runs ahead of durableLsn, for replies that only need their
   * records in the OS), instead of one O_DSYNC write per batch. Read at every
   * batch.
   */
  writeAhead?: () => boolean;
}

/** most bytes handed to one write call; a larger backlog goes in several */
const MAX_WRITE = 16 * 1024 * 1024;
/** `always`: most fdatasyncs in flight at once (the disk overlaps them; see writeBatch) */
const PIPELINE = 2;

/**
 * Frames of consecutive records that are one run of one arena
 * (record-codec.ts encodes them one after the other): written as they lie,
 * no Buffer per record and no copy. A run ends where the encoder started a
 * new arena, at a segment rotation (sealed: a batch never spans two
 * segments), and when the writer takes it (sealed: records appended while it
 * writes start a new run).
 */
interface Run {
  buf: Buffer;
  start: number;
  end: number;
  records: number;
  sealed: boolean;
}

/** records written with one write call, and (under `always`) their fdatasync */
interface Batch {
  firstLsn: number;
  lastLsn: number;
  /** where in the segment the batch begins */
  startPos: number;
  runs: Run[];
  settled: boolean;
  error: unknown;
  done: Promise<void>;
  /** its bytes are in the OS (a plain write returned, or its O_DSYNC write did) */
  written: boolean;
  /** write-ahead mode: settles the batch once a sync that began after its write returns */
  synced: (() => void) | null;
}

interface OpenSegment {
  seg: number;
  fd: number;
  /** the same file opened O_DSYNC (see FsOps.openDsync), for `always`; -1 if none */
  dsyncFd: number;
  /** bytes of complete records in the file; the next write goes here */
  size: number;
  /** bytes written since the last fdatasync */
  unsynced: boolean;
}

/**
 * The segmented append-only log with group commit.
 *
 * append() encodes the record at once into a pending list and bumps lastLsn;
 * it never does I/O and never throws. A flush, scheduled with setImmediate,
 * writes everything pending in one write, made durable under `always` (an
 * O_DSYNC write, or write + fdatasync); then durableLsn advances and the
 * onDurable listeners run. Records appended while that runs go in the next
 * batch, which may start before the previous one is durable (two in flight
 * at most, confirmed in order), so all the clients served in one event-loop
 * turn share one sync, and the next turn's clients do not wait for it.
 *
 * On a disk error the log turns unwritable (the server answers -MISCONF to
 * writes), keeps the records it could not write, cuts the segment back to
 * its last complete record, and tries again every retryMs until the disk
 * takes the bytes; durableLsn never covers a record that is not written.
 */
export class AppendLog {
  lastLsn = 0;
  /** every record <= this is as durable as the policy promises */
  durableLsn = 0;
  /**
   * every record <= this is written to the OS (it survives a crash of this
   * process, not of the machine); >= durableLsn
   */
  writtenLsn = 0;
  /** metrics: told of each group-commit flush under `always` (ms, records in the batch, bytes) */
  syncObserver: ((ms: number, records: number, bytes: number) => void) | null = null;
  writable = true;
  lastError: string | null = null;
  /** bytes handed to append() since open (for the automatic snapshot) */
  appendedBytes = 0;
  readonly stats = { writes: 0, fsyncs: 0, bytesWritten: 0, errors: 0, fsyncMicros: 0, writeMicros: 0 };

  /** frames not yet written, in runs; the first record of pending[0] has LSN writtenLsn + 1 */
  private pending: Run[] = [];
  /** records in pending */
  private pendingRecords = 0;
  /** written batches whose durability is not confirmed yet, oldest first */
  private inflight: Batch[] = [];
  private pendingBytes = 0;
  /** records taken off the pending list by the writer (written, or being written) */
  private takenLsn = 0;
  /** write-ahead mode: written batches no fdatasync has covered yet, and whether one runs */
  private unsyncedBatches: Batch[] = [];
  /** write-ahead mode: fdatasyncs running (at most PIPELINE) */
  private syncsInFlight = 0;
  /** write-ahead mode: the highest LSN a reply (or flush) waits to see durable; see wantDurable */
  private wantedLsn = 0;
  /** segment starts not yet opened by the writer: records with LSN >= lsn go to seg */
  private readonly rotations: Array<{ lsn: number; seg: number }> = [];
  /** the segment appends go to, and its size so far (written + pending) */
  private appendSeg: number;
  private appendSegBytes = 0;
  private file: OpenSegment | null = null;
  private needTruncate = false;
  private syncRequested = false;
  private running: Promise<void> | null = null;
  private scheduled = false;
  /** set while the writer waits for syncs in flight and could take more records */
  private wake: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly syncTimer: NodeJS.Timeout;
  private closed = false;
  private readonly listeners: Array<(lsn: number) => void> = [];
  private readonly writtenListeners: Array<(lsn: number) => void> = [];
  private readonly segmentWaiters: Array<{ seg: number; resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly o: AppendLogOptions) {
    this.appendSeg = o.firstSegment;
    this.rotations.push({ lsn: 1, seg: o.firstSegment });
    this.syncTimer = setInterval(() => this.tickEverysec(), o.syncIntervalMs ?? 1000);
    this.syncTimer.unref();
  }

  /** creates the first segment; rejects if it cannot (start-up then fails) */
  async open(): Promise<void> {
    const created = this.segmentCreated(this.o.firstSegment);
    void this.kick();
    try {
      await created;
    } catch (e) {
      await this.close().catch(() => {});
      throw e;
    }
  }

  /** the segment appends go to now */
  get currentSegment(): number {
    return this.appendSeg;
  }

  get pendingByteCount(): number {
    return this.pendingBytes;
  }

  append(rec: LogRecord): void {
    const buf = codec.encodeRecordToArena(rec);
    const start = codec.frameStart;
    const length = codec.frameEnd - start;
    if (this.appendSegBytes > 0 && this.appendSegBytes + length > this.o.segmentSize()) this.rotate();
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1] : null;
    if (last !== null && !last.sealed && last.buf === buf && last.end === start) {
      last.end += length;
      last.records++;
    } else {
      this.pending.push({ buf, start, end: start + length, records: 1, sealed: false });
    }
    this.pendingRecords++;
    this.pendingBytes += length;
    this.appendSegBytes += length;
    this.appendedBytes += length;
    this.lastLsn++;
    this.schedule();
  }

  /** records appended from now on go to a new segment; returns its number (it is created even if nothing follows) */
  rotate(): number {
    if (this.pending.length > 0) this.pending[this.pending.length - 1].sealed = true;
    this.appendSeg++;
    this.appendSegBytes = 0;
    this.rotations.push({ lsn: this.lastLsn + 1, seg: this.appendSeg });
    this.schedule();
    return this.appendSeg;
  }

  onDurable(listener: (lsn: number) => void): void {
    this.listeners.push(listener);
  }

  /** called each time writtenLsn advances (also when durableLsn does: what is durable is written) */
  onWritten(listener: (lsn: number) => void): void {
    this.writtenListeners.push(listener);
  }

  /** resolves once segment `seg` exists on disk (created and the directory synced) */
  segmentCreated(seg: number): Promise<void> {
    if (this.file && this.file.seg >= seg) return Promise.resolve();
    return new Promise((resolve, reject) => this.segmentWaiters.push({ seg, resolve, reject }));
  }

  /**
   * Somebody waits for the records up to lsn to be durable. Writing ahead,
   * the log runs an fdatasync only for records somebody waits for (and once
   * per sync interval for the rest): records whose replies only needed them
   * written (lease operations) cost no flush of their own.
   */
  wantDurable(lsn: number): void {
    if (lsn <= this.wantedLsn) return;
    this.wantedLsn = lsn;
    if (this.file && lsn > this.durableLsn) this.startSync(this.file);
  }

  /** resolves when every record appended so far is durable; rejects if the log is failing */
  async flush(): Promise<void> {
    const target = this.lastLsn;
    this.wantDurable(target);
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    await this.kick();
    if (this.durableLsn < target) throw new Error(`the log could not be written: ${this.lastError ?? 'unknown error'}`);
  }

  /** flushes, fsyncs whatever the policy left unsynced, closes the segment */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    try {
      await this.flush();
      if (this.file?.unsynced) {
        await this.o.fs.fdatasync(this.file.fd);
        this.stats.fsyncs++;
        this.file.unsynced = false;
      }
    } finally {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.file) {
        const f = this.file;
        this.file = null;
        await this.closeFile(f);
      }
    }
  }

  // ---- the writer ---------------------------------------------------------

  /**
   * After this event-loop turn (so all the records appended in it go in one
   * batch): starts the writer, or wakes it if it only waits for syncs in
   * flight (it may write the next batch meanwhile).
   */
  private schedule(): void {
    if (this.scheduled || this.retryTimer || this.closed) return;
    if (this.running && !this.wake) return; // it looks at the pending records when its current step is done
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const wake = this.wake;
      this.wake = null;
      if (wake) wake();
      else void this.kick();
    });
  }

  /** runs the writer unless it runs already; resolves when it stops */
  private kick(): Promise<void> {
    if (!this.running) {
      this.running = this.writeLoop().finally(() => {
        this.running = null;
        // appended while the last write ran, after the loop looked
        if (!this.retryTimer && this.hasWork()) this.schedule();
      });
    }
    return this.running;
  }

  private hasWork(): boolean {
    return this.pendingRecords > 0 || this.inflight.length > 0 || this.rotations.length > 0 || this.needTruncate || (this.syncRequested && this.file !== null);
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.hasWork()) {
        this.confirm();
        if (this.needTruncate) {
          if (this.file) await this.o.fs.ftruncate(this.file.fd, this.file.size);
          this.needTruncate = false;
        }
        const next = this.takenLsn + 1;
        if (this.rotations.length > 0 && this.rotations[0].lsn <= next) {
          // the old segment is closed: nothing may still be in flight on it
          if (this.inflight.length > 0) {
            this.wantDurable(this.takenLsn);
            await this.inflight[0].done;
          } else {
            await this.openSegment(this.rotations[0].seg);
            this.rotations.shift();
          }
          continue;
        }
        let count = this.pendingRecords;
        if (this.rotations.length > 0) count = Math.min(count, this.rotations[0].lsn - next);
        if (count > 0 && (this.inflight.length < PIPELINE || this.writingAhead())) {
          await this.writeBatch(count);
          continue;
        }
        if (this.inflight.length > 0) {
          const oldest = this.inflight[0].done;
          if (count > 0) await oldest;
          else await new Promise<void>((resolve) => ((this.wake = resolve), oldest.then(resolve)));
          this.wake = null;
          continue;
        }
        if (this.syncRequested && this.file) {
          this.syncRequested = false;
          if (this.file.unsynced) await this.sync(this.file);
        }
      }
      if (!this.writable) {
        this.writable = true;
        this.lastError = null;
        this.o.log('warn', 'the log is writable again');
      }
    } catch (e) {
      await this.rewind();
      await this.fail(e);
    }
  }

  /**
   * Writes up to max pending records at the end of the segment.
   *
   * Under `always` the batch must be durable before it counts, and the next
   * batch need not wait for that: it may be written and made durable
   * meanwhile (at most PIPELINE batches in flight; the disk overlaps them),
   * and confirm() reports batches durable in order. Where the platform has
   * O_DSYNC the batch is written through the O_DSYNC descriptor: one system
   * call, durable when it returns. Otherwise (or when records written under
   * another policy are still unsynced) it is written, then fdatasync'ed.
   *
   * Writing ahead (see AppendLogOptions.writeAhead), batches are written as
   * soon as they form, never behind a sync; each fdatasync (at most PIPELINE
   * at a time, started on demand) covers the batches written before it began
   * (see startSync).
   */
  private async writeBatch(max: number): Promise<void> {
    const file = this.file!;
    // whole runs (a rotation seals the run before it, so max falls on a run's end)
    let runCount = 0;
    let count = 0;
    let bytes = 0;
    while (runCount < this.pending.length) {
      const r = this.pending[runCount];
      if (runCount > 0 && (count + r.records > max || bytes + (r.end - r.start) > MAX_WRITE)) break;
      r.sealed = true; // appends during the write start a new run
      count += r.records;
      bytes += r.end - r.start;
      runCount++;
    }
    const runs = this.pending.slice(0, runCount);
    const data = runBytes(runs, bytes);
    const always = this.o.appendfsync() === 'always';
    const ahead = always && this.writingAhead();
    const dsync = always && !ahead && file.dsyncFd >= 0 && !file.unsynced;
    const pos = file.size;
    const batch: Batch = {
      firstLsn: this.takenLsn + 1,
      lastLsn: this.takenLsn + count,
      startPos: pos,
      runs,
      settled: true,
      written: !dsync,
      error: null,
      done: Promise.resolve(),
      synced: null,
    };
    if (dsync) {
      batch.settled = false;
      const started = performance.now();
      batch.done = writeAll(this.o.fs, file.dsyncFd, data, pos).then(
        () => {
          this.stats.writes++;
          this.stats.fsyncs++;
          this.stats.fsyncMicros += Math.round((performance.now() - started) * 1000);
          this.syncObserver?.(performance.now() - started, count, bytes);
          batch.settled = true;
          batch.written = true;
        },
        (err: unknown) => {
          batch.error = err ?? new Error('write failed');
          batch.settled = true;
        },
      );
    } else {
      const t = performance.now();
      await writeAll(this.o.fs, file.fd, data, pos);
      this.stats.writeMicros += Math.round((performance.now() - t) * 1000);
      this.stats.writes++;
      file.unsynced = true;
    }
    // handed to the disk: off the pending list (a failure puts them back, see rewind)
    if (runCount === this.pending.length) this.pending = [];
    else this.pending.splice(0, runCount);
    this.pendingRecords -= count;
    this.pendingBytes -= bytes;
    file.size = pos + bytes;
    this.stats.bytesWritten += bytes;
    this.takenLsn += count;
    if (ahead) {
      batch.settled = false;
      batch.done = new Promise<void>((resolve) => (batch.synced = resolve));
      this.unsyncedBatches.push(batch);
      this.startSync(file);
    } else if (always && !dsync) {
      file.unsynced = false; // this sync covers everything written so far
      batch.settled = false;
      const started = performance.now();
      batch.done = this.o.fs.fdatasync(file.fd).then(
        () => {
          this.stats.fsyncs++;
          this.stats.fsyncMicros += Math.round((performance.now() - started) * 1000);
          this.syncObserver?.(performance.now() - started, count, bytes);
          batch.settled = true;
        },
        (err: unknown) => {
          batch.error = err ?? new Error('fdatasync failed');
          batch.settled = true;
        },
      );
    }
    if (!batch.settled || this.inflight.length > 0)
      this.inflight.push(batch); // durable after the batches before it
    else this.advance(this.takenLsn);
    this.noteWritten();
    this.confirm();
  }

  private writingAhead(): boolean {
    return this.o.appendfsync() === 'always' && this.o.writeAhead !== undefined && this.o.writeAhead();
  }

  /**
   * Write-ahead mode: one fdatasync covers every batch written before it
   * began and not covered yet; batches written while it runs get a second
   * one at once (at most PIPELINE run together: the disk overlaps them), if
   * somebody waits for them (wantDurable). A failed sync fails the batches
   * it covered (the first one carries the error: rewind() writes them all
   * again, and everything after them, whatever later syncs said).
   */
  private startSync(file: OpenSegment): void {
    if (this.syncsInFlight >= PIPELINE || this.unsyncedBatches.length === 0) return;
    if (this.wantedLsn < this.unsyncedBatches[0].firstLsn) return; // nobody waits for these yet (see wantDurable)
    const covered = this.unsyncedBatches;
    this.unsyncedBatches = [];
    this.syncsInFlight++;
    file.unsynced = false;
    const started = performance.now();
    const settle = (err: unknown): void => {
      this.syncsInFlight--;
      if (err !== null) {
        covered[0].error = err;
        file.unsynced = true;
      } else {
        const ms = performance.now() - started;
        this.stats.fsyncs++;
        this.stats.fsyncMicros += Math.round(ms * 1000);
        let bytes = 0;
        for (const b of covered) for (const r of b.runs) bytes += r.end - r.start;
        this.syncObserver?.(ms, covered[covered.length - 1].lastLsn - covered[0].firstLsn + 1, bytes);
      }
      for (const b of covered) {
        b.settled = true;
        b.synced!();
      }
      this.startSync(file); // the batches written meanwhile (the segment cannot rotate while any is in flight)
    };
    this.o.fs.fdatasync(file.fd).then(
      () => settle(null),
      (err: unknown) => settle(err ?? new Error('fdatasync failed')),
    );
  }

  /** writtenLsn covers the batches written so far, in order (an O_DSYNC batch is written when its call returns) */
  private noteWritten(): void {
    let lsn = this.durableLsn;
    for (const b of this.inflight) {
      if (!b.written) break;
      lsn = b.lastLsn;
    }
    if (this.inflight.length === 0) lsn = Math.max(lsn, this.takenLsn);
    this.advanceWritten(lsn);
  }

  private advanceWritten(lsn: number): void {
    if (lsn <= this.writtenLsn) return;
    this.writtenLsn = lsn;
    for (const l of this.writtenListeners) {
      try {
        l(lsn);
      } catch (e) {
        this.o.log('error', `onWritten listener: ${errorText(e)}`);
      }
    }
  }

  /** reports the batches whose syncs are done, in order; throws the error of a failed one */
  private confirm(): void {
    let lsn = 0; // one report for all the batches one sync settled
    while (this.inflight.length > 0 && this.inflight[0].settled) {
      const b = this.inflight[0];
      if (b.error !== null) {
        this.advance(lsn);
        throw b.error;
      }
      this.inflight.shift();
      lsn = b.lastLsn;
    }
    this.advance(lsn);
  }

  /**
   * After a failure: waits for every sync in flight, keeps the batches that
   * made it (in order), and puts the records of the first failed one and all
   * after it back in front of the pending list, to be written again from
   * where it began. A later sync succeeding proves nothing about an earlier
   * one that failed (the kernel reports a writeback error once), so nothing
   * after a failure counts.
   */
  private async rewind(): Promise<void> {
    this.wantDurable(this.takenLsn); // settles every written batch, to find the first that failed
    await Promise.all(this.inflight.map((b) => b.done));
    while (this.inflight.length > 0 && this.inflight[0].error === null) this.advance(this.inflight.shift()!.lastLsn);
    if (this.inflight.length === 0) return;
    const first = this.inflight[0];
    const runs: Run[] = [];
    let bytes = 0;
    for (const b of this.inflight) {
      for (const r of b.runs) {
        runs.push(r);
        bytes += r.end - r.start;
      }
    }
    this.pending = runs.concat(this.pending);
    this.pendingRecords += this.takenLsn - first.firstLsn + 1;
    this.pendingBytes += bytes;
    this.takenLsn = first.firstLsn - 1;
    if (this.file) {
      this.file.size = first.startPos;
      this.file.unsynced = true;
    }
    this.stats.bytesWritten -= bytes;
    this.inflight = [];
  }

  private async sync(file: OpenSegment): Promise<void> {
    file.unsynced = false;
    const t = performance.now();
    try {
      await this.o.fs.fdatasync(file.fd);
    } catch (e) {
      file.unsynced = true;
      throw e;
    }
    this.stats.fsyncMicros += Math.round((performance.now() - t) * 1000);
    this.stats.fsyncs++;
  }

  private async openSegment(seg: number): Promise<void> {
    const path = inDir(this.o.dir, segmentName(seg));
    // (after a failure halfway through, the segment may be open already: finish the job)
    if (this.file?.seg !== seg) {
      const old = this.file;
      if (old) {
        if (old.unsynced && this.o.appendfsync() !== 'no') await this.sync(old);
        this.file = null;
        await this.closeFile(old);
      }
      const reuse = seg === this.o.firstSegment && this.o.reuseFirst === true;
      const fd = await this.o.fs.open(path, reuse ? 'r+' : 'wx');
      this.file = { seg, fd, dsyncFd: -1, size: 0, unsynced: false };
    }
    const file = this.file!;
    await this.o.fs.syncDir(this.o.dir);
    if (this.o.fs.openDsync && file.dsyncFd < 0) file.dsyncFd = await this.o.fs.openDsync(path);
    for (let i = this.segmentWaiters.length - 1; i >= 0; i--) {
      const w = this.segmentWaiters[i];
      if (w.seg <= seg) {
        this.segmentWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private async closeFile(f: OpenSegment): Promise<void> {
    await this.o.fs.close(f.fd).catch(() => {});
    if (f.dsyncFd >= 0) await this.o.fs.close(f.dsyncFd).catch(() => {});
  }

  private advance(lsn: number): void {
    if (lsn <= this.durableLsn) return;
    this.durableLsn = lsn;
    this.advanceWritten(lsn);
    for (const l of this.listeners) {
      try {
        l(lsn);
      } catch (e) {
        this.o.log('error', `onDurable listener: ${errorText(e)}`);
      }
    }
  }

  /** a disk error: refuse writes, cut back to the last complete record, try again later */
  private async fail(e: unknown): Promise<void> {
    const msg = errorText(e);
    this.stats.errors++;
    if (this.writable || this.lastError !== msg) this.o.log('error', `cannot write the log (${msg}); write commands get -MISCONF until it can`);
    else this.o.log('debug', `log write retry failed: ${msg}`);
    this.writable = false;
    this.lastError = msg;
    // a partial write must not leave a torn record inside the segment: cut it now, and again before the next write
    // (inside the writer, so it cannot race a later write)
    if (this.file) {
      this.needTruncate = true;
      try {
        await this.o.fs.ftruncate(this.file.fd, this.file.size);
        this.needTruncate = false;
      } catch {
        // tried again before the next write
      }
    }
    for (const w of this.segmentWaiters.splice(0)) w.reject(new Error(`the log could not be written: ${msg}`));
    if (!this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.kick();
      }, this.o.retryMs ?? 500);
      this.retryTimer.unref();
    }
  }

  private tickEverysec(): void {
    if (this.unsyncedBatches.length > 0) this.wantDurable(this.takenLsn); // writing ahead: what nobody waited for
    if (this.o.appendfsync() !== 'everysec' || !this.file?.unsynced) return;
    this.syncRequested = true;
    this.schedule();
  }
}

/**
 * The bytes of the runs as one Buffer: a view of the arena for one run (the
 * usual case: a batch is one run unless the encoder started a new arena
 * inside it), else the runs joined.
 */
function runBytes(runs: Run[], bytes: number): Buffer {
  if (runs.length === 1) return runs[0].buf.subarray(runs[0].start, runs[0].end);
  const out = Buffer.allocUnsafe(bytes);
  let p = 0;
  for (const r of runs) p += r.buf.copy(out, p, r.start, r.end);
  return out;
}
