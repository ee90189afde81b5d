import * as http from 'http';
import * as https from 'https';
import type { AddressInfo, Socket } from 'net';
import type { Settings } from '../../config/settings';
import { EngineError } from '../engine/engine-errors';
import { Bytes } from '../engine/job';
import type { Logger } from '../log';
import { protectedModeRefusal, protectionOf } from '../rules/protected-mode';
import { gateRefusal, GateState, Requester } from '../rules/request-gate';
import type { TlsSource } from '../tls/tls-credentials';
import { API_ROUTES, ApiContext, ApiReply, ApiRoute } from './api-routes';
import { ADMIN_ROUTES } from './admin-routes';
import { GROUP_ROUTES } from './group-routes';
import { decodeSegment } from './bytes';
import { DurableWaiter } from './durable-waiter';
import { UiFiles } from './ui-files';
import { badRequest, HttpError } from './http-error';

/** JSON bodies may carry a payload as base64 (4/3 of its size) plus the other fields */
const BODY_SLACK = 64 * 1024;

export function bodyLimit(maxPayload: number): number {
  return Math.ceil((maxPayload * 4) / 3) + BODY_SLACK;
}

const ROUTES: readonly ApiRoute[] = [...API_ROUTES, ...ADMIN_ROUTES, ...GROUP_ROUTES];

type OpsRoute = { path: string; handle: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void> };

interface Match {
  route: ApiRoute;
  params: Bytes[];
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: HttpError): void {
  sendJson(res, e.status, e.body(), e.headers);
}

/**
 * Past the limit the rest of the body is read and dropped (so the client,
 * still sending, gets to read the 413 instead of a reset), up to this much;
 * beyond it the connection is cut.
 */
const DISCARD_MAX = 64 * 1024 * 1024;

function discardRest(req: http.IncomingMessage): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_MAX) req.socket.destroy();
  });
  req.resume();
}

/** the body, refused past `limit` bytes (413) before it is buffered */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const tooBig = () => new HttpError('TOOBIG', `request body exceeds ${limit} bytes (max-payload plus room for base64 and the other fields)`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    discardRest(req);
    return Promise.reject(tooBig());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      chunks.length = 0;
      discardRest(req);
      reject(tooBig());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw badRequest(`invalid JSON body: ${(e as Error).message}`);
  }
}

/** What the HTTP listener needs; the composition root provides it. */
export interface HttpDeps {
  /** what /v1 handlers use */
  api: ApiContext;
  /** the request gate's view of the server (the same one RESP dispatch uses) */
  gate: GateState;
  /** checks credentials against the ACL users (a failure goes to ACL LOG) */
  auth: { authenticate(user: string, password: string, who: Requester): { readonly name: string } | undefined };
  /** /metrics text, and a counter of HTTP requests */
  metrics: { text(): Promise<string>; readonly contentType: string; httpRequest(route: string, method: string, status: number): void };
  /** log positions: responses wait until their records are durable */
  position: {
    readonly lastLsn: number;
    readonly durableLsn: number;
    readonly writable: boolean;
    readonly lastError: string | null;
    wantDurable(lsn: number): void;
  };
  settings: Settings;
  log: Logger;
  /** serve HTTPS with these credentials (tls-http yes); null: plain HTTP */
  tls?: TlsSource | null;
}

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="resq", Basic realm="resq"' };

/** an HTTP request as the gate and ACL LOG see it */
interface HttpRequester extends Requester {
  readonly addr: string;
}

/** /metrics with metrics-auth yes: whoever may run INFO (the same server facts) */
const METRICS_NEED = { command: 'info', loading: true } as const;

/**
 * A state-changing request must say it is JSON: a web page on another
 * origin cannot send that Content-Type without a CORS preflight, which this
 * server never grants (it sends no Access-Control-* headers). So a form or
 * a text/plain fetch from a browser cannot drive the API.
 */
/** resolves once the response is handed to the socket, or the connection is gone */
function sent(res: http.ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
  });
}

function isJson(req: http.IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && type.split(';')[0].trim().toLowerCase() === 'application/json';
}

/**
 * The HTTP listener: /metrics, /health, /ready for operators and the /v1
 * JSON API for services that cannot speak RESP. node:http, no framework;
 * /v1 handlers call the engine synchronously, like RESP handlers, behind
 * the same request gate (auth, LOADING, MISCONF), and their responses wait
 * for the log like RESP replies do.
 */
export class HttpServer {
  readonly durable: DurableWaiter;
  port = 0;
  private readonly server: http.Server | https.Server;
  private closing = false;
  private readonly ops: OpsRoute[];
  private readonly ui = new UiFiles();
  /** the last request of each connection still being handled */
  private readonly tails = new WeakMap<Socket, Promise<void>>();

