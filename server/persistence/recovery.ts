import * as fs from 'fs';
import { JobStore } from '../engine/job-store';
import { ReplayError, applyRecord } from '../engine/apply-record';
import { LogLevel } from './append-log';
import { DirListing, inDir, listDataDir, segmentName, snapshotName } from './data-files';
import { walkFile } from './file-walker';
import { withPrefaultedArena } from './prefaulted-memory';
import { Generation, readManifest } from './manifest';
import { FRAME_HEADER, decodeRecord } from './record-codec';
import { LoadedSnapshot, SnapshotError, installSnapshot, readSnapshot } from './snapshot-reader';

export interface RecoveryReport {
  /** jobs in the store after loading */
  jobs: number;
  /** log records replayed after the snapshot */
  records: number;
  /** payload arena memory a helper thread touched ahead of the load (prefaulted-memory.ts); absent: no helper (a small load) */
  prefaultedBytes?: number;
  snapshotLoaded: boolean;
  /** a torn record cut off the end of the last segment */
  truncatedTail?: { file: string; offset: number };
  /** with `repair`: what was dropped */
  repaired?: string[];
  ms: number;
}

export interface RecoveryResult {
  report: RecoveryReport;
  /** the segment new records go to */
  nextSegment: number;
  /** nextSegment exists and is empty: append to it rather than create it */
  reuseSegment: boolean;
  /** the snapshot generation loaded (null: the log was replayed from its start) */
  generation: Generation | null;
  /** unix seconds the loaded snapshot was taken (0 = none) */
  lastSaveTime: number;
  /** bytes of log replayed after the snapshot (counts towards the next automatic snapshot) */
  logBytes: number;
}

/** start-up cannot go on: names the file and offset */
export class RecoveryError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

export interface RecoveryOptions {
  dir: string;
  repair: boolean;
  log: (level: LogLevel, msg: string) => void;
}

/**
 * Start-up: load the newest usable snapshot, then replay the log segments
 * after it through applyRecord (the same transitions as live traffic),
 * yielding to the event loop as it goes. Rules:
 *  - a torn record at the end of the LAST segment is cut off, with a warning;
 *  - any other damage (a bad frame, a torn frame in an earlier segment, a
 *    missing segment) stops start-up naming the file and offset, unless
 *    `repair`: then the log is cut at the first bad record, the dropped
 *    bytes and later segments are set aside (*.dropped-*) and reported;
 *  - a damaged or incomplete snapshot (or manifest) falls back to the
 *    previous snapshot, or to the whole log when it still starts at segment 1.
 */
export async function recover(store: JobStore, o: RecoveryOptions): Promise<RecoveryResult> {
  const t0 = performance.now();
  const listing = listDataDir(o.dir);
  // what a load may read, to decide whether a helper thread should touch the payload arena's memory ahead of it
  let bytes = 0;
  for (const name of [...listing.snapshots.map(snapshotName), ...listing.segments.map(segmentName)]) bytes += fileSize(inDir(o.dir, name));
  const { value, prefaultedBytes } = await withPrefaultedArena(bytes, () => recoverListed(store, o, listing, t0));
  if (prefaultedBytes !== null) value.report.prefaultedBytes = prefaultedBytes;
  return value;
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0; // gone since the listing: the load reports it
  }
}

