import { argError, parseInteger } from './args';
import { Handler } from './handler';

/** SLOWLOG GET [count]: newest first, Redis's entry shape [id, unix-time, usec, [args], client-addr, client-name] */
const get: Handler = (b, c, args) => {
  if (args.length > 3) throw argError("wrong number of arguments for 'slowlog|get' command");
  // Redis: default 10, -1 = every entry
  const count = args.length === 3 ? parseInteger(args[2], 'count', -1) : 10;
  const entries = b.slowlog.newest(count);
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

const len: Handler = (b, c) => c.writer.int(b.slowlog.length);

const reset: Handler = (b, c) => {
  b.slowlog.reset();
  c.writer.simple('OK');
};

export const SLOWLOG_HANDLERS: ReadonlyArray<[string, Handler]> = [
  ['slowlog|get', get],
  ['slowlog|len', len],
  ['slowlog|reset', reset],
];
