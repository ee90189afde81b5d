import { parsePurgeTarget } from '../rules/purge-target';
import { argError, OptionReader } from '../rules/args';
import { queueSettingsFromWords } from '../rules/flow-settings';
import { NO_LIMITS } from '../engine/flow-limits';
import { Handler, HandlerGroup } from './handler';
import { checkQueueName } from '../rules/names';
import { queueStatsFields } from '../rules/queue-fields';
import { writeDeadEntries, writeFieldMap, writeJobEntries, writeListedJobs } from './reply-shapes';
import { decodeCursor, JOBS_DEFAULT_COUNT, JOBS_DEFAULT_PREVIEW, parseCount, parseJobState, parseOrder, parsePreview } from '../rules/job-listing';
import type { ListOrder } from '../engine/job-listing';

function countOption(args: string[], defaultCount: number): number {
  const r = new OptionReader(args, 2);
  let count = defaultCount;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'COUNT') count = r.int(word, 1, 100_000);
    else r.unknown(word);
  }
  return count;
}

const queues: Handler = (ctx, c) => {
  const names = [...ctx.engine.store.queues.keys()];
  c.writer.arrayHeader(names.length);
  for (const n of names) c.writer.bulk(n);
};

const qstats: Handler = (ctx, c, args) => {
  writeFieldMap(c.writer, queueStatsFields(ctx.engine.queue(args[1]), ctx.settings.int('default-maxlen')));
};

const qlen: Handler = (ctx, c, args) => {
  c.writer.int(ctx.engine.queue(args[1])?.backlog ?? 0);
};

const peek: Handler = (ctx, c, args) => {
  writeJobEntries(c.writer, ctx.engine.peek(args[1], countOption(args, 1)));
};

/** JOBS queue state [CURSOR c] [COUNT n] [ORDER asc|desc] [PREVIEW bytes] */
const jobs: Handler = (ctx, c, args) => {
  const state = parseJobState(args[2]);
  const r = new OptionReader(args, 3);
  let cursor = '0';
  let count = JOBS_DEFAULT_COUNT;
  let order: ListOrder = 'asc';
  let preview = JOBS_DEFAULT_PREVIEW;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'CURSOR') cursor = r.value(word);
    else if (word === 'COUNT') count = parseCount(r.value(word));
    else if (word === 'ORDER') order = parseOrder(r.value(word));
    else if (word === 'PREVIEW') preview = parsePreview(r.value(word));
    else r.unknown(word);
  }
  const page = ctx.engine.jobsInState(args[1], state, decodeCursor(cursor), count, order);
  writeListedJobs(c.writer, page, preview);
};

const pause: Handler = (ctx, c, args) => {
  ctx.engine.setPaused(checkQueueName(args[1]), true);
  c.writer.simple('OK');
};

const resume: Handler = (ctx, c, args) => {
  ctx.engine.setPaused(checkQueueName(args[1]), false);
  c.writer.simple('OK');
};

const dlq: Handler = (ctx, c, args) => {
  writeDeadEntries(c.writer, ctx.engine.dlq(args[1], countOption(args, 100)));
};

const requeue: Handler = (ctx, c, args) => {
  if (args.length === 2) {
    c.writer.int(ctx.engine.requeue(args[1]));
  } else if (args.length === 3 && args[2].toUpperCase() === 'ALL') {
    c.writer.int(ctx.engine.requeueAllDead(args[1]));
  } else {
    throw argError('syntax error: REQUEUE id | REQUEUE queue ALL');
  }
};

const purge: Handler = (ctx, c, args) => {
  c.writer.int(ctx.engine.purge(args[1], parsePurgeTarget(args[2])));
};

/** QCONFIG queue [MAXLEN n] [CONCURRENCY n] [RATE n [PER ms]] [GROUP-...]: every option is checked before any is applied, all in one record */
const qconfig: Handler = (ctx, c, args) => {
  const queue = checkQueueName(args[1]);
  const patch = queueSettingsFromWords(args, 2, ctx.engine.queue(queue)?.groupDefaults ?? NO_LIMITS);
  ctx.engine.configureQueue(queue, patch);
  c.writer.simple('OK');
};

const qdel: Handler = (ctx, c, args) => {
  c.writer.int(ctx.engine.deleteQueue(args[1]));
};

export const QUEUE_HANDLERS = {
  queues,
  qstats,
  qlen,
  peek,
  jobs,
  pause,
  resume,
  dlq,
  requeue,
  purge,
  qconfig,
  qdel,
} satisfies HandlerGroup;
