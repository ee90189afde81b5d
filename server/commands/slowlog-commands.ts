import { argError, parseInteger } from '../rules/args';
import { Handler, HandlerGroup } from './handler';

/** SLOWLOG GET [count]: newest first, Redis's entry shape [id, unix-time, usec, [args], client-addr, client-name] */
const get: Handler = (ctx, c, args) => {
  if (args.length > 3) throw argError("wrong number of arguments for 'slowlog|get' command");
  // Redis: default 10, -1 = every entry
  const count = args.length === 3 ? parseInteger(args[2], 'count', -1) : 10;
  const entries = ctx.stats.slowlog.newest(count);
  const w = c.writer;
  w.arrayHeader(entries.length);
  for (const e of entries) {
    w.arrayHeader(6);
    w.int(e.id);
    w.int(e.time);
    w.int(e.usec);
    w.arrayHeader(e.args.length);
    for (const a of e.args) w.bulk(a);
    w.bulk(e.addr);
    w.bulk(e.name);
  }
};

const len: Handler = (ctx, c) => c.writer.int(ctx.stats.slowlog.length);

const reset: Handler = (ctx, c) => {
  ctx.stats.slowlog.reset();
  c.writer.simple('OK');
};

export const SLOWLOG_HANDLERS = {
  'slowlog|get': get,
  'slowlog|len': len,
  'slowlog|reset': reset,
} satisfies HandlerGroup;
