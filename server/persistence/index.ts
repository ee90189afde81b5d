import { JobStore } from '../engine/job-store';
import { AppendLog, FsyncPolicy, LogLevel } from './append-log';
import { DiskPersistence, ensureDir } from './disk-persistence';
import { FsOps, nodeFsOps } from './fs-ops';
import { RecoveryReport, recover } from './recovery';
import { Persistence } from './types';

export interface PersistenceOptions {
  /** the data directory; created if missing */
  dir: string;
  /** `always` (reply after fdatasync, group commit), `everysec`, `no`; read live */
  appendfsync: () => FsyncPolicy;
  /** `always`: write batches at once and fdatasync apart (writtenLsn runs ahead of durableLsn); read live */
  writeAhead?: () => boolean;
  /** start a new log segment past this many bytes */
  segmentSize: () => number;
  /** snapshot automatically once the log since the last snapshot passes this many bytes (0 = never) */
  snapshotLogSize: () => number;
  /** jobs written per event-loop turn while a snapshot streams */
  snapshotSlice: () => number;
  /** cut the log at the first bad record instead of refusing to start */
  repair: boolean;
  log: (level: LogLevel, msg: string) => void;
  /** file operations (tests inject failures); default: node's fs */
  fs?: FsOps;
  /** after a disk error, retry this often (default 500 ms) */
  retryMs?: number;
}

export type { RecoveryReport } from './recovery';
export { RecoveryError } from './recovery';
export type { FsOps } from './fs-ops';
export type { DirLock } from './dir-lock';
export { DataDirError, ensureDataDir, lockDataDir } from './dir-lock';
export { nodeFsOps } from './fs-ops';

/**
 * Start-up: loads the data directory into the (empty) store (snapshot, then
 * the log after it), opens a new log segment and returns the Persistence the
 * server journals to. Yields to the event loop while loading. Rejects with a
 * RecoveryError (file and offset) when the data cannot be loaded safely.
 */
export async function openPersistence(store: JobStore, opts: PersistenceOptions): Promise<{ persistence: DiskPersistence; report: RecoveryReport }> {
  const fs = opts.fs ?? nodeFsOps;
  ensureDir(opts.dir);
  const loaded = await recover(store, { dir: opts.dir, repair: opts.repair, log: opts.log });
  const log = new AppendLog({
    dir: opts.dir,
    fs,
    appendfsync: opts.appendfsync,
    writeAhead: opts.writeAhead,
    segmentSize: opts.segmentSize,
    log: opts.log,
    firstSegment: loaded.nextSegment,
    reuseFirst: loaded.reuseSegment,
    retryMs: opts.retryMs,
  });
  await log.open();
  const persistence = new DiskPersistence(
    log,
    { dir: opts.dir, fs, store, appendfsync: opts.appendfsync, snapshotLogSize: opts.snapshotLogSize, snapshotSlice: opts.snapshotSlice, log: opts.log },
    { generation: loaded.generation, lastSaveTime: loaded.lastSaveTime, logBytes: loaded.logBytes },
  );
  return { persistence, report: loaded.report };
}

export type { Persistence };
