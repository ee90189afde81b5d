import { EngineError } from '../engine/engine-errors';
import { ClientConnection } from '../net/client-connection';
import { argError, parseInteger } from '../rules/args';
import { Handler, HandlerGroup } from './handler';
import type { CommandContext } from '../context/command-context';
import { SERVER_VERSION } from '../version';

const ping: Handler = (_ctx, c, args) => {
  if (args.length > 2) throw argError("wrong number of arguments for 'ping' command");
  if (args.length === 2) c.writer.bulk(args[1]);
  else c.writer.simple('PONG');
};

const echo: Handler = (_ctx, c, args) => c.writer.bulk(args[1]);

const quit: Handler = (_ctx, c) => {
  c.writer.simple('OK');
  c.closeAfterReplies();
};

/** consecutive failed AUTHs of a connection; from the FREE_FAILURES-th on, each refusal is delayed */
const failures = new WeakMap<ClientConnection, number>();
const FREE_FAILURES = 3;
const MAX_DELAY_MS = 2000;

/**
 * Checks a password (constant time). True when the connection is now
 * authenticated; false when it was refused: the failure is logged (rate
 * limited, with the peer address, never the password) and WRONGPASS is
 * written, after a delay that doubles with each further failure of the
 * connection, so guessing costs time. The caller writes nothing more.
 */
function authenticate(ctx: CommandContext, c: ClientConnection, user: string, pass: string): boolean {
  const u = ctx.acl.authenticate(user, pass, c);
  if (u) {
    failures.delete(c);
    c.setAuthed(true, u.name);
    return true;
  }
  const n = (failures.get(c) ?? 0) + 1;
  failures.set(c, n);
  ctx.security.authFailed(c.addr, user);
  const refusal = new EngineError('WRONGPASS', 'invalid username-password pair or user is disabled.');
  if (n < FREE_FAILURES) throw refusal;
  const delay = Math.min(MAX_DELAY_MS, 100 * 2 ** (n - FREE_FAILURES));
  c.block(
    () => {},
    delay,
    () => c.writer.error(refusal.wire),
  );
  return false;
}

