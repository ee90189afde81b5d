/**
 * RESP2/RESP3 reply encoder.
 *
 * Replies accumulate in an arena Buffer: take() hands out the bytes written
 * since the previous take() as a slice, and later writes go after it, so a
 * taken Buffer is never overwritten. When the arena is full, the bytes in it
 * are sealed as one part and writing goes on in a fresh arena: pending bytes
 * are never copied into a bigger buffer (no doubling growth, no transient
 * 2x). A bulk of BIG_BULK bytes or more gets a Buffer of its own. takeParts()
 * hands out the parts without joining them; take() joins them (one copy).
 * Strings are "byte strings" (one char per byte) and are written as latin1.
 *
 * `limit` bounds the pending bytes: a write that would pass it discards
 * everything pending and sets `overflowed`; from then on writes are
 * discarded too, so no single reply (say a PEEK of many large jobs) can
 * allocate more than about `limit`. The owner is expected to drop the client
 * (its reply stream is incomplete) and call reset().
 */

export type RespVersion = 2 | 3;

/** Buffer's undocumented but long-standing latin1 fast path. */
interface Latin1Buffer extends Buffer {
  latin1Write(s: string, offset: number, length: number): number;
}

const CR = 13;
const LF = 10;
const DEFAULT_SIZE = 16 * 1024;
/** After take(), an arena grown beyond this is dropped rather than reused. */
const MAX_KEPT_SIZE = 64 * 1024;
/** Bulks this long or longer are encoded into a Buffer of their own, outside the arena. */
const BIG_BULK = 64 * 1024;
/** Room for a type byte, the longest safe integer with sign, and CRLF. */
const HEADER_ROOM = 24;
const EMPTY = Buffer.alloc(0);

/**
 * The last large bulk string encoded, shared by all writers: a payload sent
 * many times in a row (a pipeline of PEEKs of one big job, a job claimed by
 * many workers) is encoded once and the same immutable Buffer is queued on
 * the sockets, instead of one copy per reply. Holds at most one string and
 * its encoding.
 */
let lastBig: { s: string; buf: Buffer } | null = null;

export class ReplyWriter {
  /** Protocol of the connection: 2 by default, 3 after HELLO 3. */
  resp: RespVersion = 2;

  /** Most pending bytes; a write beyond it discards them and sets overflowed (see the class comment). */
  limit = Infinity;

  private buf: Buffer;
  /** start of the bytes not yet taken */
  private start = 0;
  /** end of the bytes written */
  private pos = 0;
  /** sealed parts not yet taken, and their total length */
  private parts: Buffer[] = [];
  private partBytes = 0;
  private dropped = false;
  private readonly initialSize: number;

  constructor(initialSize: number = DEFAULT_SIZE) {
    this.initialSize = Math.max(64, initialSize | 0);
    this.buf = Buffer.allocUnsafe(this.initialSize);
  }

  /** Bytes accumulated since the last take(). */
  get length(): number {
    return this.partBytes + this.pos - this.start;
  }

  /** A write passed `limit`: pending output was discarded and the reply stream is broken. */
  get overflowed(): boolean {
    return this.dropped;
  }

  /** Returns the accumulated bytes and starts empty. The Buffer stays valid. */
  take(): Buffer {
    const parts = this.takeParts();
    if (parts.length === 0) return EMPTY;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Returns the accumulated bytes as parts, in order, without joining them, and starts empty (nothing once overflowed). */
  takeParts(): Buffer[] {
    if (this.dropped) {
      this.start = this.pos = 0; // scratch bytes, never handed out
      return [];
    }
    this.seal();
    const out = this.parts;
    this.parts = [];
    this.partBytes = 0;
    return out;
  }

  /** Drops everything pending (and a grown arena), clears overflowed. */
  reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.dropped = false;
    this.buf = Buffer.allocUnsafe(this.initialSize);
    this.start = this.pos = 0;
  }

  /** `+s` ; s must not contain CR or LF (they are replaced by spaces). */
  simple(s: string): void {
    this.line(43 /* + */, s);
  }