  constructor(private readonly d: HttpDeps) {
    this.durable = new DurableWaiter(
      () => d.position.durableLsn,
      (lsn) => d.position.wantDurable(lsn),
    );
    // a slow client (unfinished headers or body) is cut off after these timeouts; node checks them every
    // connectionsCheckingInterval ms, so that runs at a fraction of the shorter one
    const headersTimeout = d.settings.int('http-header-timeout');
    const requestTimeout = Math.max(headersTimeout, d.settings.int('http-request-timeout'));
    const options = { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(headersTimeout, 1000) / 2) };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => this.inOrder(req, res);
    if (d.tls) {
      const server = https.createServer({ ...options, ...d.tls.serverOptions() }, onRequest);
      d.tls.attach(server); // follows certificate reloads
      server.on('tlsClientError', (e, socket) => d.log('debug', `https: TLS handshake with ${socket.remoteAddress} failed: ${e.message.trim()}`));
      this.server = server;
    } else {
      this.server = http.createServer(options, onRequest);
    }
    this.server.maxConnections = d.settings.int('max-clients');
    d.settings.onChange((name) => {
      if (name === 'max-clients') this.server.maxConnections = d.settings.int('max-clients');
    });
    this.server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      const status = e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
    this.ops = [
      { path: '/metrics', handle: (req, res) => this.serveMetrics(req, res) },
      { path: '/health', handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
      { path: '/ready', handle: (_req, res) => this.serveReady(res) },
    ];
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.server.on('error', (e) => this.d.log('error', `http listener error: ${e.message}`));
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** shutdown: stop accepting; requests in flight finish (their durable waits are released by the broker) */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  releaseDurable(lsn: number): void {
    this.durable.release(lsn);
  }

  // ---- routing ------------------------------------------------------------

  /**
   * Requests of one connection are handled one after the other, each once
   * the previous response has gone to the socket: node:http parses a whole
   * pipelined write at once, and building hundreds of large replies before
   * the first is read would hold them all in memory. So a client that does
   * not read stalls only itself, with one reply buffered.
   */
  private inOrder(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket;
    const prev = this.tails.get(socket);
    const run = (prev ? prev.then(() => this.handle(req, res)) : this.handle(req, res)).then(() => sent(res));
    this.tails.set(socket, run);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let label = 'unmatched';
    const socket = req.socket;
    if (socket.destroyed) return; // the client left: its pipelined requests are not run
    if (socket.writableLength > this.d.settings.int('max-output-buffer')) {
      this.d.log('warn', `http: closing ${socket.remoteAddress}:${socket.remotePort}: unsent responses exceed max-output-buffer`);
      socket.destroy();
      return;
    }
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const ops = this.ops.find((r) => r.path === path);
      if (ops) {
        label = ops.path;
        if (method !== 'GET' && method !== 'HEAD') throw new HttpError('METHOD', `${method} is not allowed on ${path}`, { Allow: 'GET, HEAD' });
        await ops.handle(req, res);
        return;
      }
      if ((method === 'GET' || method === 'HEAD') && this.d.settings.bool('dashboard') && this.ui.serve(path, method, res)) {
        label = 'ui';
        return;
      }
      const match = this.match(method, path);
      label = match.route.path;
      await this.serveApi(req, res, match, query);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
      } else if (e instanceof HttpError) {
        sendError(res, e);
      } else if (e instanceof EngineError) {
        const err = HttpError.from(e);
        sendError(res, e.code === 'NOAUTH' || e.code === 'WRONGPASS' ? new HttpError(err.code, err.message, { ...err.headers, ...CHALLENGE }) : err);
      } else {
        this.d.log('error', `http: internal error on ${method} ${label}: ${(e as Error).stack ?? e}`);
        sendError(res, new HttpError('ERR', `internal error: ${(e as Error).message}`));
      }
    } finally {
      this.d.metrics.httpRequest(label, method, res.statusCode);
    }
  }

  /** finds the /v1 route; 404 for an unknown path, 405 (with Allow) for a known path and another method */
  private match(method: string, path: string): Match {
    const segments = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const route of ROUTES) {
      const parts = route.path.split('/').slice(1);
      if (parts.length !== segments.length) continue;
      const params: Bytes[] = [];
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        if (parts[i].startsWith('{')) {
          const value = decodeSegment(segments[i]);
          if (value === undefined) throw badRequest(`malformed percent-encoding in path segment ${i + 1}`);
          ok = value.length > 0;
          params.push(value);
        } else {
          ok = parts[i] === segments[i];
        }
      }
      if (!ok) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) throw new HttpError('METHOD', `${method} is not allowed here`, { Allow: allowed.join(', ') });
    throw new HttpError('NOTFOUND', `no such endpoint: ${path.slice(0, 200)}`);
  }

  // ---- /v1 ------------------------------------------------------------------

  private async serveApi(req: http.IncomingMessage, res: http.ServerResponse, m: Match, query: URLSearchParams): Promise<void> {
    const d = this.d;
    if (m.route.method === 'POST' && !isJson(req)) {
      discardRest(req);
      throw new HttpError('MEDIA', 'POST requests need Content-Type: application/json (a cross-site form or text/plain request is refused)');
    }
    const denied = this.protectedModeRefusal(req);
    if (denied) {
      if (m.route.body) discardRest(req);
      throw denied;
    }
    const who = this.requester(req);
    const refusal = gateRefusal(d.gate, who, m.route.need, m.params);
    if (refusal) {
      if (m.route.body) discardRest(req);
      throw refusal;
    }
    const raw = m.route.body ? await readBody(req, bodyLimit(d.settings.int('max-payload'))) : Buffer.alloc(0);
    let reply: ApiReply;
    try {
      reply = m.route.handle(d.api, { who, params: m.params, query, body: m.route.body ? parseJson(raw) : undefined });
    } finally {
      // log before reply: whatever the call appended (or an earlier write it reports) must be durable first
      await this.durable.wait(d.position.lastLsn);
    }
    if (reply.raw) {
      res.writeHead(reply.status, { 'Content-Type': reply.raw.contentType, 'Content-Length': reply.raw.bytes.length, ...reply.headers });
      res.end(reply.raw.bytes);
    } else {
      sendJson(res, reply.status, reply.body, reply.headers);
    }
  }

  /**
   * Protected mode, as on the RESP port, for the /v1 API (the one that
   * reaches jobs): with no password and a non-loopback http-bind, only
   * loopback clients are served. /health, /ready and /metrics stay open to
   * probes and scrapers, as they are with a password.
   */
  private protectedModeRefusal(req: http.IncomingMessage): HttpError | null {
    const text = protectedModeRefusal(protectionOf(this.d.settings, 'http-bind'), req.socket.remoteAddress);
    return text === null ? null : new HttpError('DENIED', text.replace(/^DENIED /, ''));
  }

  /**
   * Who sends this request: `Authorization: Basic base64(user:password)` for
   * any ACL user, `Bearer <password>` for the default user; without the
   * header, the default user if it needs no password. Wrong credentials are
   * refused at once (WRONGPASS, in ACL LOG).
   */
  private requester(req: http.IncomingMessage): HttpRequester {
    const addr = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const header = req.headers.authorization;
    if (!header) return { authed: false, user: 'default', addr };
    const [user, password] = credentials(header);
    const u = this.d.auth.authenticate(user, password, { authed: false, user, addr } as HttpRequester);
    if (!u) throw new EngineError('WRONGPASS', 'invalid username-password pair or user is disabled.');
    return { authed: true, user: u.name, addr };
  }

  // ---- operations ---------------------------------------------------------

  private async serveMetrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.d.settings.bool('metrics-auth')) {
      const refusal = gateRefusal(this.d.gate, this.requester(req), METRICS_NEED);
      if (refusal) throw refusal;
    }
    const text = await this.d.metrics.text();
    res.writeHead(200, { 'Content-Type': this.d.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** 200 once the log is loaded and writable; 503 with the reason otherwise */
  private serveReady(res: http.ServerResponse): void {
    const gate = this.d.gate;
    let reason: string | null = null;
    if (this.closing) reason = 'shutting down';
    else if (gate.loading) reason = 'loading: the log and snapshot are being loaded';
    else if (!gate.logWritable) reason = `log not writable: ${gate.logError ?? 'I/O error'}`;
    if (reason === null) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 503, { status: 'unavailable', reason });
  }
}

