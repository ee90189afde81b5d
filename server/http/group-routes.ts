import { Bytes } from '../engine/job';
import { parseInteger } from '../rules/args';
import { fieldNames, GROUP_CONFIG_FIELDS, groupOverrideFromFields } from '../rules/flow-settings';
import { GROUP_LIST_DEFAULT_COUNT, GROUP_LIST_FIELDS, GROUP_LIST_MAX_COUNT, groupListEntry, groupStatsFields } from '../rules/group-fields';
import { checkGroupKey, checkQueueName } from '../rules/names';
import { ApiContext, ApiReply, ApiRequest, ApiRoute, isObject, QUEUE_PARAM } from './api-routes';
import { bytesToText } from './bytes';
import { badRequest } from './http-error';

/**
 * The /v1 routes of the groups of a queue (ENQUEUE ... GROUP key): GROUP
 * LIST, STATS, CONFIG and RESET over JSON. Each names the GROUP subcommand
 * it performs, so the gate (and ACL, with the queue as the key) treat it as
 * that command; the fields and the option checks are the RESP ones.
 */

/** GROUP STATS as a JSON object, headed by the queue and the group */
function statsBody(ctx: ApiContext, queue: Bytes, key: Bytes, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { queue: bytesToText(queue), group: bytesToText(key), ...extra };
  for (const [k, v] of groupStatsFields(ctx.engine, queue, key)) body[k] = v;
  return body;
}

/** GET /v1/queues/{queue}/groups?count=n: GROUP LIST, the groups with the most waiting jobs first */
function list(ctx: ApiContext, req: ApiRequest): ApiReply {
  const [queue] = req.params;
  const countWord = req.query.get('count');
  const count = countWord === null ? GROUP_LIST_DEFAULT_COUNT : parseInteger(countWord, 'COUNT', 1, GROUP_LIST_MAX_COUNT);
  const groups = ctx.engine.largestGroups(queue, count).map((g) => {
    const o: Record<string, unknown> = { key: bytesToText(g.key) };
    groupListEntry(g).forEach((n, i) => (o[GROUP_LIST_FIELDS[i]] = n));
    return o;
  });
  return { status: 200, body: { queue: bytesToText(queue), groups } };
}

const stats = (ctx: ApiContext, req: ApiRequest): ApiReply => ({ status: 200, body: statsBody(ctx, req.params[0], req.params[1]) });

/** POST /v1/queues/{queue}/groups/{key}/config {concurrency, rate, ratePer, maxlen}: GROUP CONFIG, patched onto the group's own limits */
function configure(ctx: ApiContext, req: ApiRequest): ApiReply {
  const queue = checkQueueName(req.params[0]);
  const key = checkGroupKey(req.params[1]);
  const body = req.body ?? {};
  if (!isObject(body)) throw badRequest('the body must be a JSON object');
  const allowed = fieldNames(GROUP_CONFIG_FIELDS);
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`unknown field '${k}'`);
  ctx.engine.configureGroup(queue, key, groupOverrideFromFields(body, ctx.engine.groupLimits(queue, key).override));
  return { status: 200, body: statsBody(ctx, queue, key) };
}

/** POST /v1/queues/{queue}/groups/{key}/reset: GROUP RESET; `reset` false when the group had no limits of its own */
function reset(ctx: ApiContext, req: ApiRequest): ApiReply {
  const [queue, key] = req.params;
  const had = ctx.engine.resetGroup(queue, key) === 1;
  return { status: 200, body: statsBody(ctx, queue, key, { reset: had }) };
}

export const GROUP_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/v1/queues/{queue}/groups', need: { command: 'group|list', key: QUEUE_PARAM }, body: false, handle: list },
  { method: 'GET', path: '/v1/queues/{queue}/groups/{key}', need: { command: 'group|stats', key: QUEUE_PARAM }, body: false, handle: stats },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/groups/{key}/config',
    need: { command: 'group|config', write: true, key: QUEUE_PARAM },
    body: true,
    handle: configure,
  },
  {
    method: 'POST',
    path: '/v1/queues/{queue}/groups/{key}/reset',
    need: { command: 'group|reset', write: true, key: QUEUE_PARAM },
    body: false,
    handle: reset,
  },
];
