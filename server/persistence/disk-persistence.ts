import { JobStore } from '../engine/job-store';
import { LogRecord } from '../engine/records';
import { AppendLog, FsyncPolicy, LogLevel } from './append-log';
import { FsOps, errorText } from './fs-ops';
import { inDir, listDataDir, segmentName, snapshotName } from './data-files';
import { Generation, writeManifest } from './manifest';
import { SnapshotResult, SnapshotWriter } from './snapshot-writer';
import { FsyncObserver, Persistence } from './types';
import { ensureDataDir } from './dir-lock';

export interface DiskPersistenceOptions {
  dir: string;
  fs: FsOps;
  store: JobStore;
  appendfsync: () => FsyncPolicy;
  snapshotLogSize: () => number;
  snapshotSlice: () => number;
  log: (level: LogLevel, msg: string) => void;
}

export interface DiskState {
  /** the snapshot generation in use (null: none yet, the log starts at segment 1) */
  generation: Generation | null;
  lastSaveTime: number;
  /** log bytes after the snapshot already on disk at start-up */
  logBytes: number;
}

/** after a failed automatic snapshot, wait this long before the next try */
const AUTO_RETRY_MS = 60_000;

/**
 * The Persistence the server uses: the append log, snapshots (SAVE, BGSAVE
 * and automatic ones once the log since the last snapshot passes
 * snapshot-log-size), the manifest, and removal of what a snapshot made
 * obsolete. It keeps one older generation (the previous snapshot and the
 * segments after it) so a damaged newest snapshot still leaves one to load.
 */
export class DiskPersistence implements Persistence {
  lastSaveTime: number;
  private generation: Generation | null;
  private running: { writer: SnapshotWriter; done: Promise<SnapshotResult> } | null = null;
  /** log.appendedBytes when the current snapshot's segment began, minus the bytes already on disk after it */
  private logBytesBase: number;
  private lastAutoFailure = 0;
  private lastStatus: 'ok' | 'err' = 'ok';
  private lastResult: SnapshotResult | null = null;
  private lsnAtSnapshot = 0;
  private closed = false;

  constructor(
    readonly log: AppendLog,
    private readonly o: DiskPersistenceOptions,
    state: DiskState,
  ) {
    this.generation = state.generation;
    this.lastSaveTime = state.lastSaveTime;
    this.logBytesBase = -state.logBytes;
    log.onDurable(() => this.maybeAutoSnapshot());
  }

  /** metrics: fsync latency and group-commit batch size of each `always` flush */
  setFsyncObserver(o: FsyncObserver): void {
    this.log.syncObserver = (ms, records, bytes) => o.fsynced(ms, records, bytes);
  }

  // ---- Persistence ------------------------------------------------------

  get lastLsn(): number {
    return this.log.lastLsn;
  }
  get durableLsn(): number {
    return this.log.durableLsn;
  }
  get writtenLsn(): number {
    return this.log.writtenLsn;
  }
  get writable(): boolean {
    return this.log.writable;
  }
  get lastError(): string | null {
    return this.log.lastError;
  }

  append(rec: LogRecord): void {
    this.log.append(rec);
  }

  onDurable(listener: (lsn: number) => void): void {
    this.log.onDurable(listener);
  }

  onWritten(listener: (lsn: number) => void): void {
    this.log.onWritten(listener);
  }

  wantDurable(lsn: number): void {
    this.log.wantDurable(lsn);
  }

  /** SAVE: waits for a running snapshot, then takes one of the state as it is now */
  async save(): Promise<void> {
    if (this.running) await this.running.done.catch(() => {});
    await this.startSnapshot();
  }

  bgsave(): boolean {
    if (this.running || this.closed) return false;
    this.startSnapshot().catch(() => {});
    return true;
  }

  get snapshotRunning(): boolean {
    return this.running !== null;
  }

