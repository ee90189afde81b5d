/** One SLOWLOG entry, as Redis keeps it. */
export interface SlowlogEntry {
  id: number;
  /** unix seconds when the command started */
  time: number;
  /** execution time in microseconds (time parked by BLOCK is not counted) */
  usec: number;
  /** the command and its arguments, trimmed as Redis trims them */
  args: string[];
  addr: string;
  name: string;
}

/** Redis trims each entry to 32 arguments of at most 128 bytes each. */
const MAX_ARGS = 32;
const MAX_ARG_LEN = 128;

/** Commands whose arguments carry a password: logged as "(redacted)", as Redis does. */
function redact(args: string[]): string[] {
  const cmd = args[0].toLowerCase();
  if (cmd === 'auth') return [args[0], ...args.slice(1).map(() => '(redacted)')];
  if (cmd === 'hello') {
    const out = args.slice();
    for (let i = 1; i < out.length; i++) {
      if (out[i].toUpperCase() === 'AUTH') {
        for (let j = i + 1; j <= i + 2 && j < out.length; j++) out[j] = '(redacted)';
        i += 2;
      }
    }
    return out;
  }
  if (cmd === 'acl' && args[1]?.toLowerCase() === 'setuser') {
    // clear-text password rules (>pass, <pass); #hash rules are no secret
    return args.map((a, i) => (i > 2 && (a[0] === '>' || a[0] === '<') ? '(redacted)' : a));
  }
  if (cmd === 'config' && args[1]?.toLowerCase() === 'set') {
    const out = args.slice();
    for (let i = 2; i + 1 < out.length; i += 2) if (out[i].toLowerCase() === 'requirepass') out[i + 1] = '(redacted)';
    return out;
  }
  return args;
}

function trimArgs(args: string[]): string[] {
  const n = Math.min(args.length, MAX_ARGS);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i === MAX_ARGS - 1 && args.length > MAX_ARGS) {
      out.push(`... (${args.length - MAX_ARGS + 1} more arguments)`);
      break;
    }
    const a = args[i];
    out.push(a.length > MAX_ARG_LEN ? `${a.slice(0, MAX_ARG_LEN)}... (${a.length - MAX_ARG_LEN} more bytes)` : a);
  }
  return out;
}

/**
 * SLOWLOG: the last `maxLen` commands that ran longer than the threshold.
 * Only commands over the threshold cost anything beyond one comparison;
 * their arguments are copied (trimmed), never the caller's array.
 */
export class Slowlog {
  /** newest last; only the last maxLen count (older ones are cut in batches, amortized O(1)) */
  private entries: SlowlogEntry[] = [];
  private nextId = 0;

  /**
   * @param slowerThan threshold in µs (setting slowlog-slower-than; -1 = off, 0 = every command)
   * @param maxLen entries kept (setting slowlog-max-len)
   */
  constructor(
    private readonly slowerThan: () => number,
    private readonly maxLen: () => number,
  ) {}

  /** called by the dispatcher after every command */
  record(args: string[], usec: number, addr: string, name: string | null): void {
    const threshold = this.slowerThan();
    if (threshold < 0 || usec < threshold) return;
    const max = this.maxLen();
    if (max <= 0) {
      this.nextId++;
      this.entries.length = 0;
      return;
    }
    this.entries.push({
      id: this.nextId++,
      time: Math.floor(Date.now() / 1000),
      usec: Math.round(usec),
      args: trimArgs(redact(args)),
      addr,
      name: name ?? '',
    });
    if (this.entries.length >= 2 * max + 16) this.entries.splice(0, this.entries.length - max);
  }

  /** newest first; count < 0 = all */
  newest(count: number): SlowlogEntry[] {
    const n = count < 0 ? this.length : Math.min(count, this.length);
    const out: SlowlogEntry[] = [];
    for (let i = this.entries.length - 1; out.length < n; i--) out.push(this.entries[i]);
    return out;
  }

  get length(): number {
    return Math.min(this.entries.length, Math.max(0, this.maxLen()));
  }

  reset(): void {
    this.entries = [];
  }
}
