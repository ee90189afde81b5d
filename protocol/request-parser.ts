/**
 * Resumable RESP request parser.
 *
 * Accepts what a Redis server accepts from clients: RESP arrays of bulk
 * strings (`*<n>\r\n$<len>\r\n<bytes>\r\n...`) and inline commands (one line
 * of words, as typed over telnet). State survives across feed() calls, so a
 * request may be split at any byte; results never depend on how the bytes
 * were chunked (errors included).
 *
 * Arguments are handed out as "byte strings": JS strings whose char codes
 * are the bytes 0..255 (latin1). A string never retains the socket chunk it
 * came from, unlike a Buffer slice.
 *
 * Limits are enforced as bytes arrive, before anything is buffered: a header
 * announcing too many elements or too long a bulk fails as soon as its
 * digits exceed the limit. Headers are parsed digit by digit and never
 * buffered; only bulk data and inline lines that span chunks are kept, as
 * latin1 pieces joined once when complete (O(n) for an 8 MB payload).
 *
 * After a ProtocolError the parser is reset; the caller is expected to reply
 * `-ERR Protocol error: <message>` and close the connection (for a
 * CrossProtocolError, to close it without a reply and without running the
 * requests already parsed from the same read).
 */

export interface ParserLimits {
  /** max elements of one request (multibulk length; also inline words) */
  maxArgs: number;
  /** max length of one bulk string, bytes */
  maxBulk: number;
  /** max length of one inline request line, bytes (excluding the `\n`) */
  maxInline: number;
}

/** Malformed input. The message has no "ERR Protocol error: " prefix. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * An HTTP request on the RESP port: a request line (`POST /path HTTP/1.1`)
 * or a `Host:` header line read as an inline command. A web page can make a
 * browser send one to a local broker (cross-protocol scripting); the caller
 * is expected to close the connection without running anything, as Redis
 * does. A ProtocolError, so every caller that handles those stays safe.
 */
export class CrossProtocolError extends ProtocolError {}

/** an HTTP request line: METHOD SP request-target SP HTTP/ */
const HTTP_REQUEST_LINE = /^(?:GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE) +\S+ +HTTP\//i;

/** Buffer's undocumented but long-standing latin1 fast path (no encoding switch). */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;
/** Longest accepted decimal length: beyond this a number is not exact in a double. */
const MAX_DIGITS = 15;

// Parser states. Header lines are parsed digit by digit (*_LEN), then the
// `\n` that must follow the `\r` is checked (*_LEN_LF).
const START = 0; // before the first byte of a request
const MB_LEN = 1; // after '*', reading the element count
const MB_LEN_LF = 2; // after the count's '\r'
const BULK_TYPE = 3; // expecting '$'
const BULK_LEN = 4; // after '$', reading the length
const BULK_LEN_LF = 5; // after the length's '\r'
const BULK_DATA = 6; // reading bulk bytes
const BULK_CR = 7; // expecting the '\r' after the bulk bytes
const BULK_LF = 8; // expecting the '\n' after that
const INLINE = 9; // reading an inline line up to '\n'

export class RequestParser {
  private maxArgs = 0;
  private maxBulk = 0;
  private maxInline = 0;

  private state = START;
  /** arguments of the request being read */
  private args: string[] = [];
  /** elements still expected in the current array */
  private argsLeft = 0;
  /** bytes of the completed arguments of the current request */
  private argBytes = 0;
  /** header number being read, its digit count and sign */
  private num = 0;
  private digits = 0;
  private neg = false;
  /** bytes of the current bulk not yet read */
  private bulkLeft = 0;
  /** a complete bulk waiting for its trailing CRLF */
  private bulk = '';
  /** partial bulk data or partial inline line, as latin1 pieces */
  private pieces: string[] = [];
  /** bytes of the element being read (partial bulk or line, or a bulk awaiting its CRLF) */
  private pieceBytes = 0;

  constructor(limits: ParserLimits) {
    this.setLimits(limits);
  }

  /** Replaces the limits; they apply from the next header or line read. */
  setLimits(limits: ParserLimits): void {
    this.maxArgs = limits.maxArgs;
    this.maxBulk = limits.maxBulk;
    this.maxInline = limits.maxInline;
  }

  /** Bytes held for the incomplete request (for the query-buffer limit). */
  get bufferedBytes(): number {
    return this.argBytes + this.pieceBytes;
  }