  /** bytes of log since the current snapshot's point in time */
  get logBytesSinceSnapshot(): number {
    return this.log.appendedBytes - this.logBytesBase;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.running) {
      this.running.writer.abort();
      await this.running.done.catch(() => {});
    }
    await this.log.close();
  }

  info(): Array<[string, string | number]> {
    const l = this.log;
    const r = this.lastResult;
    return [
      ['aof_enabled', 1],
      ['appendfsync', this.o.appendfsync()],
      ['aof_last_write_status', l.writable ? 'ok' : 'err'],
      ['aof_last_error', l.lastError ?? ''],
      ['aof_current_segment', segmentName(l.currentSegment)],
      ['aof_size_since_snapshot', this.logBytesSinceSnapshot],
      ['aof_pending_bytes', l.pendingByteCount],
      ['aof_last_lsn', l.lastLsn],
      ['aof_durable_lsn', l.durableLsn],
      ['aof_written_lsn', l.writtenLsn],
      ['aof_writes', l.stats.writes],
      ['aof_fsyncs', l.stats.fsyncs],
      ['aof_write_errors', l.stats.errors],
      ['aof_write_avg_us', l.stats.writes ? Math.round(l.stats.writeMicros / l.stats.writes) : 0],
      ['aof_fsync_avg_us', l.stats.fsyncs ? Math.round(l.stats.fsyncMicros / l.stats.fsyncs) : 0],
      ['rdb_changes_since_last_save', l.lastLsn - this.lsnAtSnapshot],
      ['rdb_bgsave_in_progress', this.running ? 1 : 0],
      ['rdb_last_save_time', this.lastSaveTime],
      ['rdb_last_bgsave_status', this.lastStatus],
      ['rdb_last_bgsave_time_sec', r ? Math.round(r.ms / 1000) : -1],
      ['rdb_last_snapshot', this.generation?.snapshot ?? ''],
      ['rdb_last_snapshot_jobs', r ? r.jobs : -1],
      ['rdb_last_snapshot_bytes', r ? r.bytes : -1],
    ];
  }

  // ---- snapshots ----------------------------------------------------------

  private maybeAutoSnapshot(): void {
    const limit = this.o.snapshotLogSize();
    if (limit <= 0 || this.running || this.closed || this.logBytesSinceSnapshot <= limit) return;
    if (Date.now() - this.lastAutoFailure < AUTO_RETRY_MS) return;
    this.o.log('info', `log is ${this.logBytesSinceSnapshot} bytes since the last snapshot (snapshot-log-size ${limit}): taking a snapshot`);
    this.startSnapshot().catch(() => {
      this.lastAutoFailure = Date.now();
    });
  }

  private startSnapshot(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('persistence is closed'));
    const appendedAtStart = this.log.appendedBytes;
    const lsnAtStart = this.log.lastLsn;
    const writer = new SnapshotWriter({ dir: this.o.dir, fs: this.o.fs, store: this.o.store, log: this.log, slice: this.o.snapshotSlice, logger: this.o.log });
    const done = writer.run();
    this.running = { writer, done };
    return done.then(
      async (res) => {
        try {
          await this.install(res);
        } catch (e) {
          // the snapshot is complete on disk and its segment exists: the next start-up still finds it by name
          this.fail(res.file, e);
          throw e;
        } finally {
          this.running = null;
        }
        this.logBytesBase = appendedAtStart;
        this.lsnAtSnapshot = lsnAtStart;
        this.lastStatus = 'ok';
        this.lastResult = res;
        this.lastSaveTime = Math.floor(Date.now() / 1000);
        this.o.log('info', `snapshot ${res.file} saved: ${res.jobs} jobs, ${res.bytes} bytes in ${res.ms} ms`);
      },
      (e) => {
        this.running = null;
        this.fail(writer.file, e);
        throw e;
      },
    );
  }

  private fail(file: string, e: unknown): void {
    this.lastStatus = 'err';
    this.o.log(this.closed ? 'info' : 'error', `snapshot ${file} failed (${errorText(e)}); the previous snapshot stays in use`);
  }

  /** points the manifest at the new snapshot, then removes what only the generation before the previous one needed */
  private async install(res: SnapshotResult): Promise<void> {
    const previous = this.generation;
    const current = { snapshot: res.file, firstSegment: res.firstSegment };
    await writeManifest(this.o.fs, this.o.dir, { format: 1, current, previous, savedAt: Date.now() });
    this.generation = current;
    // keep: the new snapshot, the previous one and the segments from the previous one's on
    const keepFrom = previous ? previous.firstSegment : 1;
    const listing = listDataDir(this.o.dir);
    const doomed = [
      ...listing.snapshots.filter((n) => n < keepFrom || (n < res.firstSegment && n !== previous?.firstSegment)).map(snapshotName),
      ...listing.segments.filter((n) => n < keepFrom).map(segmentName),
    ];
    for (const name of doomed) {
      try {
        await this.o.fs.unlink(inDir(this.o.dir, name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log('warn', `cannot remove ${name}: ${errorText(e)}`);
      }
    }
  }
}

/** creates the data directory if missing (one level at a time: see ensureDataDir) */
export function ensureDir(dir: string): void {
  ensureDataDir(dir);
}
