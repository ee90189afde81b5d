import { ACL_CATEGORIES, CATEGORY_NAMES, isCategory } from '../../protocol/acl-categories';
import { LEAF_SPECS } from '../../protocol/command-specs';
import type { ReplyWriter } from '../../protocol/reply-writer';
import { AclError, AclFileError, AclRuleError } from '../acl/acl';
import type { CommandContext } from '../context/command-context';
import type { ClientConnection } from '../net/client-connection';
import { argError, parseInteger } from '../rules/args';
import { Handler, HandlerGroup } from './handler';

/** ACL errors become -ERR with their text; other errors pass through */
function asArgError<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof AclRuleError || e instanceof AclFileError || e instanceof AclError) throw argError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw argError(`cannot write the aclfile: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * Closes the connections authenticated as these users (deleted, switched
 * off): the asking connection once its reply is out, the others at once.
 */
function closeConnectionsOf(ctx: CommandContext, self: ClientConnection, names: ReadonlySet<string>): void {
  if (names.size === 0) return;
  for (const c of [...ctx.clients.all()]) {
    if (!c.authed || !names.has(c.user)) continue;
    if (c === self) c.closeAfterReplies();
    else c.kill();
  }
  ctx.log('info', `closed the connections of ACL user(s) ${[...names].join(', ')} (deleted or switched off)`);
}

const setuser: Handler = (ctx, c, args) => {
  const off = asArgError(() => ctx.acl.setUser(args[2], args.slice(3)));
  c.writer.simple('OK');
  closeConnectionsOf(ctx, c, off);
};

const deluser: Handler = (ctx, c, args) => {
  const gone = asArgError(() => ctx.acl.delUsers(args.slice(2)));
  c.writer.int(gone.size);
  closeConnectionsOf(ctx, c, gone);
};

function bulks(w: ReplyWriter, items: readonly string[]): void {
  w.arrayHeader(items.length);
  for (const i of items) w.bulk(i);
}

const getuser: Handler = (ctx, c, args) => {
  const u = ctx.acl.get(args[2]);
  const w = c.writer;
  if (!u) {
    w.nil();
    return;
  }
  w.mapHeader(6);
  w.bulk('flags');
  bulks(w, u.flags);
  w.bulk('passwords');
  bulks(w, [...u.passwords]);
  w.bulk('commands');
  w.bulk(u.commandText);
  w.bulk('keys');
  w.bulk(u.queueText);
  w.bulk('channels');
  w.bulk('');
  w.bulk('selectors');
  w.arrayHeader(0);
};

const list: Handler = (ctx, c) =>
  bulks(
    c.writer,
    ctx.acl.all().map((u) => `user ${u.name} ${u.describe()}`),
  );

const users: Handler = (ctx, c) =>
  bulks(
    c.writer,
    ctx.acl.all().map((u) => u.name),
  );

const whoami: Handler = (_ctx, c) => c.writer.bulk(c.authed ? c.user : 'default');

const cat: Handler = (_ctx, c, args) => {
  if (args.length > 3) throw argError("wrong number of arguments for 'acl|cat' command");
  if (args.length === 2) {
    bulks(c.writer, CATEGORY_NAMES);
    return;
  }
  const name = args[2].toLowerCase();
  if (!isCategory(name)) throw argError(`Unknown category '${args[2].slice(0, 128)}' (one of: ${Object.keys(ACL_CATEGORIES).join(', ')})`);
  bulks(
    c.writer,
    LEAF_SPECS.filter((s) => s.categories.includes(name)).map((s) => s.name),
  );
};

const log: Handler = (ctx, c, args) => {
  if (args.length > 3) throw argError("wrong number of arguments for 'acl|log' command");
  if (args.length === 3 && args[2].toUpperCase() === 'RESET') {
    ctx.acl.log.reset();
    c.writer.simple('OK');
    return;
  }
  const count = args.length === 3 ? parseInteger(args[2], 'ACL LOG count') : 10;
  const now = Date.now();
  const w = c.writer;
  const entries = ctx.acl.log.newest(count);
  w.arrayHeader(entries.length);
  for (const e of entries) {
    w.mapHeader(10);
    w.bulk('count');
    w.int(e.count);
    w.bulk('reason');
    w.bulk(e.reason);
    w.bulk('context');
    w.bulk(e.context);
    w.bulk('object');
    w.bulk(e.object);
    w.bulk('username');
    w.bulk(e.username);
    w.bulk('age-seconds');
    w.double((now - e.created) / 1000);
    w.bulk('client-info');
    w.bulk(e.clientInfo);
    w.bulk('entry-id');
    w.int(e.entryId);
    w.bulk('timestamp-created');
    w.int(e.created);
    w.bulk('timestamp-last-updated');
    w.int(e.updated);
  }
};

const save: Handler = (ctx, c) => {
  asArgError(() => ctx.acl.save());
  c.writer.simple('OK');
};

const load: Handler = (ctx, c) => {
  const revoked = asArgError(() => ctx.acl.load());
  c.writer.simple('OK');
  closeConnectionsOf(ctx, c, revoked);
};

export const ACL_HANDLERS = {
  'acl|setuser': setuser,
  'acl|deluser': deluser,
  'acl|getuser': getuser,
  'acl|list': list,
  'acl|users': users,
  'acl|whoami': whoami,
  'acl|cat': cat,
  'acl|log': log,
  'acl|save': save,
  'acl|load': load,
} satisfies HandlerGroup;
