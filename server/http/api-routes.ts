import type { Settings } from '../../config/settings';
import type { Engine } from '../engine/engine';
import { EngineError } from '../engine/engine-errors';
import { Bytes, Job, parsePriority, STATE_NAMES } from '../engine/job';
import { EnqueueOptions, validateEnqueueOptions } from '../rules/enqueue-options';
import { PAYLOAD_FIELD, STATUS_FIELDS } from '../rules/job-fields';
import { checkQueueName } from '../rules/names';
import { checkPayload } from '../rules/payload';
import { queueStatsFields } from '../rules/queue-fields';
import type { GateState, Requirement, Requester } from '../rules/request-gate';
import type { CronControl } from '../context/command-context';
import type { QueueRates } from '../metrics/queue-rates';
import type { ServerFacts } from '../server-facts';
import { base64ToBytes, bytesToBase64, bytesToText, encodeSegment, textToBytes } from './bytes';
import { badRequest } from './http-error';

/** what /v1 handlers use */
export interface ApiContext {
  readonly engine: Engine;
  readonly settings: Settings;
  /** what the request gate reads (GET /v1/whoami asks the gate what the caller may do) */
  readonly gate: GateState;
  /** the recurring-job timers (CRON SET / DEL routes) */
  readonly cron: CronControl;
  /** recent enqueue and completion rates per queue (dashboard overview) */
  readonly rates: QueueRates;
  /** GET /v1/server */
  serverFacts(): ServerFacts;
}

/** what a /v1 handler gets: decoded path parameters (bytes), the query, the parsed JSON body */
export interface ApiRequest {
  /** who sent it (already through the gate) */
  who: Requester;
  params: Bytes[];
  query: URLSearchParams;
  body: unknown;
}

export interface ApiReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** sent as is instead of the JSON body (a job's payload bytes) */
  raw?: { bytes: Buffer; contentType: string };
}

export interface ApiRoute {
  method: 'GET' | 'POST';
  /** template, also the `route` label of resq_http_requests_total */
  path: string;
  /** what the request gate checks: the RESP command this route performs, and its flags */
  need: Requirement;
  /** reads and parses a JSON body (other routes ignore a body, if any) */
  body: boolean;
  /** runs synchronously against the engine, as a RESP handler does */
  handle(ctx: ApiContext, req: ApiRequest): ApiReply;
}

// ---- ENQUEUE: JSON body -> EnqueueOptions, validated as RESP's are --------------

const INT_OPTIONS = ['delay', 'at', 'retries', 'lease', 'ttl'] as const;
const ENQUEUE_FIELDS = new Set<string>(['payload', 'payload_base64', 'priority', 'backoff', 'id', 'group', ...INT_OPTIONS]);

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON numbers must be integers here; ranges are checked by the shared validator, with the RESP messages */
function int(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`${field} must be an integer`);
  return v;
}

