import * as fs from 'fs';

/**
 * The file operations the log, snapshots and manifest use while the broker
 * runs. Injectable so a test can make a write fail with ENOSPC or EIO, count
 * fsyncs, or stall a write. Asynchronous, so the event loop never waits for
 * the disk, except writeSync: a write into the page cache, which does not
 * wait for the disk either. (Start-up recovery reads with plain `fs`;
 * nothing else is running then.)
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
  /**
   * The same, on the calling thread: for a write into the page cache (no
   * O_DSYNC, no fsync), which takes microseconds, where handing it to the
   * threadpool costs a thread wake-up and a callback turn. Absent: write().
   */
  writeSync?(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
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
  writeSync: (fd, buf, offset, length, position) => fs.writeSync(fd, buf, offset, length, position),
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

/** writeAll on the calling thread where the ops can (see FsOps.writeSync) */
export function writeAllNow(ops: FsOps, fd: number, buf: Buffer, position: number): Promise<void> | undefined {
  if (!ops.writeSync) return writeAll(ops, fd, buf, position);
  let off = 0;
  while (off < buf.length) {
    const n = ops.writeSync(fd, buf, off, buf.length - off, position + off);
    if (n <= 0) throw Object.assign(new Error('write wrote 0 bytes'), { code: 'EIO' });
    off += n;
  }
  return undefined;
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
