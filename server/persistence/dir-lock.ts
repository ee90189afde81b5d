import * as fs from 'fs';
import * as path from 'path';
import { errorText } from './fs-ops';

/**
 * The data directory is used by one broker at a time: two brokers appending
 * to one log lose acknowledged jobs. A broker holds `LOCK` in the directory,
 * a file holding "<pid> <start time>" (the start time is field 22 of
 * /proc/<pid>/stat, in clock ticks since boot; empty where there is no
 * /proc). The file is created with link(2) from a private temp file, so it
 * appears atomically with its content.
 *
 * A LOCK whose process is gone (kill -9, a crash, a reboot) is stale and is
 * taken over; so is one whose pid now belongs to another process (pid
 * reuse: the start time differs) or to this process (a container restarted
 * with the same pid). A stale LOCK is first renamed to a name of our own and
 * checked, so two brokers starting together never both take it over.
 */

export const LOCK_FILE = 'LOCK';

/** start-up cannot go on: the directory is locked by a live broker, or unusable */
export class DataDirError extends Error {}

export interface DirLock {
  readonly file: string;
  /** pid named by a stale LOCK that was taken over (for the start-up log) */
  readonly tookOverFrom: number | null;
  /** removes LOCK if it is still ours; idempotent, synchronous (usable in an 'exit' handler) */
  release(): void;
}

interface Holder {
  pid: number;
  start: string;
}

/** field 22 (starttime) of /proc/<pid>/stat; '' when unknown (no /proc, no such process) */
export function processStartTime(pid: number | 'self'): string {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return '';
  }
  // the command name (field 2) is in parentheses and may hold spaces and ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? ''; // fields[0] is field 3
}

function parseHolder(text: string): Holder | null {
  const m = /^(\d+)(?: (\d*))?\n?$/.exec(text);
  if (!m) return null;
  const pid = Number(m[1]);
  return pid > 0 && Number.isSafeInteger(pid) ? { pid, start: m[2] ?? '' } : null;
}

function isAlive(h: Holder): boolean {
  if (h.pid === process.pid) return false; // our own pid, and we do not hold it yet: a previous life of this pid
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  if (h.start === '') return true; // written without /proc: the pid is all we have
  const now = processStartTime(h.pid);
  return now === '' || now === h.start; // a different start time: the pid was reused
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Creates the directory if missing (and its missing parents), one level at a
 * time: fs.mkdirSync(recursive) never returns for some paths (e.g. under
 * /proc). Fails with a DataDirError naming the path when it is not a
 * directory or cannot be created.
 */
export function ensureDataDir(dir: string): void {
  const missing: string[] = [];
  let p = path.resolve(dir);
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new DataDirError(`cannot use data directory ${dir}: ${errorText(e)}`);
      missing.push(p);
      const parent = path.dirname(p);
      if (parent === p) throw new DataDirError(`cannot create data directory ${dir}: ${errorText(e)}`);
      p = parent;
      continue;
    }
    if (!st.isDirectory()) throw new DataDirError(`cannot use data directory ${dir}: ${p} is not a directory`);
    break;
  }
  for (const m of missing.reverse()) {
    try {
      fs.mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`cannot create data directory ${dir}: ${errorText(e)}`);
    }
  }
}

/**
 * Locks the data directory for this process. Throws a DataDirError naming
 * the directory and the holder's pid when a live broker holds it, or
 * naming the directory and the reason when no file can be created in it.
 */
export function lockDataDir(dir: string): DirLock {
  const file = path.join(dir, LOCK_FILE);
  const mine = `${process.pid} ${processStartTime('self')}\n`;
  const tmp = path.join(dir, `.LOCK.${process.pid}.new`);
  const side = path.join(dir, `.LOCK.${process.pid}.stale`);
  try {
    fs.writeFileSync(tmp, mine);
  } catch (e) {
    throw new DataDirError(`cannot create files in data directory ${dir}: ${errorText(e)}`);
  }
  let staleHolder: number | null = null;
  let linked = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(tmp, file);
        linked = true;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`cannot create ${file}: ${errorText(e)}`);
      }
      const text = readText(file);
      if (text === null) continue; // released meanwhile
      const holder = parseHolder(text);
      staleHolder = holder ? holder.pid : null;
      if (holder && isAlive(holder)) {
        throw new DataDirError(`data directory ${dir} is in use by another resq-server (pid ${holder.pid}, per ${file}); stop it first, or use another --dir`);
      }
      if (attempt >= 5) throw new DataDirError(`cannot lock data directory ${dir}: ${file} keeps changing`);
      // stale: move it aside under a name of ours, and check we moved what we judged
      try {
        fs.renameSync(file, side);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new DataDirError(`cannot remove stale ${file}: ${errorText(e)}`);
      }
      if (readText(side) !== text) {
        // another broker took the lock in between: put its LOCK back and look again
        try {
          fs.linkSync(side, file);
        } catch {
          // a third one holds it now; the next look decides
        }
      }
      fs.rmSync(side, { force: true });
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let released = false;
  return {
    file,
    tookOverFrom: linked ? staleHolder : null,
    release() {
      if (released) return;
      released = true;
      try {
        if (readText(file) === mine) fs.unlinkSync(file);
      } catch {
        // nothing to do: a LOCK left behind is stale and taken over on the next start
      }
    },
  };
}