async function recoverListed(store: JobStore, o: RecoveryOptions, listing: DirListing, t0: number): Promise<RecoveryResult> {
  const { dir, log } = o;
  for (const t of listing.temps) {
    log('info', `removing ${t} (left over from an interrupted write)`);
    fs.rmSync(inDir(dir, t), { force: true });
  }
  const report: RecoveryReport = { jobs: 0, records: 0, snapshotLoaded: false, ms: 0 };
  const repaired: string[] = [];

  // ---- the snapshot -------------------------------------------------------
  const candidates: Generation[] = [];
  const m = readManifest(dir);
  if (m.kind === 'ok') {
    candidates.push(m.manifest.current);
    if (m.manifest.previous) candidates.push(m.manifest.previous);
  } else if (m.kind === 'bad') {
    log('warn', `MANIFEST is unusable (${m.reason}); looking for snapshots in ${dir}`);
  }
  for (const n of [...listing.snapshots].reverse()) {
    if (!candidates.some((c) => c.firstSegment === n)) candidates.push({ snapshot: snapshotName(n), firstSegment: n });
  }
  let snap: LoadedSnapshot | null = null;
  let generation: Generation | null = null;
  const failures: string[] = [];
  for (const c of candidates) {
    if (!listing.snapshots.includes(c.firstSegment)) {
      failures.push(`${c.snapshot} is missing`);
      log('warn', `${c.snapshot} (named by MANIFEST) is missing; trying an older snapshot`);
      continue;
    }
    try {
      const s = await readSnapshot(inDir(dir, c.snapshot), c.snapshot);
      if (s.header.firstSegment !== c.firstSegment) throw new SnapshotError(c.snapshot, 0, `header names segment ${s.header.firstSegment}`);
      await installSnapshot(store, s, c.snapshot);
      snap = s;
      generation = c;
      break;
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      failures.push(e.message);
      log('warn', `${e.message}; trying an older snapshot`);
    }
  }

  let from: number;
  if (generation) {
    from = generation.firstSegment;
  } else {
    from = listing.segments[0] ?? 1;
    if (from !== 1) {
      const why = failures.length > 0 ? `no usable snapshot (${failures.join('; ')})` : 'no snapshot';
      const msg = `${why}, and log segment ${segmentName(1)} is missing (the log starts at ${segmentName(from)}): the state before it is lost`;
      if (!o.repair) throw new RecoveryError(`${msg}; start with --repair to load what is there`, segmentName(1));
      log('error', `repair: ${msg}; loading from ${segmentName(from)}`);
      repaired.push(msg);
    } else if (failures.length > 0) {
      log('warn', `no usable snapshot; replaying the whole log from ${segmentName(1)}`);
    }
  }

  if (snap) {
    report.snapshotLoaded = true;
    log('info', `loaded ${generation!.snapshot}: ${snap.jobs.length} jobs`);
  }

  // ---- the log ------------------------------------------------------------
  const segments = listing.segments.filter((n) => n >= from);
  const last = segments.length > 0 ? segments[segments.length - 1] : 0;
  if (generation && segments.length === 0) {
    // the writer creates this segment before the snapshot exists, so it was deleted
    const msg = `log segment ${segmentName(from)}, which follows ${generation.snapshot}, is missing`;
    if (!o.repair) throw new RecoveryError(`${msg}; start with --repair to load the snapshot alone`, segmentName(from), 0);
    log('error', `repair: ${msg}; loading the snapshot alone`);
    repaired.push(msg);
  }
  let expected = from;
  let logBytes = 0;
  let lastKept = from - 1;
  let lastKeptSize = -1;
  for (let k = 0; k < segments.length; k++) {
    const n = segments[k];
    const name = segmentName(n);
    if (n !== expected) {
      const msg = `log segment ${segmentName(expected)} is missing (found ${name} after ${k > 0 ? segmentName(segments[k - 1]) : 'the snapshot'})`;
      if (!o.repair) throw new RecoveryError(`${msg}; start with --repair to drop the segments after the gap`, segmentName(expected), 0);
      repaired.push(...setAside(dir, segments.slice(k), log, msg));
      break;
    }
    expected++;
    const path = inDir(dir, name);
    const walk = await walkFile(path, (buf, s, e, offset) => {
      const rec = decodeRecord(buf, s, e);
      try {
        applyRecord(store, rec);
      } catch (err) {
        if (!(err instanceof ReplayError)) throw err;
        const msg = `record at offset ${offset} of ${name} cannot be applied: ${err.message}`;
        if (!o.repair) throw new RecoveryError(`${msg}; start with --repair to skip it`, name, offset);
        log('error', `repair: skipping the ${msg}`);
        repaired.push(`skipped: ${msg}`);
      }
      report.records++;
    });
    logBytes += walk.size;
    lastKept = n;
    lastKeptSize = walk.end.kind === 'clean' ? walk.size : walk.end.offset;
    const end = walk.end;
    if (end.kind === 'clean') continue;
    const isLast = n === last;
    if (isLast && (end.kind === 'torn' || tailLooksTorn(path, end.offset, walk.size))) {
      fs.truncateSync(path, end.offset);
      log(
        'warn',
        `${name}: cut off a torn record at offset ${end.offset} (${end.reason}; ${walk.size - end.offset} bytes dropped): the last write before the crash did not complete`,
      );
      report.truncatedTail = { file: name, offset: end.offset };
      logBytes -= walk.size - end.offset;
      continue;
    }
    const what = end.kind === 'torn' ? `incomplete record (${end.reason}) in a segment that is not the last` : `corrupt record (${end.reason})`;
    const msg = `${name}: ${what} at offset ${end.offset}`;
    if (!o.repair) throw new RecoveryError(`${msg}; start with --repair to cut the log there (dropping everything after it)`, name, end.offset);
    repaired.push(cutAt(dir, name, end.offset, walk.size, log, msg));
    logBytes -= walk.size - end.offset;
    repaired.push(...setAside(dir, segments.slice(k + 1), log, msg));
    break;
  }

  report.jobs = store.jobs.size;
  report.ms = Math.round(performance.now() - t0);
  if (repaired.length > 0) report.repaired = repaired;
  return {
    report,
    nextSegment: lastKeptSize === 0 ? lastKept : lastKept + 1,
    reuseSegment: lastKeptSize === 0,
    generation,
    lastSaveTime: snap ? Math.floor(snap.header.createdAt / 1000) : 0,
    logBytes,
  };
}

