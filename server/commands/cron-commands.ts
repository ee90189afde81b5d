import { argError, OptionReader } from './args';
import { Handler } from './handler';
import { parseEnqueueOptions } from './enqueue-options';
import { cronExpressionError, nextRun } from '../cron/cron-scheduler';

/** CRON SET name expression queue payload [TZ zone] [ENQUEUE options except ID and BLOCK] */
const cronSet: Handler = (b, c, args) => {
  const [, , name, expression, queue, payload] = args;
  let timezone = '';
  const options: string[] = [];
  for (let i = 6; i < args.length; i++) {
    if (args[i].toUpperCase() === 'TZ') {
      if (i + 1 >= args.length) throw argError('syntax error: TZ needs a zone');
      timezone = args[++i];
    } else {
      options.push(args[i]);
    }
  }
  const bad = cronExpressionError(expression, timezone || b.settings.str('timezone'));
  if (bad) throw argError(bad);
  const parsed = parseEnqueueOptions(new OptionReader(options, 0));
  if (parsed.options.id !== undefined || parsed.block !== undefined) throw argError('CRON SET takes no ID or BLOCK (each run gets its own id)');
  if (payload.length > b.settings.int('max-payload')) throw argError('payload is larger than max-payload');
  const nextRunAt = nextRun(expression, timezone || b.settings.str('timezone'));
  b.engine.setCron({ name, expression, timezone, queue, payload, options, nextRunAt });
  b.cron.schedule(name);
  c.writer.simple('OK');
};

const cronDel: Handler = (b, c, args) => {
  const n = b.engine.deleteCron(args[2]);
  b.cron.unschedule(args[2]);
  c.writer.int(n);
};

const cronList: Handler = (b, c) => {
  const entries = [...b.engine.store.crons.values()];
  c.writer.arrayHeader(entries.length);
  for (const e of entries) {
    c.writer.arrayHeader(4);
    c.writer.bulk(e.name);
    c.writer.bulk(e.expression);
    c.writer.bulk(e.queue);
    c.writer.int(b.cron.nextRunOf(e.name) || e.nextRunAt);
  }
};

export const CRON_HANDLERS: ReadonlyArray<[string, Handler]> = [
  ['cron|set', cronSet],
  ['cron|del', cronDel],
  ['cron|list', cronList],
];
