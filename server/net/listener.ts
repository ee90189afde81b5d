import * as net from 'net';
import * as tls from 'tls';
import type { Settings } from '../../config/settings';
import type { ParserLimits } from '../../protocol/request-parser';
import type { Logger } from '../log';
import { protectedModeRefusal, protectionOf } from '../rules/protected-mode';
import type { TlsSource } from '../tls/tls-credentials';
import { ClientConnection, ConnectionHost } from './client-connection';
import { BurstLog } from './error-burst';

/** What the RESP listener needs from the rest of the server. */
export interface ListenerDeps {
  settings: Settings;
  log: Logger;
  /** runs one parsed request of a connection; true when its reply may go out once its records are written (see ReplyWait) */
  dispatch(conn: ClientConnection, args: string[]): boolean;
  /** the log's sequence numbers: replies wait until their records are durable */
  position: LogPosition;
  /** a connection closed (its claimed jobs are released) */
  closed(conn: ClientConnection): void;
  /** a new connection must authenticate before its commands run (the default user has a password or is off) */
  authRequired(): boolean;
  /** counters for INFO stats and /metrics */
  counters: { connectionsReceived: number; rejectedConnections: number };
}

export interface LogPosition {
  readonly lastLsn: number;
  readonly durableLsn: number;
  /** records written to the OS (>= durableLsn) */
  readonly writtenLsn: number;
  /** a reply waits for durableLsn to reach lsn */
  wantDurable(lsn: number): void;
  /** false while the log cannot be written */
  readonly writable: boolean;
}

/**
 * Why a TLS handshake failed, for the log. A client certificate that does
 * not verify makes node drop the connection without an error of its own
 * (the client "hangs up"), so its verification error is named instead.
 */
function handshakeFailure(e: Error, socket: tls.TLSSocket): string {
  const peer = socket.remoteAddress === undefined ? '' : ` (${socket.remoteAddress}:${socket.remotePort})`;
  const cert = socket.authorizationError;
  return cert ? `client certificate did not verify: ${String(cert)}${peer}` : `${e.message.trim()}${peer}`;
}

/**
 * The RESP listener: accepts TCP connections (max-clients, refusal while
 * shutting down), keeps the registry of open connections, closes idle ones
 * (the `timeout` setting), and hands replies held for durability back to
 * their connections as the log advances.
 */
export class RespListener implements ConnectionHost {
  private readonly clients = new Map<number, ClientConnection>();
  private readonly awaiting = new Set<ClientConnection>();
  private readonly protocolErrors: BurstLog;
  private readonly servers: net.Server[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  private nextClientId = 1;
  private refusing: string | null = null;
  port = 0;
  /** the TLS port, 0 when TLS is off */
  tlsPort = 0;
  private readonly warnings = new Map<string, BurstLog>();

  constructor(private readonly deps: ListenerDeps) {
    this.protocolErrors = new BurstLog((line) => deps.log('warn', `client error: ${line}`), 'protocol error(s)');
  }

  async listen(port: number, host: string): Promise<number> {
    this.port = await this.bind(
      net.createServer((socket) => this.accept(socket)),
      port,
      host,
    );
    this.idleTimer = setInterval(() => this.closeIdleClients(), 1000);
    this.idleTimer.unref();
    return this.port;
  }

  /**
   * The TLS port, beside the plain one: connections are served like plain
   * ones once the handshake is done. Client certificates: `tls` says
   * whether they are asked for and required (the handshake fails without
   * one); when optional, a certificate that is sent must verify.
   */
  async listenTls(port: number, host: string, source: TlsSource): Promise<number> {
    const server = tls.createServer(source.serverOptions(), (socket) => {
      if (!this.clientCertAccepted(socket)) return;
      this.accept(socket);
    });
    server.on('tlsClientError', (e, socket) => this.warn('tls', `TLS handshake failed: ${handshakeFailure(e, socket)}`));
    source.attach(server);
    this.tlsPort = await this.bind(server, port, host);
    return this.tlsPort;
  }

  private bind(server: net.Server, port: number, host: string): Promise<number> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (e) => this.deps.log('error', `listener error: ${e.message}`));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** tls-auth-clients optional: no certificate is fine, one that does not verify is not */
  private clientCertAccepted(socket: tls.TLSSocket): boolean {
    if (socket.authorized || Object.keys(socket.getPeerCertificate()).length === 0) return true;
    socket.on('error', () => {});
    socket.end(`-ERR TLS client certificate not accepted: ${String(socket.authorizationError)}\r\n`);
    this.warn('tls', `refused ${socket.remoteAddress}:${socket.remotePort}: client certificate not accepted (${String(socket.authorizationError)})`);
    return false;
  }