/**
 * A bad frame at the end of the last segment that is what a crash mid-write
 * leaves: a frame that ends exactly at the end of the file but fails its
 * CRC (its bytes did not all reach the disk), or nothing but zero bytes from
 * there on (the file grew before its data was written).
 */
function tailLooksTorn(path: string, offset: number, size: number): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.alloc(FRAME_HEADER);
    if (fs.readSync(fd, head, 0, FRAME_HEADER, offset) === FRAME_HEADER && offset + FRAME_HEADER + head.readUInt32LE(0) === size) return true;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (let pos = offset; pos < size;) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) if (buf[i] !== 0) return false;
      pos += n;
    }
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/** repair: keeps the bytes from offset on in a side file, then truncates */
function cutAt(dir: string, name: string, offset: number, size: number, log: RecoveryOptions['log'], why: string): string {
  const path = inDir(dir, name);
  const side = `${name}.dropped-${offset}-${Date.now()}`;
  const fd = fs.openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.writeFileSync(inDir(dir, side), buf);
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(path, offset);
  const msg = `${why}: cut ${name} at offset ${offset}, dropping ${size - offset} bytes (kept in ${side})`;
  log('error', `repair: ${msg}`);
  return msg;
}

/** repair: moves later segments out of the log */
function setAside(dir: string, segments: number[], log: RecoveryOptions['log'], why: string): string[] {
  const out: string[] = [];
  const stamp = Date.now();
  for (const n of segments) {
    const name = segmentName(n);
    const side = `${name}.dropped-${stamp}`;
    fs.renameSync(inDir(dir, name), inDir(dir, side));
    const msg = `${why}: dropped ${name} (${fs.statSync(inDir(dir, side)).size} bytes, kept as ${side})`;
    log('error', `repair: ${msg}`);
    out.push(msg);
  }
  return out;
}
