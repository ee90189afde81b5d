import { arityOk, CommandSpec, findCommand } from '../../protocol/command-specs';
import { EngineError } from '../engine/engine-errors';
import type { Broker } from '../broker';
import type { ClientConnection } from '../net/client-connection';
import { Handler } from './handler';
import { JOB_HANDLERS } from './job-commands';
import { QUEUE_HANDLERS } from './queue-commands';
import { CONNECTION_HANDLERS } from './connection-commands';
import { SERVER_HANDLERS } from './server-commands';
import { CRON_HANDLERS } from './cron-commands';
import { SLOWLOG_HANDLERS } from './slowlog-commands'; // [slowlog]

/** handlers by spec name ("client|list" for subcommands); a test checks every spec has one */
export const HANDLERS = new Map<string, Handler>([
  ...JOB_HANDLERS,
  ...QUEUE_HANDLERS,
  ...CONNECTION_HANDLERS,
  ...SERVER_HANDLERS,
  ...CRON_HANDLERS,
  ...SLOWLOG_HANDLERS,
]);

function quoteArgs(args: string[]): string {
  return args
    .slice(1, 6)
    .map((a) => `'${a.slice(0, 64)}'`)
    .join(' ');
}

/** finds the spec (subcommand spec for container commands) or writes the error and returns undefined */
function resolve(conn: ClientConnection, args: string[]): CommandSpec | undefined {
  const top = findCommand(args[0]);
  if (!top) {
    conn.writer.error(`ERR unknown command '${args[0].slice(0, 128)}', with args beginning with: ${quoteArgs(args)}`);
    return undefined;
  }
  if (!arityOk(top, args.length)) {
    conn.writer.error(`ERR wrong number of arguments for '${top.name}' command`);
    return undefined;
  }
  if (!top.subcommands) return top;
  const sub = findCommand(`${top.name}|${args[1]}`);
  if (!sub) {
    conn.writer.error(`ERR unknown subcommand '${args[1].slice(0, 128)}'. Try ${top.name.toUpperCase()} HELP.`);
    return undefined;
  }
  if (!arityOk(sub, args.length)) {
    conn.writer.error(`ERR wrong number of arguments for '${sub.name}' command`);
    return undefined;
  }
  return sub;
}

/**
 * Runs one request: lookup, arity, the auth / loading / disk gates that the
 * spec's flags call for, then the handler. Errors become error replies; no
 * input reaches past here as an exception.
 */
export function dispatch(b: Broker, conn: ClientConnection, args: string[]): void {
  const started = performance.now();
  const spec = resolve(conn, args);
  if (!spec) {
    b.stats.errorReplies++;
    return;
  }
  const stat = b.commandStat(spec.name);
  const gate = gateError(b, conn, spec);
  if (gate) {
    conn.writer.error(gate);
    stat.rejected++;
    b.stats.errorReplies++;
    return;
  }
  b.stats.commandsProcessed++;
  try {
    HANDLERS.get(spec.name)!(b, conn, args);
  } catch (e) {
    stat.failed++;
    b.stats.errorReplies++;
    if (e instanceof EngineError) {
      conn.writer.error(e.wire);
    } else {
      b.log('error', `internal error in ${spec.name}: ${(e as Error).stack ?? e}`);
      conn.writer.error(`ERR internal error: ${(e as Error).message}`);
    }
  }
  stat.calls++;
  const usec = (performance.now() - started) * 1000;
  stat.usec += usec;
  b.slowlog.record(args, usec, conn.addr, conn.name); // [slowlog] one comparison unless over the threshold
}

function gateError(b: Broker, conn: ClientConnection, spec: CommandSpec): string | undefined {
  const flags = spec.flags;
  if (!conn.authed && !flags.includes('noauth')) return 'NOAUTH Authentication required.';
  if (b.loading && !flags.includes('loading')) return 'LOADING resq is loading the log and snapshot into memory';
  if (flags.includes('write') && !b.persistence.writable) {
    return `MISCONF the log cannot be written (${b.persistence.lastError ?? 'I/O error'}); writes are refused until the disk accepts them, reads still work`;
  }
  return undefined;
}
