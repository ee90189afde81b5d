/**
 * RESP2/RESP3 reply encoder.
 *
 * Replies accumulate in one growable Buffer used as an arena: take() hands
 * out the bytes written since the previous take() as a slice, and later
 * writes go after it (or into a new arena when full), so a taken Buffer is
 * never overwritten and nothing is copied on take(). Strings are "byte
 * strings" (one char per byte) and are written as latin1.
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
/** Room for a type byte, the longest safe integer with sign, and CRLF. */
const HEADER_ROOM = 24;
const EMPTY = Buffer.alloc(0);

export class ReplyWriter {
  /** Protocol of the connection: 2 by default, 3 after HELLO 3. */
  resp: RespVersion = 2;

  private buf: Buffer;
  /** start of the bytes not yet taken */
  private start = 0;
  /** end of the bytes written */
  private pos = 0;
  private readonly initialSize: number;

  constructor(initialSize: number = DEFAULT_SIZE) {
    this.initialSize = Math.max(64, initialSize | 0);
    this.buf = Buffer.allocUnsafe(this.initialSize);
  }

  /** Bytes accumulated since the last take(). */
  get length(): number {
    return this.pos - this.start;
  }

  /** Returns the accumulated bytes and starts empty. The Buffer stays valid. */
  take(): Buffer {
    if (this.pos === this.start) return EMPTY;
    const out = this.buf.subarray(this.start, this.pos);
    if (this.buf.length > MAX_KEPT_SIZE) {
      this.buf = Buffer.allocUnsafe(this.initialSize);
      this.pos = 0;
    }
    this.start = this.pos;
    return out;
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

  /** Makes room for n more bytes, moving untaken bytes to a new arena if needed. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.start;
    let size = this.initialSize;
    while (size < pending + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
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
