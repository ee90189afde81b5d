import { argError } from '../rules/args';
import { Handler, HandlerGroup } from './handler';
import { enqueueOptionsFromWords } from '../rules/enqueue-options';
import { setCronEntry } from '../cron/cron-entry';

/** CRON SET name expression queue payload [TZ zone] [ENQUEUE options except ID and BLOCK] */
const cronSet: Handler = (ctx, c, args) => {
  const [, , name, expression, queue, payload] = args;
  let timezone = '';
  const words: string[] = [];
  for (let i = 6; i < args.length; i++) {
    if (args[i].toUpperCase() === 'TZ') {
      if (i + 1 >= args.length) throw argError('syntax error: TZ needs a zone');
      timezone = args[++i];
    } else {
      words.push(args[i]);
    }
  }
  const options = () => {
    const parsed = enqueueOptionsFromWords(words, 0);
    if (parsed.block !== undefined) throw argError('CRON SET takes no ID or BLOCK (each run gets its own id)');
    return parsed.options;
  };
  const limits = { defaultTimezone: ctx.settings.str('timezone'), maxPayload: ctx.settings.int('max-payload') };
  setCronEntry(ctx.engine, ctx.cron, limits, { name, expression, timezone, queue, payload, options });
  c.writer.simple('OK');
};

const cronDel: Handler = (ctx, c, args) => {
  const n = ctx.engine.deleteCron(args[2]);
  ctx.cron.unschedule(args[2]);
  c.writer.int(n);
};

const cronList: Handler = (ctx, c) => {
  const entries = [...ctx.engine.store.crons.values()];
  c.writer.arrayHeader(entries.length);
  for (const e of entries) {
    c.writer.arrayHeader(4);
    c.writer.bulk(e.name);
    c.writer.bulk(e.expression);
    c.writer.bulk(e.queue);
    c.writer.int(ctx.cron.nextRunOf(e.name) || e.nextRunAt);
  }
};

export const CRON_HANDLERS = {
  'cron|set': cronSet,
  'cron|del': cronDel,
  'cron|list': cronList,
} satisfies HandlerGroup;