/** [user, password] of an Authorization header: Basic (bytes as latin1, as RESP passwords arrive) or Bearer (the default user) */
function credentials(header: string): [string, string] {
  const bearer = /^Bearer +(.+)$/i.exec(header);
  if (bearer) return ['default', bearer[1]];
  const basic = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  const decoded = basic ? Buffer.from(basic[1], 'base64').toString('latin1') : '';
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new EngineError('WRONGPASS', 'Authorization must be Basic base64(user:password) or Bearer <password>');
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** the HTTP listener could not start: the broker refuses to start (the message names the port) */
export class HttpListenError extends Error {
  override name = 'HttpListenError';
}

/**
 * Starts the HTTP listener when http-port is not 0. http-port -1 (the
 * default) follows the RESP port: its port + 1, or any free port when the
 * RESP port was 0. A port that cannot be bound throws HttpListenError.
 */
export async function startHttp(d: HttpDeps): Promise<HttpServer | null> {
  const setting = d.settings.int('http-port');
  if (setting === 0) return null;
  const resp = d.settings.int('port');
  const port = setting > 0 ? setting : resp === 0 ? 0 : resp + 1;
  if (port > 65535) throw new HttpListenError(`http-port: the RESP port ${resp} has no port after it; set --http-port`);
  const host = d.settings.str('http-bind');
  const server = new HttpServer(d);
  try {
    await server.listen(port, host);
  } catch (e) {
    server.close();
    const err = e as NodeJS.ErrnoException;
    throw new HttpListenError(
      err.code === 'EADDRINUSE' ? `http-port ${port} is already in use` : `cannot listen on ${host}:${port} (http-port): ${err.message}`,
    );
  }
  d.log('info', `${d.tls ? 'https' : 'http'} listening on ${host}:${server.port} (/metrics, /health, /ready, /v1)`, { httpBind: host, httpPort: server.port });
  return server;
}