export function payloadOf(body: Record<string, unknown>): Bytes {
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

/** the ENQUEUE options of a JSON body (no BLOCK: an HTTP request does not wait for room) */
export function enqueueOptions(body: Record<string, unknown>): EnqueueOptions {
  for (const field of Object.keys(body)) if (!ENQUEUE_FIELDS.has(field)) throw badRequest(`unknown field '${field}'`);
  const o: EnqueueOptions = {};
  if (body.priority !== undefined) {
    const p = typeof body.priority === 'string' ? parsePriority(body.priority) : undefined;
    if (p === undefined) throw badRequest('PRIORITY must be high, normal or low');
    o.priority = p;
  }
  for (const field of INT_OPTIONS) if (body[field] !== undefined) o[field] = int(field, body[field]);
  const backoff = body.backoff;
  if (backoff !== undefined) {
    if (typeof backoff === 'number') {
      o.backoffBase = int('backoff', backoff);
    } else if (isObject(backoff)) {
      for (const k of Object.keys(backoff)) if (k !== 'base' && k !== 'max') throw badRequest(`unknown field 'backoff.${k}'`);
      if (backoff.base === undefined) throw badRequest('backoff.base is required');
      o.backoffBase = int('backoff.base', backoff.base);
      if (backoff.max !== undefined) o.backoffMax = int('backoff.max', backoff.max);
    } else {
      throw badRequest('backoff must be {"base": ms, "max": ms} or a number of ms');
    }
  }
  if (body.id !== undefined) {
    if (typeof body.id !== 'string') throw badRequest('id must be a string');
    o.id = textToBytes(body.id);
  }
  if (body.group !== undefined) {
    if (typeof body.group !== 'string') throw badRequest('group must be a string');
    o.group = textToBytes(body.group);
  }
  return validateEnqueueOptions(o);
}

function enqueue(ctx: ApiContext, req: ApiRequest): ApiReply {
  const queue = checkQueueName(req.params[0]);
  if (!isObject(req.body)) throw badRequest('the body must be a JSON object');
  const payload = payloadOf(req.body);
  checkPayload(payload, ctx.settings.int('max-payload')); // before option errors, as RESP
  const options = enqueueOptions(req.body);
  const existed = options.id !== undefined && ctx.engine.status(options.id) !== undefined;
  const id = ctx.engine.enqueue(queue, payload, options);
  return {
    status: existed ? 200 : 201, // 200: idempotent repeat, the job already existed
    body: { id: bytesToText(id) },
    headers: { Location: `/v1/jobs/${encodeSegment(id)}` },
  };
}

// ---- reads --------------------------------------------------------------------

/** STATUS as JSON: the STATUS fields; bytes as UTF-8 text, plus exact *_base64 for the result (and the payload) */
export function jobJson(j: Job, withPayload: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (f: (typeof STATUS_FIELDS)[number]) => {
    const v = f.value(j);
    out[f.name] = v !== null && f.kind === 'bytes' ? bytesToText(v as Bytes) : v;
    if (f.name === 'result' || f.name === 'payload') out[`${f.name}_base64`] = v === null ? null : bytesToBase64(v as Bytes);
  };
  for (const f of STATUS_FIELDS) put(f);
  if (withPayload) put(PAYLOAD_FIELD);
  return out;
}

export function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  const lower = v.toLowerCase();
  if (lower === '' || lower === '1' || lower === 'true' || lower === 'yes') return true;
  if (lower === '0' || lower === 'false' || lower === 'no') return false;
  throw badRequest(`${name} must be 1 or 0`);
}

export function getJob(ctx: ApiContext, id: Bytes): Job {
  const job = ctx.engine.status(id);
  if (!job) throw new EngineError('NOJOB', 'no such job');
  return job;
}

const status = (ctx: ApiContext, req: ApiRequest): ApiReply => ({
  status: 200,
  body: jobJson(getJob(ctx, req.params[0]), flag(req.query, 'withpayload')),
});

const queues = (ctx: ApiContext): ApiReply => ({
  status: 200,
  body: { queues: [...ctx.engine.store.queues.keys()].map(bytesToText) },
});

const qstats = (ctx: ApiContext, req: ApiRequest): ApiReply => {
  const [queue] = req.params;
  const body: Record<string, unknown> = { queue: bytesToText(queue) };
  for (const [k, v] of queueStatsFields(ctx.engine.queue(queue), ctx.settings.int('default-maxlen'))) body[k] = v;
  return { status: 200, body };
};

// ---- CANCEL / REQUEUE -----------------------------------------------------------

/** replies like RESP (:1 / :0 become true / false) plus the job's state now */
export function jobAction(key: string, run: (engine: Engine, id: Bytes) => 0 | 1) {
  return (ctx: ApiContext, req: ApiRequest): ApiReply => {
    const id = req.params[0];
    const done = run(ctx.engine, id) === 1;
    const after = ctx.engine.status(id);
    return { status: 200, body: { [key]: done, state: after ? STATE_NAMES[after.state] : null } };
  };
}

/** the path parameter naming the queue, or the job whose queue the gate looks up (ACL queue patterns) */
export const QUEUE_PARAM = { at: 0, is: 'queue' } as const;
export const JOB_PARAM = { at: 0, is: 'job' } as const;

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/v1/queues/{queue}/jobs', need: { command: 'enqueue', write: true, key: QUEUE_PARAM }, body: true, handle: enqueue },
  { method: 'GET', path: '/v1/queues', need: { command: 'queues' }, body: false, handle: queues },
  { method: 'GET', path: '/v1/queues/{queue}', need: { command: 'qstats', key: QUEUE_PARAM }, body: false, handle: qstats },
  { method: 'GET', path: '/v1/jobs/{id}', need: { command: 'status', key: JOB_PARAM }, body: false, handle: status },
  {
    method: 'POST',
    path: '/v1/jobs/{id}/cancel',
    need: { command: 'cancel', write: true, key: JOB_PARAM },
    body: false,
    handle: jobAction('cancelled', (engine, id) => engine.cancel(id)),
  },
  {
    method: 'POST',
    path: '/v1/jobs/{id}/requeue',
    need: { command: 'requeue', write: true, key: JOB_PARAM },
    body: false,
    handle: jobAction('requeued', (engine, id) => engine.requeue(id)),
  },
];
