import * as net from 'net';
import { CrossProtocolError, ParserLimits, ProtocolError, RequestParser } from '../../protocol/request-parser';
import { ReplyWriter } from '../../protocol/reply-writer';
import { Cancel } from '../engine/engine';

/** What a connection needs from the server around it. */
export interface ConnectionHost {
  parserLimits(authed: boolean): ParserLimits;
  maxQueryBuffer(): number;
  maxOutputBuffer(): number;
  /** runs a request; true when its reply may go out once the log is written, before it is durable (lease operations) */
  dispatch(conn: ClientConnection, args: string[]): boolean;
  /** LSN of the last record appended, how far records are durable, and how far written to the OS */
  lastLsn(): number;
  durableLsn(): number;
  writtenLsn(): number;
  /** false while the log cannot be written (MISCONF) */
  logWritable(): boolean;
  /** the connection holds replies waiting for the log to pass their positions (durable up to lsn) */
  awaitDurable(conn: ClientConnection, lsn: number): void;
  closed(conn: ClientConnection): void;
  /** a protocol error closed this client (for the error-burst log) */
  clientError(conn: ClientConnection, message: string): void;
  /** a client was cut off (output limit, cross-protocol request): logged rate-limited, per kind */
  warn(kind: string, message: string): void;
}

interface GatedReply {
  bufs: Buffer[];
  bytes: number;
  /** sent once the log is durable up to lsn and written up to writtenLsn */
  lsn: number;
  writtenLsn: number;
}

/** While a batch of pipelined requests runs, replies are handed to the socket every this many bytes. */
const FLUSH_BYTES = 64 * 1024;
/**
 * One client: parses its requests, runs them in order, and writes replies
 * only once the log records they report are durable ("log before reply").
 * While a request is blocked (CLAIM/ENQUEUE/WAITJOB ... BLOCK) later
 * requests wait, as in Redis, and the socket is paused for backpressure.
 */