  /** stop accepting; new connections get `reason` as an error until the process exits */
  stopAccepting(reason: string): void {
    this.refusing = reason;
    for (const server of this.servers) server.close();
    if (this.idleTimer) clearInterval(this.idleTimer);
  }

  private accept(socket: net.Socket): void {
    const counters = this.deps.counters;
    counters.connectionsReceived++;
    const full = this.clients.size >= this.deps.settings.int('max-clients');
    if (this.refusing !== null || full) {
      counters.rejectedConnections++;
      socket.on('error', () => {});
      socket.end(`-ERR ${this.refusing ?? 'max number of clients reached'}\r\n`);
      return;
    }
    const denied = protectedModeRefusal(protectionOf(this.deps.settings, 'bind'), socket.remoteAddress);
    if (denied !== null) {
      socket.on('error', () => {});
      socket.end(`-${denied}\r\n`);
      this.warn(
        'protected-mode',
        `protected mode: refused ${socket.remoteAddress}:${socket.remotePort} (no password set, bind ${this.deps.settings.str('bind')})`,
      );
      return;
    }
    const id = this.nextClientId++;
    this.clients.set(id, new ClientConnection(id, socket, this, this.deps.authRequired()));
  }

  private closeIdleClients(): void {
    const timeout = this.deps.settings.int('timeout') * 1000;
    if (timeout <= 0) return;
    const now = Date.now();
    for (const c of this.clients.values()) if (!c.isBlocked && now - c.lastActivity > timeout) c.kill();
  }

  /** the log advanced (durable or written): send the replies that waited for it */
  releaseReplies(durableLsn: number, writtenLsn: number): void {
    for (const c of this.awaiting) if (c.release(durableLsn, writtenLsn)) this.awaiting.delete(c);
  }

  /** parser limits may have changed (max-* settings, requirepass) */
  refreshLimits(): void {
    for (const c of this.clients.values()) c.refreshLimits();
  }

  /** shutdown: flush and close every connection */
  async closeAll(graceMs: number): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.end(graceMs)));
  }

  // ---- ClientRegistry ---------------------------------------------------------

  get(id: number): ClientConnection | undefined {
    return this.clients.get(id);
  }
  all(): IterableIterator<ClientConnection> {
    return this.clients.values();
  }
  get size(): number {
    return this.clients.size;
  }

  // ---- ConnectionHost ---------------------------------------------------------

  parserLimits(authed: boolean): ParserLimits {
    const s = this.deps.settings;
    const tight = !authed && this.deps.authRequired();
    return {
      maxArgs: tight ? s.int('max-args-unauth') : s.int('max-args'),
      maxBulk: tight ? s.int('max-bulk-unauth') : s.int('max-bulk'),
      maxInline: tight ? Math.min(s.int('max-inline'), s.int('max-bulk-unauth')) : s.int('max-inline'),
    };
  }
  maxQueryBuffer(): number {
    return this.deps.settings.int('max-query-buffer');
  }
  maxOutputBuffer(): number {
    return this.deps.settings.int('max-output-buffer');
  }
  dispatch(conn: ClientConnection, args: string[]): boolean {
    return this.deps.dispatch(conn, args);
  }
  lastLsn(): number {
    return this.deps.position.lastLsn;
  }
  durableLsn(): number {
    return this.deps.position.durableLsn;
  }
  writtenLsn(): number {
    return this.deps.position.writtenLsn;
  }
  logWritable(): boolean {
    return this.deps.position.writable;
  }
  awaitDurable(conn: ClientConnection, lsn: number): void {
    this.awaiting.add(conn);
    if (lsn > this.deps.position.durableLsn) this.deps.position.wantDurable(lsn);
  }
  closed(conn: ClientConnection): void {
    this.clients.delete(conn.id);
    this.awaiting.delete(conn);
    this.deps.closed(conn);
  }
  clientError(conn: ClientConnection, message: string): void {
    this.protocolErrors.report(`${conn.addr}: protocol error: ${message}`);
  }
  warn(kind: string, message: string): void {
    let burst = this.warnings.get(kind);
    if (!burst) this.warnings.set(kind, (burst = new BurstLog((line) => this.deps.log('warn', line), `'${kind}' warning(s)`)));
    burst.report(message);
  }
}