const hello: Handler = (ctx, c, args) => {
  let proto = c.writer.resp;
  let i = 1;
  if (args.length > 1) {
    const v = args[1];
    if (!/^\d+$/.test(v)) throw new EngineError('NOPROTO', 'Protocol version is not an integer or out of range');
    const n = Number(v);
    if (n !== 2 && n !== 3) throw new EngineError('NOPROTO', 'unsupported protocol version');
    proto = n;
    i = 2;
  }
  let name: string | undefined;
  while (i < args.length) {
    const word = args[i].toUpperCase();
    if (word === 'AUTH' && i + 2 < args.length) {
      if (!authenticate(ctx, c, args[i + 1], args[i + 2])) return;
      i += 3;
    } else if (word === 'SETNAME' && i + 1 < args.length) {
      name = checkName(args[i + 1]);
      i += 2;
    } else {
      throw argError(`syntax error in HELLO option '${args[i]}'`);
    }
  }
  if (!c.authed && ctx.gate.authRequired)
    throw new EngineError(
      'NOAUTH',
      'HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  if (name !== undefined) c.name = name || null;
  c.writer.resp = proto;
  const w = c.writer;
  w.mapHeader(7);
  w.bulk('server');
  w.bulk('resq');
  w.bulk('version');
  w.bulk(SERVER_VERSION);
  w.bulk('proto');
  w.int(proto);
  w.bulk('id');
  w.int(c.id);
  w.bulk('mode');
  w.bulk('standalone');
  w.bulk('role');
  w.bulk('master');
  w.bulk('modules');
  w.arrayHeader(0);
};

const auth: Handler = (ctx, c, args) => {
  if (args.length > 3) throw argError('syntax error');
  if (args.length === 2 && ctx.acl.get('default')?.nopass) {
    throw argError('AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const [user, pass] = args.length === 3 ? [args[1], args[2]] : ['default', args[1]];
  if (authenticate(ctx, c, user, pass)) c.writer.simple('OK');
};

const select: Handler = (_ctx, c, args) => {
  if (parseInteger(args[1], 'DB index', 0, 1_000_000) !== 0) throw argError('DB index is out of range (resq has only database 0)');
  c.writer.simple('OK');
};

const reset: Handler = (ctx, c) => {
  c.writer.resp = 2;
  c.name = null;
  c.setAuthed(!ctx.gate.authRequired); // back to the default user, as in Redis
  c.requeueOnClose = false;
  c.writer.simple('RESET');
};

function checkName(name: string): string {
  if (/[\s]/.test(name) || /[^\x21-\x7e]/.test(name)) throw argError('Client names cannot contain spaces, newlines or special characters.');
  return name;
}

export function clientLine(ctx: CommandContext, c: ClientConnection): string {
  const now = Date.now();
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.socket.localAddress}:${c.socket.localPort} name=${c.name ?? ''} ` +
    `age=${Math.floor((now - c.createdAt) / 1000)} idle=${Math.floor((now - c.lastActivity) / 1000)} ` +
    `flags=${c.isBlocked ? 'b' : 'N'} db=0 sub=0 psub=0 multi=-1 qbuf=${c.queryBytes} obl=0 oll=0 omem=${c.outputBytes} ` +
    `tot-cmds=${c.commands} cmd=${c.lastCommand.toLowerCase()} user=${c.authed ? c.user : 'default'} lib-name=${c.libName} lib-ver=${c.libVer} resp=${c.writer.resp}`
  );
}

const clientSetname: Handler = (_ctx, c, args) => {
  c.name = checkName(args[2]) || null;
  c.writer.simple('OK');
};

const clientGetname: Handler = (_ctx, c) => {
  if (c.name === null) c.writer.nil();
  else c.writer.bulk(c.name);
};

const clientId: Handler = (_ctx, c) => c.writer.int(c.id);

const clientInfo: Handler = (ctx, c) => c.writer.verbatim(clientLine(ctx, c) + '\n', 'txt');

const clientList: Handler = (ctx, c) => {
  const lines = [...ctx.clients.all()].map((x) => clientLine(ctx, x) + '\n');
  c.writer.verbatim(lines.join(''), 'txt');
};

const clientKill: Handler = (ctx, c, args) => {
  const targets: ClientConnection[] = [];
  if (args.length === 3) {
    // legacy form: CLIENT KILL addr
    const t = [...ctx.clients.all()].find((x) => x.addr === args[2]);
    if (!t) throw argError('No such client');
    targets.push(t);
  } else {
    for (let i = 2; i < args.length; i += 2) {
      const filter = args[i].toUpperCase();
      const value = args[i + 1];
      if (value === undefined) throw argError('syntax error');
      if (filter === 'ID') {
        const t = ctx.clients.get(parseInteger(value, 'client id'));
        if (t) targets.push(t);
      } else if (filter === 'ADDR') {
        targets.push(...[...ctx.clients.all()].filter((x) => x.addr === value));
      } else if (filter !== 'SKIPME') {
        throw argError(`syntax error: unknown filter '${args[i]}'`);
      }
    }
    c.writer.int(targets.length);
  }
  if (args.length === 3) c.writer.simple('OK');
  for (const t of targets) {
    if (t === c) c.closeAfterReplies();
    else t.kill();
  }
};

/** CLIENT REQUEUE-ON-CLOSE ON|OFF: a worker's crash gives its jobs back at once (leases still cover hosts that vanish silently) */
const clientRequeueOnClose: Handler = (_ctx, c, args) => {
  const word = args[2].toUpperCase();
  if (word !== 'ON' && word !== 'OFF') throw argError('syntax error: CLIENT REQUEUE-ON-CLOSE takes ON or OFF');
  c.requeueOnClose = word === 'ON';
  c.writer.simple('OK');
};

const clientSetinfo: Handler = (_ctx, c, args) => {
  const attr = args[2].toUpperCase();
  if (attr === 'LIB-NAME') c.libName = checkName(args[3]);
  else if (attr === 'LIB-VER') c.libVer = checkName(args[3]);
  else throw argError(`Unrecognized option '${args[2]}'`);
  c.writer.simple('OK');
};

export const CONNECTION_HANDLERS = {
  ping,
  echo,
  quit,
  hello,
  auth,
  select,
  reset,
  'client|setname': clientSetname,
  'client|getname': clientGetname,
  'client|id': clientId,
  'client|info': clientInfo,
  'client|list': clientList,
  'client|kill': clientKill,
  'client|setinfo': clientSetinfo,
  'client|requeue-on-close': clientRequeueOnClose,
} satisfies HandlerGroup;
