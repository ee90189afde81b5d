import * as net from 'net';
import { ParserLimits, ProtocolError, RequestParser } from '../../protocol/request-parser';
import { ReplyWriter } from '../../protocol/reply-writer';
import { Cancel } from '../engine/engine';

/** What a connection needs from the server around it. */
export interface ConnectionHost {
  parserLimits(authed: boolean): ParserLimits;
  maxQueryBuffer(): number;
  maxOutputBuffer(): number;
  dispatch(conn: ClientConnection, args: string[]): void;
  /** LSN of the last record appended, and how far records are durable */
  lastLsn(): number;
  durableLsn(): number;
  /** false while the log cannot be written (MISCONF) */
  logWritable(): boolean;
  /** the connection holds replies waiting for durableLsn to pass their LSN */
  awaitDurable(conn: ClientConnection): void;
  closed(conn: ClientConnection): void;
  /** a protocol error closed this client (for the error-burst log) */
  clientError(conn: ClientConnection, message: string): void;
}

interface GatedReply {
  buf: Buffer;
  lsn: number;
}

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
  authed: boolean;
  lastActivity = Date.now();
  lastCommand = '';
  commands = 0;
  private readonly parser: RequestParser;
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

  get outputBytes(): number {
    return this.gatedBytes + this.socket.writableLength;
  }

  get queryBytes(): number {
    return this.parser.bufferedBytes;
  }

  setAuthed(authed: boolean): void {
    this.authed = authed;
    this.parser.setLimits(this.host.parserLimits(authed));
  }

  refreshLimits(): void {
    this.parser.setLimits(this.host.parserLimits(this.authed));
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.closed) return;
    this.lastActivity = Date.now();
    try {
      this.parser.feed(chunk, (args) => this.requests.push(args));
      if (this.parser.bufferedBytes > this.host.maxQueryBuffer()) throw new ProtocolError('query buffer limit exceeded');
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.runRequests(); // requests before the bad bytes still get their replies, in order
      this.writer.error(`ERR Protocol error: ${e.message}`);
      this.host.clientError(this, e.message);
      this.closeAfterReplies();
      this.flush();
      return;
    }
    this.runRequests();
  }

  private runRequests(): void {
    while (this.blocked === null && !this.closing && this.next < this.requests.length) {
      const args = this.requests[this.next++];
      this.commands++;
      this.lastCommand = args[0];
      const before = this.host.lastLsn();
      this.host.dispatch(this, args);
      const after = this.host.lastLsn();
      if (after > before) this.ownLsn = after;
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
    if (this.writer.length > 0) {
      const buf = this.writer.take();
      // Normally every reply waits for everything appended so far, so no reply
      // shows state that a crash could still lose. While the log cannot be
      // written, replies wait only for this client's own records: reads and
      // -MISCONF refusals are still served (in order behind held replies).
      const lsn = this.host.logWritable() ? this.host.lastLsn() : this.ownLsn;
      if (this.gated.length === 0 && lsn <= this.host.durableLsn()) {
        this.socket.write(buf);
      } else {
        this.gated.push({ buf, lsn });
        this.gatedBytes += buf.length;
        this.host.awaitDurable(this);
      }
    }
    this.afterWrite();
  }

  /** writes the held replies whose records are now durable; true when nothing is held any more */
  release(durableLsn: number): boolean {
    let n = 0;
    while (n < this.gated.length && this.gated[n].lsn <= durableLsn) {
      this.gatedBytes -= this.gated[n].buf.length;
      if (!this.closed) this.socket.write(this.gated[n].buf);
      n++;
    }
    if (n > 0) this.gated.splice(0, n);
    this.afterWrite();
    return this.gated.length === 0;
  }

  private afterWrite(): void {
    if (this.closed) return;
    if (this.outputBytes > this.host.maxOutputBuffer()) {
      // a client that does not read its replies is dropped; the server is not
      this.socket.destroy();
      return;
    }
    if (this.closing && this.gated.length === 0) this.socket.end();
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
    this.host.closed(this);
  }
}
