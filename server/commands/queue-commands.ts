import { PurgeWhat } from '../engine/records';
import { argError, OptionReader, parseInteger } from '../rules/args';
import { Handler, HandlerGroup } from './handler';
import { checkQueueName } from '../rules/names';
import { queueStatsFields } from '../rules/queue-fields';
import { writeDeadEntries, writeFieldMap, writeJobEntries } from './reply-shapes';

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

const PURGE_TARGETS = new Set<PurgeWhat>(['dead', 'completed', 'cancelled', 'all', 'waiting']);

const purge: Handler = (ctx, c, args) => {
  const what = args[2].toLowerCase() as PurgeWhat;
  if (!PURGE_TARGETS.has(what)) throw argError('PURGE target must be DEAD, COMPLETED, CANCELLED, ALL or WAITING');
  c.writer.int(ctx.engine.purge(args[1], what));
};

const qconfig: Handler = (ctx, c, args) => {
  if (args.length !== 4 || args[2].toUpperCase() !== 'MAXLEN') throw argError('syntax error: QCONFIG queue MAXLEN n');
  ctx.engine.setMaxlen(checkQueueName(args[1]), parseInteger(args[3], 'MAXLEN'));
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
  pause,
  resume,
  dlq,
  requeue,
  purge,
  qconfig,
  qdel,
} satisfies HandlerGroup;
