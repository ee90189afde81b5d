import * as net from 'net';

/**
 * A bare TCP client for protocol tests: sends exact bytes and parses the
 * replies with a small RESP2/RESP3 reader of its own (redis-parser knows
 * RESP2 only). Replies are plain values:
 *   simple string -> string, bulk -> string (latin1: one char per byte),
 *   integer -> number (bigint beyond 2^53), nil -> null, error -> RespError,
 *   array -> array, map -> RespMap, set -> RespSet, push -> RespPush,
 *   double -> number, boolean -> boolean, verbatim -> its text (no "txt:").
 */

export class RespError {
  constructor(readonly message: string) {}
  /** the code before the first space, e.g. "ERR", "FULL" */
  get code(): string {
    return this.message.split(' ', 1)[0];
  }
  toString(): string {
    return `-${this.message}`;
  }
}

export class RespMap {
  constructor(readonly entries: Array<[RespValue, RespValue]>) {}
  get(key: string): RespValue | undefined {
    const e = this.entries.find(([k]) => k === key);
    return e ? e[1] : undefined;
  }
  keys(): RespValue[] {
    return this.entries.map(([k]) => k);
  }
}

export class RespSet {
  constructor(readonly items: RespValue[]) {}
}

export class RespPush {
  constructor(readonly items: RespValue[]) {}
}

export type RespValue = string | number | bigint | boolean | null | RespError | RespMap | RespSet | RespPush | RespValue[];

const INCOMPLETE = Symbol('incomplete');
/** after INCOMPLETE: the least total buffer length that can complete the reply (known for bulks) */
let incompleteNeed = 0;

/** Parses one reply at buf[pos..]; returns [value, next] or INCOMPLETE. Throws on bytes that are not RESP. */
export function parseReply(buf: Buffer, pos: number): [RespValue, number] | typeof INCOMPLETE {
  incompleteNeed = buf.length + 1;
  if (pos >= buf.length) return INCOMPLETE;
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol === -1) return INCOMPLETE;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  const aggregate = (n: number, wrap: (items: RespValue[]) => RespValue): [RespValue, number] | typeof INCOMPLETE => {
    const items: RespValue[] = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, p);
      if (r === INCOMPLETE) return INCOMPLETE;
      items.push(r[0]);
      p = r[1];
    }
    return [wrap(items), p];
  };
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new RespError(line), next];
    case ':': {
      const n = Number(line);
      return [Number.isSafeInteger(n) ? n : BigInt(line), next];
    }
    case '(':
      return [BigInt(line), next];
    case ',':
      return [line === 'inf' ? Infinity : line === '-inf' ? -Infinity : Number(line), next];
    case '#':
      return [line === 't', next];
    case '_':
      return [null, next];
    case '$':
    case '=':
    case '!': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) {
        incompleteNeed = next + len + 2;
        return INCOMPLETE;
      }
      let s = buf.toString('latin1', next, next + len);
      if (type === '=') s = s.slice(4);
      if (type === '!') return [new RespError(s), next + len + 2];
      return [s, next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      return aggregate(n, (items) => items);
    }
    case '~':
      return aggregate(Number(line), (items) => new RespSet(items));
    case '>':
      return aggregate(Number(line), (items) => new RespPush(items));
    case '|': {
      // attribute: skip it, the reply follows
      const r = aggregate(Number(line) * 2, () => null);
      if (r === INCOMPLETE) return INCOMPLETE;
      return parseReply(buf, r[1]);
    }
    case '%': {
      const r = aggregate(Number(line) * 2, (items) => {
        const entries: Array<[RespValue, RespValue]> = [];
        for (let i = 0; i < items.length; i += 2) entries.push([items[i], items[i + 1]]);
        return new RespMap(entries);
      });
      return r;
    }
    default:
      throw new Error(`not RESP: type byte ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('latin1', pos, Math.min(buf.length, pos + 40)))}`);
  }
}

/** RESP array of bulk strings; strings are byte strings (latin1) unless given as Buffers */
export function encodeCommand(args: Array<string | Buffer | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'latin1');
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** bytes needed before parsing again is worth it */
  private need = 0;
  private replies: RespValue[] = [];
  /** index of the next reply to hand out */
  private head = 0;
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  private readonly closedPromise: Promise<void>;
  /** first error the socket reported (ECONNRESET after a server-side close, ...) */
  socketError: Error | null = null;
  /** bytes received and not parsed into a reply yet */
  get pendingBytes(): number {
    return this.chunkBytes;
  }

  private constructor(readonly socket: net.Socket) {
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', (e) => {
      this.socketError ??= e;
    });
    socket.on('data', (chunk: Buffer) => {
      // big replies arrive in many chunks: join them only once they can complete a reply
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      if (this.chunkBytes < this.need) return;
      this.buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      let pos = 0;
      for (;;) {
        const r = parseReply(this.buf, pos);
        if (r === INCOMPLETE) {
          this.need = incompleteNeed - pos;
          break;
        }
        this.replies.push(r[0]);
        pos = r[1];
      }
      if (pos > 0) this.buf = this.buf.subarray(pos);
      this.chunks = this.buf.length > 0 ? [this.buf] : [];
      this.chunkBytes = this.buf.length;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** replies parsed and not yet taken */
  get buffered(): number {
    return this.replies.length - this.head;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** writes bytes as given (strings as latin1) */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** the next reply; rejects on timeout or if the connection closes first */
  async next(timeoutMs = 5000): Promise<RespValue> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === this.head) {
      if (this.closedFlag)
        throw new Error(`connection closed while waiting for a reply (unparsed: ${JSON.stringify(Buffer.concat(this.chunks).toString('latin1', 0, 200))})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const reply = this.replies[this.head++];
    if (this.head === this.replies.length) {
      this.replies = [];
      this.head = 0;
    }
    return reply;
  }

  async nextN(n: number, timeoutMs = 10000): Promise<RespValue[]> {
    const deadline = Date.now() + timeoutMs;
    const out: RespValue[] = [];
    while (out.length < n) out.push(await this.next(Math.max(1, deadline - Date.now())));
    return out;
  }

  /** sends one command as a RESP array and returns its reply */
  async command(...args: Array<string | Buffer | number>): Promise<RespValue> {
    this.write(encodeCommand(args));
    return this.next();
  }

  /** resolves when the server has closed the connection; rejects after timeoutMs */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closedPromise, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  /** true if nothing arrives (and the connection stays open) for ms */
  async quietFor(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.buffered === 0 && this.chunkBytes === 0;
  }

  close(): void {
    this.socket.destroy();
  }
}
