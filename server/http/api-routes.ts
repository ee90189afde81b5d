import type { Broker } from '../broker';
import { EngineError } from '../engine/engine-errors';
import { Bytes, Job, JobState, PRIORITY_NAMES, STATE_NAMES } from '../engine/job';
import { OptionReader } from '../commands/args';
import { parseEnqueueOptions } from '../commands/enqueue-options';
import { queueStatsFields } from '../commands/reply-shapes';
import { base64ToBytes, bytesToBase64, bytesToText, encodeSegment, textToBytes } from './bytes';
import { badRequest } from './http-error';

/** what a /v1 handler gets: decoded path parameters (bytes), the query, the parsed JSON body */
export interface ApiRequest {
  params: Bytes[];
  query: URLSearchParams;
  body: unknown;
}

export interface ApiReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** template, also the `route` label of resq_http_requests_total */
  path: string;
  /** changes state: refused with MISCONF while the log cannot be written (the RESP 'write' flag) */
  write: boolean;
  /** reads and parses a JSON body (other routes ignore a body, if any) */
  body: boolean;
  /** runs synchronously against the engine, as a RESP handler does */
  handle(b: Broker, req: ApiRequest): ApiReply;
}

// ---- ENQUEUE: JSON body -> the same option words RESP parses ----------------

const INT_OPTIONS: ReadonlyArray<[string, string]> = [
  ['delay', 'DELAY'],
  ['at', 'AT'],
  ['retries', 'RETRIES'],
  ['lease', 'LEASE'],
  ['ttl', 'TTL'],
];
const ENQUEUE_FIELDS = new Set(['payload', 'payload_base64', 'priority', 'backoff', 'id', ...INT_OPTIONS.map(([f]) => f)]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** integers go through the RESP parser as text, so ranges and messages are the RESP ones */
function intWord(field: string, v: unknown): string {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`${field} must be an integer`);
  return String(v);
}

function payloadOf(body: Record<string, unknown>): Bytes {
  const text = body.payload;
  const b64 = body.payload_base64;
  if ((text === undefined) === (b64 === undefined)) throw badRequest('give exactly one of payload (text) and payload_base64 (bytes)');
  if (text !== undefined) {
    if (typeof text !== 'string') throw badRequest('payload must be a string (encode structured data as JSON text, or use payload_base64)');
    return textToBytes(text);
  }
  const bytes = typeof b64 === 'string' ? base64ToBytes(b64) : undefined;
  if (bytes === undefined) throw badRequest('payload_base64 must be standard base64 with padding');
  return bytes;
}

/** the ENQUEUE options as RESP words (without BLOCK: an HTTP request does not wait for room) */
function optionWords(body: Record<string, unknown>): string[] {
  const words: string[] = [];
  for (const field of Object.keys(body)) if (!ENQUEUE_FIELDS.has(field)) throw badRequest(`unknown field '${field}'`);
  if (body.priority !== undefined) {
    if (typeof body.priority !== 'string') throw badRequest('priority must be high, normal or low');
    words.push('PRIORITY', body.priority);
  }
  for (const [field, word] of INT_OPTIONS) if (body[field] !== undefined) words.push(word, intWord(field, body[field]));
  const backoff = body.backoff;
  if (backoff !== undefined) {
    if (typeof backoff === 'number') {
      words.push('BACKOFF', intWord('backoff', backoff));
    } else if (isObject(backoff)) {
      for (const k of Object.keys(backoff)) if (k !== 'base' && k !== 'max') throw badRequest(`unknown field 'backoff.${k}'`);
      if (backoff.base === undefined) throw badRequest('backoff.base is required');
      words.push('BACKOFF', intWord('backoff.base', backoff.base));
      if (backoff.max !== undefined) words.push('MAX', intWord('backoff.max', backoff.max));
    } else {
      throw badRequest('backoff must be {"base": ms, "max": ms} or a number of ms');
    }
  }
  if (body.id !== undefined) {
    if (typeof body.id !== 'string') throw badRequest('id must be a string');
    words.push('ID', textToBytes(body.id));
  }
  return words;
}