  /** `-s` ; s starts with the error code, e.g. "ERR unknown command 'x'". */
  error(s: string): void {
    this.line(45 /* - */, s);
  }

  /** `:n` ; n must be an integer. */
  int(n: number): void {
    this.header(58 /* : */, n);
  }

  /** `$len` + bytes. Strings are byte strings. */
  bulk(s: string | Buffer): void {
    const len = s.length;
    this.header(36 /* $ */, len);
    if (len >= BIG_BULK) {
      this.bigBulk(s);
      return;
    }
    this.ensure(len + 2);
    if (typeof s === 'string') {
      this.pos += (this.buf as Latin1Buffer).latin1Write(s, this.pos, len);
    } else {
      this.pos += s.copy(this.buf, this.pos);
    }
    this.crlf();
  }

  /** Null bulk string: RESP2 `$-1`, RESP3 `_`. */
  nil(): void {
    if (this.resp === 3) this.put3(95 /* _ */, CR, LF);
    else this.header(36 /* $ */, -1);
  }

  /** Null array: RESP2 `*-1`, RESP3 `_`. */
  nilArray(): void {
    if (this.resp === 3) this.put3(95 /* _ */, CR, LF);
    else this.header(42 /* * */, -1);
  }

  /** `*n` */
  arrayHeader(n: number): void {
    this.header(42 /* * */, n);
  }

  /** RESP3 `%pairs` ; RESP2 a flat field/value array `*2n`. */
  mapHeader(pairs: number): void {
    if (this.resp === 3) this.header(37 /* % */, pairs);
    else this.header(42 /* * */, pairs * 2);
  }

  /** RESP3 `~n` ; RESP2 `*n`. */
  setHeader(n: number): void {
    this.header(this.resp === 3 ? 126 /* ~ */ : 42, n);
  }

  /** RESP3 `>n` ; RESP2 `*n`. */
  pushHeader(n: number): void {
    this.header(this.resp === 3 ? 62 /* > */ : 42, n);
  }

  /** RESP3 `,d` (inf, -inf, nan) ; RESP2 the same text as a bulk string. */
  double(d: number): void {
    const text = formatDouble(d);
    if (this.resp === 3) this.line(44 /* , */, text);
    else this.bulk(text);
  }

  /** RESP3 `#t` / `#f` ; RESP2 `:1` / `:0`. */
  bool(b: boolean): void {
    if (this.resp === 3) this.put4(35 /* # */, b ? 116 /* t */ : 102 /* f */, CR, LF);
    else this.put4(58 /* : */, b ? 49 : 48, CR, LF);
  }

  /** RESP3 verbatim string `=len` + `fmt:` + s (format: 3 bytes, default "txt") ; RESP2 bulk. */
  verbatim(s: string, format = 'txt'): void {
    if (this.resp !== 3) {
      this.bulk(s);
      return;
    }
    if (format.length !== 3) throw new RangeError(`verbatim format must be 3 bytes, got '${format}'`);
    this.header(61 /* = */, s.length + 4);
    this.ensure(s.length + 6);
    const b = this.buf as Latin1Buffer;
    this.pos += b.latin1Write(format, this.pos, 3);
    b[this.pos++] = 58; // ':'
    this.pos += b.latin1Write(s, this.pos, s.length);
    this.crlf();
  }

