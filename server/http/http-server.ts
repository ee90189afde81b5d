import * as crypto from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Broker } from '../broker';
import { EngineError } from '../engine/engine-errors';
import { Bytes } from '../engine/job';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { API_ROUTES, ApiReply, ApiRoute } from './api-routes';
import { decodeSegment } from './bytes';
import { DurableWaiter } from './durable-waiter';
import { badRequest, HttpError } from './http-error';

/** JSON bodies may carry a payload as base64 (4/3 of its size) plus the other fields */
const BODY_SLACK = 64 * 1024;

export function bodyLimit(maxPayload: number): number {
  return Math.ceil((maxPayload * 4) / 3) + BODY_SLACK;
}

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

/** constant-time comparison of a Bearer token with requirepass (either byte reading of the setting) */
function passwordMatches(token: Bytes, required: string): boolean {
  const digest = (b: Buffer) => crypto.createHash('sha256').update(b).digest();
  const given = digest(Buffer.from(token, 'latin1'));
  const asBytes = crypto.timingSafeEqual(given, digest(Buffer.from(required, 'latin1')));
  const asUtf8 = crypto.timingSafeEqual(given, digest(Buffer.from(required, 'utf8')));
  return asBytes || asUtf8;
}

/**
 * The HTTP listener: /metrics, /health, /ready for operators and the /v1
 * JSON API for services that cannot speak RESP. node:http, no framework;
 * /v1 handlers call the engine synchronously, like RESP handlers, behind
 * the same gates (auth, LOADING, MISCONF), and their responses wait for the
 * log like RESP replies do.
 */
export class HttpServer {
  readonly metrics: BrokerMetrics;
  readonly durable: DurableWaiter;
  port = 0;
  private readonly server: http.Server;
  private closing = false;
  private readonly ops: OpsRoute[];

  constructor(private readonly b: Broker) {
    this.metrics = new BrokerMetrics(b);
    this.durable = new DurableWaiter(() => b.persistence.durableLsn);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    this.ops = [
      { path: '/metrics', handle: (_req, res) => this.serveMetrics(res) },
      { path: '/health', handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
      { path: '/ready', handle: (_req, res) => this.serveReady(res) },
    ];
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.server.on('error', (e) => this.b.log('error', `http listener error: ${e.message}`));
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  /** shutdown: stop accepting; requests in flight finish (their durable waits are released by the broker) */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.metrics.stop();
    this.server.close();
    this.server.closeIdleConnections();
  }

  releaseDurable(lsn: number): void {
    this.durable.release(lsn);
  }

  // ---- routing ------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let label = 'unmatched';
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
      const match = this.match(method, path);
      label = match.route.path;
      await this.serveApi(req, res, match, query);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
      } else if (e instanceof HttpError) {
        sendError(res, e);
      } else if (e instanceof EngineError) {
        sendError(res, HttpError.from(e));
      } else {
        this.b.log('error', `http: internal error on ${method} ${label}: ${(e as Error).stack ?? e}`);
        sendError(res, new HttpError('ERR', `internal error: ${(e as Error).message}`));
      }
    } finally {
      this.metrics.httpRequest(label, method, res.statusCode);
    }
  }

  /** finds the /v1 route; 404 for an unknown path, 405 (with Allow) for a known path and another method */
  private match(method: string, path: string): Match {
    const segments = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const route of API_ROUTES) {
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
    const b = this.b;
    this.checkAuth(req);
    const raw = m.route.body ? await readBody(req, bodyLimit(b.settings.int('max-payload'))) : Buffer.alloc(0);
    if (b.loading) throw new EngineError('LOADING', 'resq is loading the log and snapshot into memory');
    if (m.route.write && !b.persistence.writable) {
      throw new EngineError(
        'MISCONF',
        `the log cannot be written (${b.persistence.lastError ?? 'I/O error'}); writes are refused until the disk accepts them, reads still work`,
      );
    }
    let reply: ApiReply;
    try {
      reply = m.route.handle(b, { params: m.params, query, body: m.route.body ? parseJson(raw) : undefined });
    } finally {
      // log before reply: whatever the call appended (or an earlier write it reports) must be durable first
      await this.durable.wait(b.persistence.lastLsn);
    }
    sendJson(res, reply.status, reply.body, reply.headers);
  }

  private checkAuth(req: http.IncomingMessage): void {
    const required = this.b.settings.str('requirepass');
    if (required === '') return;
    const challenge = { 'WWW-Authenticate': 'Bearer realm="resq"' };
    const header = req.headers.authorization;
    const m = header ? /^Bearer +(.+)$/i.exec(header) : null;
    if (!m) throw new HttpError('NOAUTH', 'Authentication required: send Authorization: Bearer <requirepass>.', challenge);
    if (!passwordMatches(m[1], required)) throw new HttpError('WRONGPASS', 'invalid password.', challenge);
  }

  // ---- operations ---------------------------------------------------------

  private async serveMetrics(res: http.ServerResponse): Promise<void> {
    const text = await this.metrics.text();
    res.writeHead(200, { 'Content-Type': this.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** 200 once the log is loaded and writable; 503 with the reason otherwise */
  private serveReady(res: http.ServerResponse): void {
    const b = this.b;
    let reason: string | null = null;
    if (this.closing) reason = 'shutting down';
    else if (b.loading) reason = 'loading: the log and snapshot are being loaded';
    else if (!b.persistence.writable) reason = `log not writable: ${b.persistence.lastError ?? 'I/O error'}`;
    if (reason === null) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 503, { status: 'unavailable', reason });
  }
}

/** the HTTP listener could not start: the broker refuses to start (the message names the port) */
export class HttpListenError extends Error {
  override name = 'HttpListenError';
}

/**
 * Starts the HTTP listener when http-port is not 0, and with it the metrics
 * (the engine hook is installed only then: http-port 0 costs nothing).
 * http-port -1 (the default) follows the RESP port: its port + 1, or any
 * free port when the RESP port was 0. A port that cannot be bound throws
 * HttpListenError.
 */
export async function startHttp(b: Broker): Promise<HttpServer | null> {
  const setting = b.settings.int('http-port');
  if (setting === 0) return null;
  const resp = b.settings.int('port');
  const port = setting > 0 ? setting : resp === 0 ? 0 : resp + 1;
  if (port > 65535) throw new HttpListenError(`http-port: the RESP port ${resp} has no port after it; set --http-port`);
  const host = b.settings.str('http-bind');
  const server = new HttpServer(b);
  try {
    await server.listen(port, host);
  } catch (e) {
    server.close();
    const err = e as NodeJS.ErrnoException;
    throw new HttpListenError(
      err.code === 'EADDRINUSE' ? `http-port ${port} is already in use` : `cannot listen on ${host}:${port} (http-port): ${err.message}`,
    );
  }
  b.engine.metrics = server.metrics;
  b.log('info', `http listening on ${host}:${server.port} (/metrics, /health, /ready, /v1)`, { httpBind: host, httpPort: server.port });
  return server;
}
