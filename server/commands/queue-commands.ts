import { PurgeWhat } from '../engine/records';
import { argError, OptionReader, parseInteger } from './args';
import { Handler } from './handler';
import { queueStatsFields, writeDeadEntries, writeFieldMap, writeJobEntries } from './reply-shapes';

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

const queues: Handler = (b, c) => {
  const names = [...b.engine.store.queues.keys()];
  c.writer.arrayHeader(names.length);
  for (const n of names) c.writer.bulk(n);
};

const qstats: Handler = (b, c, args) => {
  writeFieldMap(c.writer, queueStatsFields(b.engine.queue(args[1]), b.settings.int('default-maxlen')));
};

const qlen: Handler = (b, c, args) => {
  c.writer.int(b.engine.queue(args[1])?.backlog ?? 0);
};

const peek: Handler = (b, c, args) => {
  writeJobEntries(c.writer, b.engine.peek(args[1], countOption(args, 1)));
};

const pause: Handler = (b, c, args) => {
  b.engine.setPaused(args[1], true);
  c.writer.simple('OK');
};

const resume: Handler = (b, c, args) => {
  b.engine.setPaused(args[1], false);
  c.writer.simple('OK');
};

const dlq: Handler = (b, c, args) => {
  writeDeadEntries(c.writer, b.engine.dlq(args[1], countOption(args, 100)));
};

const requeue: Handler = (b, c, args) => {
  if (args.length === 2) {
    c.writer.int(b.engine.requeue(args[1]));
  } else if (args.length === 3 && args[2].toUpperCase() === 'ALL') {
    c.writer.int(b.engine.requeueAllDead(args[1]));
  } else {
    throw argError('syntax error: REQUEUE id | REQUEUE queue ALL');
  }
};

const PURGE_TARGETS = new Set<PurgeWhat>(['dead', 'completed', 'cancelled', 'all', 'waiting']);

const purge: Handler = (b, c, args) => {
  const what = args[2].toLowerCase() as PurgeWhat;
  if (!PURGE_TARGETS.has(what)) throw argError('PURGE target must be DEAD, COMPLETED, CANCELLED, ALL or WAITING');
  c.writer.int(b.engine.purge(args[1], what));
};

const qconfig: Handler = (b, c, args) => {
  if (args.length !== 4 || args[2].toUpperCase() !== 'MAXLEN') throw argError('syntax error: QCONFIG queue MAXLEN n');
  b.engine.setMaxlen(args[1], parseInteger(args[3], 'MAXLEN'));
  c.writer.simple('OK');
};

export const QUEUE_HANDLERS: ReadonlyArray<[string, Handler]> = [
  ['queues', queues],
  ['qstats', qstats],
  ['qlen', qlen],
  ['peek', peek],
  ['pause', pause],
  ['resume', resume],
  ['dlq', dlq],
  ['requeue', requeue],
  ['purge', purge],
  ['qconfig', qconfig],
];