  /** Pre-encoded bytes (e.g. SHARED replies), copied as they are. */
  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    this.pos += bytes.copy(this.buf, this.pos);
  }

  // --- encoding helpers ---

  /** Makes room for n more bytes: seals the arena's pending bytes as a part and starts a new arena if needed. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.dropped || this.length + n > this.limit) {
      this.discard(n);
      return;
    }
    this.seal();
    if (this.pos + n > this.buf.length) this.newArena(n);
  }

  /** a large bulk's bytes and CRLF in a Buffer of their own (the header is already written) */
  private bigBulk(s: string | Buffer): void {
    const len = s.length;
    if (this.dropped || this.length + len + 2 > this.limit) {
      this.discard(0);
      return;
    }
    let out: Buffer;
    if (typeof s === 'string' && lastBig !== null && lastBig.s === s) {
      out = lastBig.buf; // never written to once made: safe to hand out again
    } else {
      out = Buffer.allocUnsafe(len + 2);
      if (typeof s === 'string') (out as Latin1Buffer).latin1Write(s, 0, len);
      else s.copy(out, 0);
      out[len] = CR;
      out[len + 1] = LF;
      if (typeof s === 'string') lastBig = { s, buf: out };
    }
    this.seal();
    this.parts.push(out);
    this.partBytes += len + 2;
  }

  /** moves the arena's pending bytes to the parts; an arena grown past MAX_KEPT_SIZE is not written to again */
  private seal(): void {
    if (this.pos > this.start) {
      this.parts.push(this.buf.subarray(this.start, this.pos));
      this.partBytes += this.pos - this.start;
      this.start = this.pos;
    }
    if (this.buf.length > MAX_KEPT_SIZE) this.newArena(0);
  }

  /** a fresh arena (taken slices of the old one may still be in flight, so it is never rewound) */
  private newArena(n: number): void {
    this.buf = Buffer.allocUnsafe(Math.max(this.initialSize, n));
    this.start = this.pos = 0;
  }

  /** over the limit: drop all pending bytes; later writes land in a scratch arena that is rewound */
  private discard(n: number): void {
    if (!this.dropped) {
      this.dropped = true;
      this.parts = [];
      this.partBytes = 0;
      this.newArena(n);
      return;
    }
    // nothing of this arena was taken since it was made: it can be rewound
    this.start = this.pos = 0;
    if (n > this.buf.length) this.newArena(n);
  }

  private crlf(): void {
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
  }

  /** type byte + text + CRLF, with CR/LF in the text replaced by spaces. */
  private line(type: number, s: string): void {
    if (s.indexOf('\r') !== -1 || s.indexOf('\n') !== -1) s = s.replace(/[\r\n]/g, ' ');
    this.ensure(s.length + 3);
    this.buf[this.pos++] = type;
    this.pos += (this.buf as Latin1Buffer).latin1Write(s, this.pos, s.length);
    this.crlf();
  }

  /** type byte + decimal integer + CRLF, without building a string. */
  private header(type: number, n: number): void {
    if (!Number.isSafeInteger(n)) {
      if (!Number.isInteger(n)) throw new RangeError(`RESP integer expected, got ${n}`);
      this.line(type, BigInt(n).toString());
      return;
    }
    this.ensure(HEADER_ROOM);
    const b = this.buf;
    let pos = this.pos;
    b[pos++] = type;
    if (n >= 0 && n < 10) {
      b[pos++] = 48 + n;
    } else {
      if (n < 0) {
        b[pos++] = 45; // '-'
        n = -n;
      }
      let digits = 1;
      for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
      pos += digits;
      for (let i = pos - 1; digits-- > 0; i--) {
        b[i] = 48 + (n % 10);
        n = Math.floor(n / 10);
      }
    }
    b[pos++] = CR;
    b[pos++] = LF;
    this.pos = pos;
  }

  private put3(a: number, b: number, c: number): void {
    this.ensure(3);
    const buf = this.buf;
    buf[this.pos] = a;
    buf[this.pos + 1] = b;
    buf[this.pos + 2] = c;
    this.pos += 3;
  }

  private put4(a: number, b: number, c: number, d: number): void {
    this.ensure(4);
    const buf = this.buf;
    buf[this.pos] = a;
    buf[this.pos + 1] = b;
    buf[this.pos + 2] = c;
    buf[this.pos + 3] = d;
    this.pos += 4;
  }
}

/** Double text as RESP3 spells it: inf, -inf, nan; otherwise JS's shortest round-trip form. */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  return String(d);
}

/** Pre-encoded replies, identical in RESP2 and RESP3. Write them with raw(). */
export const SHARED = Object.freeze({
  ok: Buffer.from('+OK\r\n'),
  pong: Buffer.from('+PONG\r\n'),
  queued: Buffer.from('+QUEUED\r\n'),
  zero: Buffer.from(':0\r\n'),
  one: Buffer.from(':1\r\n'),
  emptyArray: Buffer.from('*0\r\n'),
});
