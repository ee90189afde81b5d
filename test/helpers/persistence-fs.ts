import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FsOps, nodeFsOps } from '../../server/persistence/fs-ops';
import { LogRecord } from '../../server/engine/records';
import { readFrames } from '../../server/persistence/record-codec';
import { listDataDir, segmentName } from '../../server/persistence/data-files';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/**
 * Real files, with failures and stalls on demand: a test sets failWrites to
 * 'ENOSPC' (optionally letting part of the write through first), makes
 * fdatasync fail or wait, and counts the calls.
 */
export class TestFs implements FsOps {
  writes = 0;
  fsyncs = 0;
  /** error code every write fails with, or null */
  failWrites: string | null = null;
  /** when failing: let this many bytes of the write through first (a partial write) */
  partialBytes = 0;
  failSync: string | null = null;
  failOpen: string | null = null;
  failRename: string | null = null;
  /** outcomes of the next fdatasync calls, in the order they are called (null = success); then failSync applies */
  syncPlan: Array<string | null> = [];
  /** fdatasync waits for this before returning */
  syncGate: Promise<void> | null = null;
  /** called at each fdatasync (after the gate) */
  onSync: (() => void) | null = null;

  /** offer O_DSYNC descriptors (the `always` fast path); false tests the write + fdatasync path */
  dsync = true;
  private readonly dsyncFds = new Set<number>();
  /** writes through O_DSYNC descriptors (each is also counted in fsyncs when it succeeds) */
  dsyncWrites = 0;

  open(p: string, flags: string): Promise<number> {
    if (this.failOpen) return Promise.reject(errno(this.failOpen));
    return nodeFsOps.open(p, flags);
  }
  get openDsync(): ((p: string) => Promise<number>) | undefined {
    if (!this.dsync) return undefined;
    return async (p: string) => {
      if (this.failOpen) throw errno(this.failOpen);
      const fd = await nodeFsOps.openDsync!(p);
      this.dsyncFds.add(fd);
      return fd;
    };
  }
  async write(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.writes++;
    if (this.dsyncFds.has(fd)) {
      // a durable write: behaves like write + fdatasync for the sync plan, gate and failures
      this.dsyncWrites++;
      const planned = this.syncPlan.length > 0 ? this.syncPlan.shift()! : undefined;
      if (this.syncGate) await this.syncGate;
      this.onSync?.();
      const fail = planned === undefined ? (this.failSync ?? this.failWrites) : planned;
      if (fail && this.failWrites && this.partialBytes > 0) {
        const n = Math.min(this.partialBytes, length);
        this.partialBytes = 0;
        await nodeFsOps.write(fd, buf, offset, n, position);
        return n; // the next call fails
      }
      if (fail) throw errno(fail);
      const n = await nodeFsOps.write(fd, buf, offset, length, position);
      this.fsyncs++;
      return n;
    }
    if (this.failWrites) {
      if (this.partialBytes > 0) {
        const n = Math.min(this.partialBytes, length);
        this.partialBytes = 0;
        await nodeFsOps.write(fd, buf, offset, n, position);
        return n; // the next call fails
      }
      throw errno(this.failWrites);
    }
    return nodeFsOps.write(fd, buf, offset, length, position);
  }
  async fdatasync(fd: number): Promise<void> {
    const planned = this.syncPlan.length > 0 ? this.syncPlan.shift()! : undefined;
    if (this.syncGate) await this.syncGate;
    this.onSync?.();
    const fail = planned === undefined ? this.failSync : planned;
    if (fail) throw errno(fail);
    this.fsyncs++;
    return nodeFsOps.fdatasync(fd);
  }
  fsync(fd: number): Promise<void> {
    return nodeFsOps.fsync(fd);
  }
  ftruncate(fd: number, length: number): Promise<void> {
    return nodeFsOps.ftruncate(fd, length);
  }
  close(fd: number): Promise<void> {
    this.dsyncFds.delete(fd);
    return nodeFsOps.close(fd);
  }
  rename(from: string, to: string): Promise<void> {
    if (this.failRename) return Promise.reject(errno(this.failRename));
    return nodeFsOps.rename(from, to);
  }
  unlink(p: string): Promise<void> {
    return nodeFsOps.unlink(p);
  }
  failSyncDir: string | null = null;
  syncDir(dir: string): Promise<void> {
    if (this.failSyncDir) return Promise.reject(errno(this.failSyncDir));
    return nodeFsOps.syncDir(dir);
  }
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'resq-persist-'));
}

/** every record in the directory's segments, in order; throws on anything but clean frames */
export function readAllSegments(dir: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const n of listDataDir(dir).segments) {
    const { records, end } = readFrames(fs.readFileSync(path.join(dir, segmentName(n))));
    if (end.kind !== 'clean') throw new Error(`${segmentName(n)}: ${end.kind} at ${end.offset}`);
    out.push(...records);
  }
  return out;
}

export const tick = () => new Promise<void>((r) => setImmediate(r));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(2);
  }
}

export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
