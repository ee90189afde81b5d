import { Bytes, STATE_NAMES } from '../engine/job';
import { setCronEntry } from '../cron/cron-entry';
import { JobField } from '../rules/job-fields';
import {
  decodeCursor,
  encodeCursor,
  JOBS_DEFAULT_COUNT,
  JOBS_DEFAULT_PREVIEW,
  jobEntryFields,
  parseCount,
  parseJobState,
  parseOrder,
  parsePreview,
} from '../rules/job-listing';
import { checkQueueName } from '../rules/names';
import { parsePurgeTarget } from '../rules/purge-target';
import { queueStatsFields } from '../rules/queue-fields';
import { EngineError } from '../engine/engine-errors';
import { NO_LIMITS } from '../engine/flow-limits';
import { fieldNames, QUEUE_CONFIG_FIELDS, queueSettingsFromFields } from '../rules/flow-settings';
import { GateState, gateRefusal, NOAUTH_TEXT } from '../rules/request-gate';
import { ApiContext, ApiReply, ApiRequest, ApiRoute, enqueueOptions, getJob, isObject, JOB_PARAM, jobAction, payloadOf, QUEUE_PARAM } from './api-routes';
import { bytesToBase64, bytesToText, textToBytes } from './bytes';
import { badRequest } from './http-error';

/**
 * The /v1 routes of queue administration, job listing, recurring jobs and
 * server facts (what the dashboard uses; any client may). Each names the
 * RESP command it performs, so the gate (and ACL) treat it as that command.
 */

function objectBody(req: ApiRequest, allowed: readonly string[]): Record<string, unknown> {
  const body = req.body ?? {};
  if (!isObject(body)) throw badRequest('the body must be a JSON object');
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`unknown field '${k}'`);
  return body;
}

function fieldJson(f: JobField, v: ReturnType<JobField['value']>): unknown {
  return v !== null && f.kind === 'bytes' ? bytesToText(v as Bytes) : v;
}

// ---- JOBS ---------------------------------------------------------------------

function listJobs(ctx: ApiContext, req: ApiRequest): ApiReply {
  const q = req.query;
  const stateWord = q.get('state');
  if (stateWord === null) throw badRequest(`state is required: one of ${STATE_NAMES.join(', ')}`);
  const state = parseJobState(stateWord);
  const count = q.has('count') ? parseCount(q.get('count')!) : JOBS_DEFAULT_COUNT;
  const order = q.has('order') ? parseOrder(q.get('order')!) : 'asc';
  const preview = q.has('preview') ? parsePreview(q.get('preview')!) : JOBS_DEFAULT_PREVIEW;
  const page = ctx.engine.jobsInState(req.params[0], state, decodeCursor(q.get('cursor') ?? '0'), count, order);
  const entry = jobEntryFields(preview);
  const jobs = page.jobs.map((j) => {
    const o: Record<string, unknown> = { state: STATE_NAMES[j.state] };
    for (const f of entry) o[f.name] = fieldJson(f, f.value(j));
    return o;
  });
  return { status: 200, body: { cursor: encodeCursor(page.next), jobs } };
}

/** the payload's exact bytes, for download (the JSON forms carry it as text or base64) */
function payload(ctx: ApiContext, req: ApiRequest): ApiReply {
  const job = getJob(ctx, req.params[0]);
  const name = `job-${job.id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}.bin`;
  return {
    status: 200,
    body: null,
    raw: { bytes: Buffer.from(job.payloadBytes()), contentType: 'application/octet-stream' },
    headers: { 'Content-Disposition': `attachment; filename="${name}"`, 'X-Content-Type-Options': 'nosniff' },
  };
}

// ---- queue administration ---------------------------------------------------------

function queueAction(run: (ctx: ApiContext, queue: Bytes, body: Record<string, unknown>) => Record<string, unknown>, fields: readonly string[] = []) {
  return (ctx: ApiContext, req: ApiRequest): ApiReply => {
    const body = objectBody(req, fields);
    const queue = req.params[0];
    return { status: 200, body: { queue: bytesToText(queue), ...run(ctx, queue, body) } };
  };
}

// ---- overview and server ------------------------------------------------------------

function overview(ctx: ApiContext): ApiReply {
  const defaultMaxlen = ctx.settings.int('default-maxlen');
  const queues = [...ctx.engine.store.queues.values()].map((q) => {
    const o: Record<string, unknown> = { name: bytesToText(q.name) };
    for (const [k, v] of queueStatsFields(q, defaultMaxlen)) o[k] = v;
    o.rates = ctx.rates.series(q);
    return o;
  });
  return { status: 200, body: { bucketMs: ctx.rates.bucketMs, queues } };
}

/**
 * Who the caller is and what it may do: any authenticated user may ask (a
 * read-only user must learn that it is read-only), a caller that has not
 * authenticated while auth is required is NOAUTH. canWrite asks the gate
 * (so the user's ACL rules apply), ignoring LOADING and MISCONF, which are
 * not permissions, and without logging the probe's refusal to ACL LOG.
 */
function whoami(ctx: ApiContext, req: ApiRequest): ApiReply {
  const acl = ctx.gate.acl;
  const who = req.who;
  if (!(who.authed ? acl.user(who.user) : acl.openDefault)) throw new EngineError('NOAUTH', NOAUTH_TEXT);
  const probe: GateState = {
    acl: {
      user: (name) => acl.user(name),
      get openDefault() {
        return acl.openDefault;
      },
      denied: () => {},
    },
    jobs: ctx.gate.jobs,
    authRequired: ctx.gate.authRequired,
    loading: false,
    logWritable: true,
    logError: null,
  };
  const canWrite = gateRefusal(probe, who, { command: 'purge', write: true }) === null;
  return { status: 200, body: { user: who.user, authRequired: ctx.gate.authRequired, canWrite } };
}