  /**
   * Parses as many complete requests as the bytes allow, calling onRequest
   * for each in order. Partial input is kept for the next call. Throws
   * ProtocolError on malformed input. onRequest may call setLimits(); the new
   * limits apply to the rest of the chunk. If onRequest throws, the error
   * propagates and the rest of the chunk is not parsed.
   */
  feed(chunk: Buffer, onRequest: (args: string[]) => void): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      switch (this.state) {
        case START:
          if (chunk[pos] === STAR) {
            pos++;
            this.beginNumber(MB_LEN);
          } else {
            this.state = INLINE;
          }
          break;
        case MB_LEN:
          pos = this.readNumber(chunk, pos, end, this.maxArgs, true, 'invalid multibulk length');
          break;
        case MB_LEN_LF:
          if (chunk[pos++] !== LF) throw this.fail('invalid multibulk length');
          this.beginArray();
          break;
        case BULK_TYPE: {
          const c = chunk[pos++];
          if (c !== DOLLAR) throw this.fail(`expected '$', got '${showByte(c)}'`);
          this.beginNumber(BULK_LEN);
          break;
        }
        case BULK_LEN:
          pos = this.readNumber(chunk, pos, end, this.maxBulk, false, 'invalid bulk length');
          break;
        case BULK_LEN_LF:
          if (chunk[pos++] !== LF) throw this.fail('invalid bulk length');
          this.bulkLeft = this.num;
          this.state = BULK_DATA;
          break;
        case BULK_DATA:
          pos = this.readBulk(chunk, pos, end, onRequest);
          break;
        case BULK_CR:
          if (chunk[pos++] !== CR) throw this.fail('bulk data not followed by CRLF');
          this.state = BULK_LF;
          break;
        case BULK_LF: {
          if (chunk[pos++] !== LF) throw this.fail('bulk data not followed by CRLF');
          const arg = this.bulk;
          this.bulk = '';
          this.endArg(arg, onRequest);
          break;
        }
        default:
          pos = this.readInline(chunk, pos, end, onRequest);
          break;
      }
    }
  }

  private beginNumber(state: number): void {
    this.num = 0;
    this.digits = 0;
    this.neg = false;
    this.state = state;
  }

  /**
   * Reads decimal digits up to '\r' (then moves to the next state, which
   * checks the '\n'). Strict: no sign except "-1" when allowMinusOne, no
   * leading zeros, no spaces. Fails as soon as the value exceeds max.
   */
  private readNumber(chunk: Buffer, pos: number, end: number, max: number, allowMinusOne: boolean, msg: string): number {
    let num = this.num;
    let digits = this.digits;
    while (pos < end) {
      const c = chunk[pos++];
      if (c >= 48 && c <= 57) {
        if (digits === 1 && num === 0) throw this.fail(msg); // leading zero
        num = num * 10 + (c - 48);
        digits++;
        if (this.neg ? num !== 1 : num > max || digits > MAX_DIGITS) throw this.fail(msg);
      } else if (c === CR) {
        if (digits === 0) throw this.fail(msg);
        this.num = this.neg ? -num : num;
        this.state++; // MB_LEN -> MB_LEN_LF, BULK_LEN -> BULK_LEN_LF
        return pos;
      } else if (c === MINUS && allowMinusOne && digits === 0 && !this.neg) {
        this.neg = true;
      } else {
        throw this.fail(msg);
      }
    }
    this.num = num;
    this.digits = digits;
    return pos;
  }

  /** After "*<n>\r\n": `*0` and `*-1` are ignored, as Redis does. */
  private beginArray(): void {
    if (this.num <= 0) {
      this.state = START;
      return;
    }
    this.argsLeft = this.num;
    this.state = BULK_TYPE;
  }

  private readBulk(chunk: Buffer, pos: number, end: number, onRequest: (args: string[]) => void): number {
    const left = this.bulkLeft;
    if (end - pos < left) {
      // Partial: keep a latin1 copy of the piece (never the chunk itself).
      this.pieces.push((chunk as Latin1Buffer).latin1Slice(pos, end));
      this.pieceBytes += end - pos;
      this.bulkLeft = left - (end - pos);
      return end;
    }
    let arg = (chunk as Latin1Buffer).latin1Slice(pos, pos + left);
    if (this.pieces.length !== 0) {
      this.pieces.push(arg);
      arg = this.pieces.join('');
      this.pieces = [];
    }
    pos += left;
    if (end - pos >= 2) {
      if (chunk[pos] !== CR || chunk[pos + 1] !== LF) throw this.fail('bulk data not followed by CRLF');
      this.endArg(arg, onRequest);
      return pos + 2;
    }
    // The CRLF is split across chunks: hold the bulk until it arrives.
    this.bulk = arg;
    this.pieceBytes = arg.length;
    this.state = BULK_CR;
    return pos;
  }

  private endArg(arg: string, onRequest: (args: string[]) => void): void {
    this.args.push(arg);
    this.pieceBytes = 0;
    if (--this.argsLeft !== 0) {
      this.argBytes += arg.length;
      this.state = BULK_TYPE;
      return;
    }
    const args = this.args;
    this.args = [];
    this.argBytes = 0;
    this.state = START;
    onRequest(args);
  }

  private readInline(chunk: Buffer, pos: number, end: number, onRequest: (args: string[]) => void): number {
    const nl = chunk.indexOf(LF, pos);
    const lineEnd = nl === -1 ? end : nl;
    if (this.pieceBytes + (lineEnd - pos) > this.maxInline) throw this.fail('too big inline request');
    let line = (chunk as Latin1Buffer).latin1Slice(pos, lineEnd);
    if (nl === -1) {
      this.pieces.push(line);
      this.pieceBytes += end - pos;
      return end;
    }
    if (this.pieces.length !== 0) {
      this.pieces.push(line);
      line = this.pieces.join('');
      this.pieces = [];
    }
    this.pieceBytes = 0;
    this.state = START;
    if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    if (looksLikeHttp(line)) throw this.fail(`HTTP request on the RESP port ('${showLine(line)}')`, true);
    const args = splitInlineArgs(line);
    if (args === null) throw this.fail('unbalanced quotes in request');
    if (args.length > this.maxArgs) throw this.fail('too many arguments in inline request');
    if (args.length !== 0) onRequest(args);
    return nl + 1;
  }

  /** Resets to the initial state and returns the error to throw. */
  private fail(message: string, crossProtocol = false): ProtocolError {
    this.state = START;
    this.args = [];
    this.argsLeft = 0;
    this.argBytes = 0;
    this.bulk = '';
    this.pieces = [];
    this.pieceBytes = 0;
    return crossProtocol ? new CrossProtocolError(message) : new ProtocolError(message);
  }
}

