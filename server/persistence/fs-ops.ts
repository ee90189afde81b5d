import * as fs from 'fs';

/**
 * The file operations the log, snapshots and manifest use while the broker
 * runs. Injectable so a test can make a write fail with ENOSPC or EIO, count
 * fsyncs, or stall a write. All asynchronous: the event loop never waits on
 * the disk. Not even a write into the page cache is made on the loop's
 * thread: while an fdatasync of the file commits the journal, one can block
 * for milliseconds (measured up to 8-19 ms here, see
 * bench/results/perf-step-11-lease-durability.md). (Start-up recovery reads
 * with plain `fs`; nothing else is running then.)
 */
export interface FsOps {
  /** flags as in fs.open ('w', 'wx', 'r+', ...) */
  open(path: string, flags: string): Promise<number>;
  /**
   * Opens an existing file for O_DSYNC writes: each write through this
   * descriptor returns once its data is durable, as write + fdatasync would,
   * in one system call. Absent where the platform has no O_DSYNC.
   */
  openDsync?(path: string): Promise<number>;
  /** writes at `position`; resolves with the bytes written (may be fewer than asked) */
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** makes renames, creations and deletions in the directory durable */
  syncDir(dir: string): Promise<void>;
}

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, v) => (err ? reject(err) : resolve(v as T))));
}

const O_DSYNC = fs.constants.O_DSYNC;

export const nodeFsOps: FsOps = {
  open: (path, flags) => cb<number>((d) => fs.open(path, flags, 0o644, d)),
  openDsync: O_DSYNC ? (path) => cb<number>((d) => fs.open(path, fs.constants.O_WRONLY | O_DSYNC, d)) : undefined,
  write: (fd, buf, offset, length, position) => cb<number>((d) => fs.write(fd, buf, offset, length, position, (e, n) => d(e, n))),
  fdatasync: (fd) => cb<void>((d) => fs.fdatasync(fd, d)),
  fsync: (fd) => cb<void>((d) => fs.fsync(fd, d)),
  ftruncate: (fd, length) => cb<void>((d) => fs.ftruncate(fd, length, d)),
  close: (fd) => cb<void>((d) => fs.close(fd, d)),
  rename: (from, to) => cb<void>((d) => fs.rename(from, to, d)),
  unlink: (path) => cb<void>((d) => fs.unlink(path, d)),
  async syncDir(dir) {
    const fd = await cb<number>((d) => fs.open(dir, 'r', d));
    try {
      await cb<void>((d) => fs.fsync(fd, d));
    } catch (e) {
      // some filesystems refuse fsync on a directory; there is nothing more we can do there
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL' && (e as NodeJS.ErrnoException).code !== 'EISDIR') throw e;
    } finally {
      await cb<void>((d) => fs.close(fd, d));
    }
  },
};

/** writes all of buf at position, looping over short writes */
export async function writeAll(ops: FsOps, fd: number, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const n = await ops.write(fd, buf, off, buf.length - off, position + off);
    if (n <= 0) throw Object.assign(new Error('write wrote 0 bytes'), { code: 'EIO' });
    off += n;
  }
}

/** a file written atomically: temp file, fsync, rename, fsync the directory */
export async function writeFileAtomic(ops: FsOps, dir: string, path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = await ops.open(tmp, 'w');
  try {
    await writeAll(ops, fd, data, 0);
    await ops.fsync(fd);
  } finally {
    await ops.close(fd);
  }
  await ops.rename(tmp, path);
  await ops.syncDir(dir);
}

/** "CODE: message" for an errno error; node's own messages already start with the code, so it is not repeated */
export function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object') return String(e);
  const message = String(err.message ?? e);
  if (!err.code || message.startsWith(`${err.code}:`) || message.startsWith(`${err.code} `)) return message;
  return `${err.code}: ${message}`;
}