// ---- CRON ---------------------------------------------------------------------------

const CRON_FIELDS = ['expression', 'queue', 'timezone'] as const;

function cronList(ctx: ApiContext): ApiReply {
  const store = ctx.engine.store;
  const defaultTz = ctx.settings.str('timezone');
  const entries = [...store.crons.values()].map((e) => ({
    name: bytesToText(e.name),
    expression: e.expression,
    timezone: e.timezone || defaultTz || 'server local time',
    queue: bytesToText(e.queue),
    payload: bytesToText(e.payload),
    payload_base64: bytesToBase64(e.payload),
    options: e.options,
    nextRunAt: ctx.cron.nextRunOf(e.name) || e.nextRunAt || null,
    lastRunAt: store.cronLastRun.get(e.name) ?? null,
  }));
  return { status: 200, body: { entries } };
}

/** CRON SET from JSON: {expression, queue, payload | payload_base64, timezone?, ...ENQUEUE options but id} */
function cronSet(ctx: ApiContext, req: ApiRequest): ApiReply {
  if (!isObject(req.body)) throw badRequest('the body must be a JSON object');
  const body = { ...req.body };
  const text: Record<string, string> = {};
  for (const k of CRON_FIELDS) {
    const v = body[k];
    delete body[k];
    if (v === undefined && k === 'timezone') continue;
    if (typeof v !== 'string') throw badRequest(`${k} must be a string`);
    text[k] = v;
  }
  const queue = checkQueueName(textToBytes(text.queue));
  // the queue is in the body, which the gate has not seen: its check for the queue, as CRON SET's over RESP
  const refusal = gateRefusal(ctx.gate, req.who, { command: 'cron|set', write: true, key: QUEUE_PARAM }, [queue]);
  if (refusal) throw refusal;
  setCronEntry(
    ctx.engine,
    ctx.cron,
    { defaultTimezone: ctx.settings.str('timezone'), maxPayload: ctx.settings.int('max-payload') },
    {
      name: req.params[0],
      expression: text.expression,
      timezone: text.timezone ?? '',
      queue,
      payload: payloadOf(body),
      options: () => enqueueOptions(body),
    },
  );
  return { status: 200, body: { name: bytesToText(req.params[0]), set: true } };
}

function cronDel(ctx: ApiContext, req: ApiRequest): ApiReply {
  const name = req.params[0];
  const deleted = ctx.engine.deleteCron(name) === 1;
  ctx.cron.unschedule(name);
  return { status: 200, body: { name: bytesToText(name), deleted } };
}

export const ADMIN_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/v1/queues/{queue}/jobs', need: { command: 'jobs', key: QUEUE_PARAM }, body: false, handle: listJobs },
  { method: 'GET', path: '/v1/jobs/{id}/payload', need: { command: 'status', key: JOB_PARAM }, body: false, handle: payload },
  {
    method: 'POST',
    path: '/v1/jobs/{id}/promote',
    need: { command: 'promote', write: true, key: JOB_PARAM },
    body: false,
    handle: jobAction('promoted', (engine, id) => engine.promote(id)),
  },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/pause',
    need: { command: 'pause', write: true, key: QUEUE_PARAM },
    body: false,
    handle: queueAction((ctx, queue) => (ctx.engine.setPaused(checkQueueName(queue), true), { paused: true })),
  },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/resume',
    need: { command: 'resume', write: true, key: QUEUE_PARAM },
    body: false,
    handle: queueAction((ctx, queue) => (ctx.engine.setPaused(checkQueueName(queue), false), { paused: false })),
  },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/purge',
    need: { command: 'purge', write: true, key: QUEUE_PARAM },
    body: true,
    handle: queueAction(
      (ctx, queue, body) => {
        if (typeof body.state !== 'string') throw badRequest('state must be one of dead, completed, cancelled, all, waiting');
        return { purged: ctx.engine.purge(queue, parsePurgeTarget(body.state)) };
      },
      ['state'],
    ),
  },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/config',
    need: { command: 'qconfig', write: true, key: QUEUE_PARAM },
    body: true,
    handle: queueAction((ctx, queue, body) => {
      const name = checkQueueName(queue);
      ctx.engine.configureQueue(name, queueSettingsFromFields(body, ctx.engine.queue(name)?.groupDefaults ?? NO_LIMITS));
      return body; // what was set, as given (GET /v1/queues/{queue} has every setting)
    }, fieldNames(QUEUE_CONFIG_FIELDS)),
  },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/requeue-all',
    need: { command: 'requeue', write: true, key: QUEUE_PARAM },
    body: false,
    handle: queueAction((ctx, queue) => ({ requeued: ctx.engine.requeueAllDead(queue) })),
  },
  { method: 'GET', path: '/v1/overview', need: { command: 'qstats' }, body: false, handle: overview },
  { method: 'GET', path: '/v1/server', need: { command: 'info', loading: true }, body: false, handle: (ctx) => ({ status: 200, body: ctx.serverFacts() }) },
  { method: 'GET', path: '/v1/whoami', need: { command: 'acl|whoami', noauth: true, loading: true }, body: false, handle: whoami },
  { method: 'GET', path: '/v1/cron', need: { command: 'cron|list' }, body: false, handle: cronList },
  { method: 'POST', path: '/v1/cron/{name}', need: { command: 'cron|set', write: true }, body: true, handle: cronSet },
  { method: 'POST', path: '/v1/cron/{name}/delete', need: { command: 'cron|del', write: true }, body: false, handle: cronDel },
];