function enqueue(b: Broker, req: ApiRequest): ApiReply {
  const [queue] = req.params;
  if (!isObject(req.body)) throw badRequest('the body must be a JSON object');
  const payload = payloadOf(req.body);
  const max = b.settings.int('max-payload');
  // the RESP handler's check, same order and message (TOOBIG before option errors)
  if (payload.length > max) throw new EngineError('TOOBIG', `payload is ${payload.length} bytes, max-payload is ${max}`);
  const { options } = parseEnqueueOptions(new OptionReader(['ENQUEUE', queue, payload, ...optionWords(req.body)], 3));
  const existed = options.id !== undefined && b.engine.status(options.id) !== undefined;
  const id = b.engine.enqueue(queue, payload, options);
  return {
    status: existed ? 200 : 201, // 200: idempotent repeat, the job already existed
    body: { id: bytesToText(id) },
    headers: { Location: `/v1/jobs/${encodeSegment(id)}` },
  };
}

// ---- reads --------------------------------------------------------------------

function nullable<T>(v: T | null, absent: T | null = null): T | null {
  return v === absent ? null : v;
}

/** STATUS as JSON: the STATUS keys; byte fields as UTF-8 text plus exact *_base64 for payload and result */
export function jobJson(j: Job, withPayload: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: bytesToText(j.id),
    queue: bytesToText(j.queue),
    state: STATE_NAMES[j.state],
    priority: PRIORITY_NAMES[j.priority],
    deliveries: j.deliveries,
    retries: j.retries,
    'created-at': j.createdAt,
    'updated-at': j.updatedAt,
    'run-at': j.state === JobState.Scheduled ? nullable(j.runAt, 0) : null,
    'lease-until': j.state === JobState.Active ? nullable(j.leaseUntil, 0) : null,
    'last-error': j.lastError === null ? null : bytesToText(j.lastError),
    result: j.result === null ? null : bytesToText(j.result),
    result_base64: j.result === null ? null : bytesToBase64(j.result),
    lease: j.lease,
    backoff: j.backoffBase,
    'backoff-max': j.backoffMax,
    'expires-at': nullable(j.expiresAt, 0),
  };
  if (withPayload) {
    out.payload = bytesToText(j.payload);
    out.payload_base64 = bytesToBase64(j.payload);
  }
  return out;
}

function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  const lower = v.toLowerCase();
  if (lower === '' || lower === '1' || lower === 'true' || lower === 'yes') return true;
  if (lower === '0' || lower === 'false' || lower === 'no') return false;
  throw badRequest(`${name} must be 1 or 0`);
}

function getJob(b: Broker, id: Bytes): Job {
  const job = b.engine.status(id);
  if (!job) throw new EngineError('NOJOB', 'no such job');
  return job;
}

const status = (b: Broker, req: ApiRequest): ApiReply => ({
  status: 200,
  body: jobJson(getJob(b, req.params[0]), flag(req.query, 'withpayload')),
});

const queues = (b: Broker): ApiReply => ({
  status: 200,
  body: { queues: [...b.engine.store.queues.keys()].map(bytesToText) },
});

const qstats = (b: Broker, req: ApiRequest): ApiReply => {
  const [queue] = req.params;
  const body: Record<string, unknown> = { queue: bytesToText(queue) };
  for (const [k, v] of queueStatsFields(b.engine.queue(queue), b.settings.int('default-maxlen'))) body[k] = v;
  return { status: 200, body };
};

// ---- CANCEL / REQUEUE -----------------------------------------------------------

/** replies like RESP (:1 / :0 become true / false) plus the job's state now */
function jobAction(key: string, run: (b: Broker, id: Bytes) => 0 | 1) {
  return (b: Broker, req: ApiRequest): ApiReply => {
    const id = req.params[0];
    const done = run(b, id) === 1;
    const after = b.engine.status(id);
    return { status: 200, body: { [key]: done, state: after ? STATE_NAMES[after.state] : null } };
  };
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/queues/{queue}/jobs', write: true, body: true, handle: enqueue },
  { method: 'GET', path: '/v1/queues', write: false, body: false, handle: queues },
  { method: 'GET', path: '/v1/queues/{queue}', write: false, body: false, handle: qstats },
  { method: 'GET', path: '/v1/jobs/{id}', write: false, body: false, handle: status },
  { method: 'POST', path: '/v1/jobs/{id}/cancel', write: true, body: false, handle: jobAction('cancelled', (b, id) => b.engine.cancel(id)) },
  { method: 'POST', path: '/v1/jobs/{id}/requeue', write: true, body: false, handle: jobAction('requeued', (b, id) => b.engine.requeue(id)) },
];
