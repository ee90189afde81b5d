import { arityOk, COMMAND_SPECS, CommandSpec, findCommand, HandlerName, LEASE_OPERATIONS } from '../../protocol/command-specs';
import type { CommandContext } from '../context/command-context';
import { EngineError } from '../engine/engine-errors';
import type { ClientConnection } from '../net/client-connection';
import { gateRefusal, Requirement } from '../rules/request-gate';
import { ACL_HANDLERS } from './acl-commands';
import { CONNECTION_HANDLERS } from './connection-commands';
import { CRON_HANDLERS } from './cron-commands';
import { GROUP_HANDLERS } from './group-commands';
import { Handler } from './handler';
import { HELP_HANDLERS } from './help-commands';
import { JOB_HANDLERS } from './job-commands';
import { QUEUE_HANDLERS } from './queue-commands';
import { SERVER_HANDLERS } from './server-commands';
import { SLOWLOG_HANDLERS } from './slowlog-commands';

/** every spec with its handler: a spec without a handler, or a handler without a spec, does not compile */
export const HANDLERS: { readonly [K in HandlerName]: Handler } = {
  ...JOB_HANDLERS,
  ...QUEUE_HANDLERS,
  ...CONNECTION_HANDLERS,
  ...SERVER_HANDLERS,
  ...CRON_HANDLERS,
  ...GROUP_HANDLERS,
  ...SLOWLOG_HANDLERS,
  ...HELP_HANDLERS,
  ...ACL_HANDLERS,
};

interface Route {
  handler: Handler;
  need: Requirement;
  /** a lease operation (see LEASE_OPERATIONS) */
  lease: boolean;
}

/** spec -> handler and what the gate requires, built once */
const ROUTES = new Map<CommandSpec, Route>();
for (const top of COMMAND_SPECS as readonly CommandSpec[]) {
  for (const spec of top.subcommands ?? [top]) {
    const need: Requirement = {
      command: spec.name,
      noauth: spec.flags.includes('noauth'),
      loading: spec.flags.includes('loading'),
      write: spec.flags.includes('write'),
      key: spec.key,
    };
    ROUTES.set(spec, { handler: HANDLERS[spec.name as HandlerName], need, lease: LEASE_OPERATIONS.has(spec.name) });
  }
}

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
 * Runs one request: lookup, arity, the request gate (auth, loading, disk),
 * then the handler. Errors become error replies; no input reaches past
 * here as an exception. Returns true when the reply may go out once the
 * log is written, before it is durable: a lease operation under
 * `lease-durability written`.
 */
export function dispatch(ctx: CommandContext, conn: ClientConnection, args: string[]): boolean {
  const started = performance.now();
  const stats = ctx.stats;
  const spec = resolve(conn, args);
  if (!spec) {
    stats.errorReplies++;
    return false;
  }
  const route = ROUTES.get(spec)!;
  const stat = stats.of(spec.name);
  const refusal = gateRefusal(ctx.gate, conn, route.need, args);
  if (refusal) {
    conn.writer.error(refusal.wire);
    stat.rejected++;
    stats.errorReplies++;
    return false;
  }
  stats.commandsProcessed++;
  try {
    route.handler(ctx, conn, args);
  } catch (e) {
    stat.failed++;
    stats.errorReplies++;
    if (e instanceof EngineError) {
      conn.writer.error(e.wire);
    } else {
      ctx.log('error', `internal error in ${spec.name}: ${(e as Error).stack ?? e}`);
      conn.writer.error(`ERR internal error: ${(e as Error).message}`);
    }
  }
  stat.calls++;
  const usec = (performance.now() - started) * 1000;
  stat.usec += usec;
  stats.slowlog.record(args, usec, conn.addr, conn.name);
  return route.lease && ctx.settings.str('lease-durability') === 'written';
}