/** `POST / HTTP/1.1` or a `Host:` header line (leading white space allowed, as an inline command) */
function looksLikeHttp(line: string): boolean {
  let i = 0;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  const c = line.charCodeAt(i) | 0x20; // lower case
  if (c === 104 /* h */ && line.slice(i, i + 5).toLowerCase() === 'host:') return true;
  return c >= 97 && c <= 116 && HTTP_REQUEST_LINE.test(i === 0 ? line : line.slice(i));
}

/** the start of a line for a message: printable ASCII, at most 64 characters */
function showLine(line: string): string {
  const head = line.length > 64 ? `${line.slice(0, 64)}...` : line;
  return head.replace(/[^\x20-\x7e]/g, '?');
}

function showByte(c: number): string {
  return c > 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
}

/** The separators of Redis's sdssplitargs (C isspace). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Escapes understood inside double quotes, besides \xHH; others stand for themselves. */
function unescape(e: string): string {
  switch (e) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\x07';
    default:
      return e;
  }
}

/**
 * Splits an inline line like redis-cli / Redis's sdssplitargs: words are
 * separated by white space; "double quotes" understand \xHH, \n, \r, \t,
 * \b, \a and \<any>; 'single quotes' understand \' only. A closing quote
 * must be followed by white space or the end of the line. Returns null on
 * unbalanced quotes. (Unlike C, a NUL byte is an ordinary character.)
 */
function splitInlineArgs(line: string): string[] | null {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    // Unquoted run, copied in one slice. A quote may open mid-word
    // (foo"bar" is foobar); its closing quote ends the word.
    let j = i;
    while (j < n && !endsUnquoted(line.charCodeAt(j))) j++;
    let word = line.slice(i, j);
    i = j;
    if (i < n) {
      const c = line.charCodeAt(i++); // a separator or a quote
      if (c === 34 || c === 39) {
        const quoted = c === 34 ? readDoubleQuoted(line, i) : readSingleQuoted(line, i);
        if (quoted === null) return null;
        word += quoted.text;
        i = quoted.next;
      }
    }
    out.push(word);
  }
}

/** Separators (space, \t, \n, \r) and quotes end an unquoted run. */
function endsUnquoted(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 34 || c === 39;
}

interface QuotedWord {
  text: string;
  next: number;
}

function closeQuote(line: string, i: number, text: string): QuotedWord | null {
  // i is just past the closing quote
  if (i < line.length && !isSpace(line.charCodeAt(i))) return null;
  return { text, next: i };
}

function readDoubleQuoted(line: string, i: number): QuotedWord | null {
  const n = line.length;
  let text = '';
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 34) return closeQuote(line, i + 1, text);
    if (c === 92 && i + 1 < n) {
      const e = line[i + 1];
      if (e === 'x' && i + 3 < n) {
        const hi = hexValue(line.charCodeAt(i + 2));
        const lo = hexValue(line.charCodeAt(i + 3));
        if (hi >= 0 && lo >= 0) {
          text += String.fromCharCode(hi * 16 + lo);
          i += 4;
          continue;
        }
      }
      text += unescape(e);
      i += 2;
      continue;
    }
    text += line[i++];
  }
  return null;
}

function readSingleQuoted(line: string, i: number): QuotedWord | null {
  const n = line.length;
  let text = '';
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 39) return closeQuote(line, i + 1, text);
    if (c === 92 && line.charCodeAt(i + 1) === 39) {
      text += "'";
      i += 2;
      continue;
    }
    text += line[i++];
  }
  return null;
}