export class ClientConnection {
  readonly writer = new ReplyWriter();
  readonly createdAt = Date.now();
  readonly addr: string;
  name: string | null = null;
  libName = '';
  libVer = '';
  /** CLIENT REQUEUE-ON-CLOSE: the jobs this connection holds go back to ready when it closes */
  requeueOnClose = false;
  authed: boolean;
  /** the ACL user this connection authenticated as (acts as "default" until it does) */
  user = 'default';
  lastActivity = Date.now();
  lastCommand = '';
  commands = 0;
  private readonly parser: RequestParser;
  /** parser callback: queues the request; while logged out, runs it at once (see onData) */
  private readonly onRequest = (args: string[]): void => {
    this.requests.push(args);
    if (!this.authed) this.runRequests();
  };
  private requests: string[][] = [];
  private next = 0;
  private blocked: Cancel | null = null;
  private blockTimer: NodeJS.Timeout | null = null;
  private gated: GatedReply[] = [];
  private gatedBytes = 0;
  private closing = false;
  private closed = false;
  private processScheduled = false;
  /** the last log record this client's own commands (or deliveries to it) appended */
  private ownLsn = 0;
  /**
   * how far the log must be durable (not only written) before the replies so
   * far may go: the log's end after the last request that was not a lease
   * operation (see flush)
   */
  private durableNeed = 0;
  /** the parked request is a lease operation (CLAIM ... BLOCK) */
  private blockedLease = false;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly host: ConnectionHost,
    needsAuth: boolean,
  ) {
    this.authed = !needsAuth;
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    this.parser = new RequestParser(host.parserLimits(this.authed));
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
  }

  get isBlocked(): boolean {
    return this.blocked !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** replies produced and not yet sent: in the writer, held for the log, queued on the socket */
  get outputBytes(): number {
    return this.writer.length + this.gatedBytes + this.socket.writableLength;
  }

  get queryBytes(): number {
    return this.parser.bufferedBytes;
  }

  setAuthed(authed: boolean, user = 'default'): void {
    this.authed = authed;
    this.user = user;
    this.parser.setLimits(this.host.parserLimits(authed));
  }

  refreshLimits(): void {
    this.parser.setLimits(this.host.parserLimits(this.authed));
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.closed) return;
    this.lastActivity = Date.now();
    // While logged out, each request runs as soon as it is parsed, so once
    // AUTH succeeds the rest of this read is parsed under the logged-in
    // limits (a client may send AUTH and a large command in one write).
    try {
      this.parser.feed(chunk, this.onRequest);
      if (this.parser.bufferedBytes > this.host.maxQueryBuffer()) throw new ProtocolError('query buffer limit exceeded');
    } catch (e) {
      if (e instanceof CrossProtocolError) {
        this.refuseCrossProtocol(e);
        return;
      }
      if (!(e instanceof ProtocolError)) throw e;
      if (this.socket.destroyed) return; // cut off while running the requests before the bad bytes
      this.runRequests(); // requests before the bad bytes still get their replies, in order
      this.writer.error(`ERR Protocol error: ${e.message}`);
      this.host.clientError(this, e.message);
      this.closeAfterReplies();
      this.flush();
      return;
    }
    this.runRequests();
  }

  /**
   * HTTP on the RESP port (a web page POSTing to localhost): nothing of this
   * read runs, not even the requests parsed before it; the client is closed.
   */
  private refuseCrossProtocol(e: CrossProtocolError): void {
    this.host.warn('cross-protocol', `possible cross-protocol scripting attack from ${this.addr}: ${e.message}; connection closed without running anything`);
    this.closing = true;
    this.requests = [];
    this.next = 0;
    this.writer.reset();
    this.socket.destroy();
  }

  private runRequests(): void {
    const max = this.host.maxOutputBuffer();
    while (this.blocked === null && !this.closing && this.next < this.requests.length) {
      const args = this.requests[this.next++];
      this.commands++;
      this.lastCommand = args[0];
      const before = this.host.lastLsn();
      // the writer discards (and flags) a reply that would take the pending output past the limit
      this.writer.limit = max - this.gatedBytes - this.socket.writableLength;
      const leaseReply = this.host.dispatch(this, args);
      this.writer.limit = max; // for replies written outside this loop (deliveries to a blocked request)
      const after = this.host.lastLsn();
      if (after > before) this.ownLsn = after;
      if (this.blocked !== null) this.blockedLease = leaseReply;
      else if (!leaseReply) this.durableNeed = after;
      // the output limit holds while the batch runs, not only after it
      if (this.writer.overflowed || this.outputBytes > max) {
        this.cutOff(max);
        return;
      }
      if (this.writer.length >= FLUSH_BYTES) this.flush();
    }
    if (this.next >= this.requests.length) {
      this.requests = [];
      this.next = 0;
    } else if (this.blocked !== null) {
      this.socket.pause(); // backpressure while blocked: unparsed bytes stay in the kernel
    }
    this.flush();
  }

  /**
   * Parks the current request. `cancel` withdraws it from the engine; after
   * timeoutMs (0 = forever) onTimeout writes the timeout reply.
   */
  block(cancel: Cancel, timeoutMs: number, onTimeout: () => void): void {
    this.blocked = cancel;
    if (timeoutMs > 0) {
      this.blockTimer = setTimeout(() => {
        this.blockTimer = null;
        cancel();
        onTimeout();
        this.unblock();
      }, timeoutMs);
    }
  }

  /** the parked request has written its reply: send it and go on with the next requests */
  unblock(): void {
    this.ownLsn = this.host.lastLsn(); // the delivery (e.g. a claim) was just appended
    if (!this.blockedLease) this.durableNeed = this.ownLsn;
    if (this.blockTimer) clearTimeout(this.blockTimer);
    this.blockTimer = null;
    this.blocked = null;
    this.flush();
    if (this.closed) return;
    this.socket.resume();
    if (!this.processScheduled && this.next < this.requests.length) {
      // not inline: unblock() runs inside another client's command
      this.processScheduled = true;
      setImmediate(() => {
        this.processScheduled = false;
        if (!this.closed) this.runRequests();
      });
    }
  }

  /** QUIT, protocol errors, CLIENT KILL of self: close once the replies so far are out */
  closeAfterReplies(): void {
    this.closing = true;
  }

  /** moves what the writer holds to the socket, or holds it until its records are durable */
  flush(): void {
    if (this.closed) return;
    if (this.writer.overflowed) {
      this.cutOff(this.host.maxOutputBuffer());
      return;
    }
    if (this.writer.length > 0) {
      const bytes = this.writer.length;
      const bufs = this.writer.takeParts();
      // Normally every reply waits for everything appended so far, so no reply
      // shows state that a crash could still lose: durable, except that the
      // replies of lease operations (CLAIM, ACK, NACK, TOUCH, under
      // lease-durability written) need it only written, which a crash of the
      // broker does not lose either. While the log cannot be written, replies
      // wait only for this client's own records: reads and -MISCONF refusals
      // are still served (in order behind held replies).
      const writable = this.host.logWritable();
      const writtenLsn = writable ? this.host.lastLsn() : this.ownLsn;
      const lsn = writable ? this.durableNeed : this.ownLsn;
      if (this.gated.length === 0 && lsn <= this.host.durableLsn() && writtenLsn <= this.host.writtenLsn()) {
        this.write(bufs);
      } else {
        this.gated.push({ bufs, bytes, lsn, writtenLsn });
        this.gatedBytes += bytes;
        this.host.awaitDurable(this, lsn);
      }
    }
    this.afterWrite();
  }

  /** writes the held replies whose records are now durable; true when nothing is held any more */
  release(durableLsn: number, writtenLsn: number): boolean {
    let n = 0;
    while (n < this.gated.length && this.gated[n].lsn <= durableLsn && this.gated[n].writtenLsn <= writtenLsn) n++;
    if (n === 1 && !this.closed) this.write(this.gated[0].bufs);
    else if (n > 1 && !this.closed) {
      // everything one sync released goes out in one write
      const bufs: Buffer[] = [];
      for (let i = 0; i < n; i++) for (const b of this.gated[i].bufs) bufs.push(b);
      this.write(bufs);
    }
    for (let i = 0; i < n; i++) this.gatedBytes -= this.gated[i].bytes;
    if (n === this.gated.length) {
      if (n > 0) this.gated = [];
    } else if (n > 0) this.gated.splice(0, n);
    this.afterWrite();
    return this.gated.length === 0;
  }

  private write(bufs: Buffer[]): void {
    if (bufs.length > 1) bufs = joinAdjacent(bufs);
    if (bufs.length === 1) {
      this.socket.write(bufs[0]);
      return;
    }
    this.socket.cork();
    for (const b of bufs) this.socket.write(b);
    this.socket.uncork();
  }

  private afterWrite(): void {
    if (this.closed) return;
    const max = this.host.maxOutputBuffer();
    if (this.outputBytes > max) {
      this.cutOff(max);
      return;
    }
    if (this.closing && this.gated.length === 0) this.socket.end();
  }

  /**
   * Pending output passed max-output-buffer: a client that does not read its
   * replies (or asks for more than the limit in one pipeline) is dropped, as
   * Redis does; the server is not. Nothing more of its input runs, and its
   * buffers are let go at once.
   */
  private cutOff(max: number): void {
    if (this.closed) return;
    const pending = this.outputBytes;
    this.host.warn(
      'output-limit',
      `client ${this.addr} (id ${this.id}) closed: its pending replies (${this.writer.overflowed ? 'over ' : ''}${pending} bytes) passed max-output-buffer (${max} bytes)`,
    );
    this.closing = true;
    this.requests = [];
    this.next = 0;
    this.writer.reset();
    this.gated = [];
    this.gatedBytes = 0;
    this.socket.destroy();
  }

  kill(): void {
    this.socket.destroy();
  }

  /** shutdown: send what is held, close the write side, resolve once the socket is closed (or after graceMs) */
  end(graceMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.flush();
      this.socket.end();
    });
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.blockTimer) clearTimeout(this.blockTimer);
    if (this.blocked) this.blocked();
    this.blocked = null;
    this.requests = [];
    this.gated = [];
    this.gatedBytes = 0;
    this.writer.reset();
    this.host.closed(this);
  }
}

/**
 * Replies taken one after the other from a writer's arena are adjacent in
 * memory: each run of them becomes one view (no copy), so the socket gets
 * fewer, larger chunks.
 */
function joinAdjacent(bufs: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let cur = bufs[0];
  for (let i = 1; i < bufs.length; i++) {
    const b = bufs[i];
    if (b.buffer === cur.buffer && b.byteOffset === cur.byteOffset + cur.length) {
      cur = Buffer.from(cur.buffer, cur.byteOffset, cur.length + b.length);
    } else {
      out.push(cur);
      cur = b;
    }
  }
  out.push(cur);
  return out;
}
