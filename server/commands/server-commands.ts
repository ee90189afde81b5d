import { ReplyWriter } from '../../protocol/reply-writer';
import { COMMAND_SPECS, CommandSpec, findCommand } from '../../protocol/command-specs';
import { SETTINGS } from '../../config/schema';
import { rewriteConfigFile } from '../../config/config-rewrite';
import { ConfigError, formatSettingValue } from '../../config/settings';
import { argError } from '../rules/args';
import { Handler, HandlerGroup } from './handler';
import { infoText } from './info';
import type { CommandContext } from '../context/command-context';

function writeCommandInfo(w: ReplyWriter, s: CommandSpec): void {
  w.arrayHeader(10);
  w.bulk(s.name);
  w.int(s.arity);
  w.setHeader(s.flags.length);
  for (const f of s.flags) w.simple(f);
  w.int(s.firstKey);
  w.int(s.firstKey);
  w.int(s.firstKey > 0 ? 1 : 0);
  w.setHeader(s.categories.length); // ACL categories
  for (const c of s.categories) w.simple(`@${c}`);
  w.setHeader(0); // tips
  w.arrayHeader(0); // key specs
  const subs = s.subcommands ?? [];
  w.arrayHeader(subs.length);
  for (const sub of subs) writeCommandInfo(w, sub);
}

function writeCommandDocs(w: ReplyWriter, s: CommandSpec): void {
  const subs = s.subcommands ?? [];
  w.mapHeader(subs.length > 0 ? 5 : 4);
  w.bulk('summary');
  w.bulk(s.summary);
  w.bulk('since');
  w.bulk('0.1.0');
  w.bulk('group');
  w.bulk(s.group === 'job' || s.group === 'queue' ? 'generic' : s.group);
  w.bulk('syntax');
  w.bulk(s.syntax);
  if (subs.length > 0) {
    w.bulk('subcommands');
    w.mapHeader(subs.length);
    for (const sub of subs) {
      w.bulk(sub.name);
      writeCommandDocs(w, sub);
    }
  }
}

/** COMMAND has no subcommand specs (its words are options of one handler), so its HELP is written out here */
const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Every command, as COMMAND INFO replies it.',
  'COUNT',
  '    Number of commands.',
  'DOCS [name ...]',
  '    Summary, syntax and group of the named commands, or of all.',
  'INFO [name ...]',
  '    Name, arity, flags, keys and ACL categories of the named commands, or of all.',
  'LIST',
  '    Names of all commands.',
  'HELP',
  '    Prints this help.',
];

/** specs named by args[from..], or all top-level ones */
function selectSpecs(args: string[], from: number): Array<CommandSpec | undefined> {
  return args.length > from ? args.slice(from).map((n) => findCommand(n)) : [...COMMAND_SPECS];
}

const command: Handler = (_ctx, c, args) => {
  const w = c.writer;
  const sub = args[1]?.toUpperCase();
  if (sub === undefined || sub === 'INFO') {
    const specs = selectSpecs(args, sub === undefined ? 1 : 2);
    w.arrayHeader(specs.length);
    for (const s of specs) {
      if (s) writeCommandInfo(w, s);
      else w.nilArray();
    }
  } else if (sub === 'COUNT') {
    w.int(COMMAND_SPECS.length);
  } else if (sub === 'LIST') {
    w.arrayHeader(COMMAND_SPECS.length);
    for (const s of COMMAND_SPECS) w.bulk(s.name);
  } else if (sub === 'DOCS') {
    const specs = selectSpecs(args, 2).filter((s): s is CommandSpec => s !== undefined);
    w.mapHeader(specs.length);
    for (const s of specs) {
      w.bulk(s.name);
      writeCommandDocs(w, s);
    }
  } else if (sub === 'HELP') {
    w.arrayHeader(COMMAND_HELP.length);
    for (const line of COMMAND_HELP) w.simple(line);
  } else {
    throw argError(`unknown subcommand '${args[1]}'. Try COMMAND HELP.`);
  }
};

const info: Handler = (ctx, c, args) => {
  c.writer.verbatim(infoText(ctx, args.slice(1)), 'txt');
};

/** glob match as Redis does for CONFIG GET: * ? and [...] */
export function globMatch(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  try {
    return new RegExp(`^${re}$`, 'i').test(text);
  } catch {
    return false;
  }
}

/**
 * Read-only Redis names that tools query on connect (redis-benchmark asks for
 * `save` and `appendonly`); answering them keeps those tools quiet.
 */
const REDIS_COMPAT: ReadonlyArray<[string, (ctx: CommandContext) => string]> = [
  ['appendonly', () => 'yes'],
  ['save', () => ''],
  ['databases', () => '1'],
];

const configGet: Handler = (ctx, c, args) => {
  const patterns = args.slice(2);
  const matches = (name: string) => patterns.some((p) => globMatch(p, name));
  const pairs: Array<[string, string]> = SETTINGS.filter((s) => !s.secret && matches(s.name)).map((s) => [
    s.name,
    formatSettingValue(s, ctx.settings.get(s.name)!),
  ]);
  for (const [name, value] of REDIS_COMPAT) if (matches(name)) pairs.push([name, value(ctx)]);
  c.writer.mapHeader(pairs.length);
  for (const [name, value] of pairs) {
    c.writer.bulk(name);
    c.writer.bulk(value);
  }
};

const configSet: Handler = (ctx, c, args) => {
  if ((args.length - 2) % 2 !== 0) throw argError("wrong number of arguments for 'config|set' command");
  try {
    // all pairs are validated and checked together, so a bad pair changes nothing
    const pairs: Array<[string, string]> = [];
    for (let i = 2; i < args.length; i += 2) pairs.push([args[i], args[i + 1]]);
    ctx.settings.setManyFromText(pairs);
  } catch (e) {
    if (e instanceof ConfigError) throw argError(e.message);
    throw e;
  }
  c.writer.simple('OK');
};

const configRewrite: Handler = (ctx, c) => {
  try {
    rewriteConfigFile(ctx.settings);
  } catch (e) {
    if (e instanceof ConfigError) throw argError(e.message);
    throw argError(`Rewriting config file: ${(e as Error).message}`);
  }
  ctx.log('info', `CONFIG REWRITE wrote ${ctx.settings.configFile}`);
  c.writer.simple('OK');
};

const configResetstat: Handler = (ctx, c) => {
  ctx.server.resetStats();
  c.writer.simple('OK');
};

const dbsize: Handler = (ctx, c) => c.writer.int(ctx.engine.store.jobs.size);

const save: Handler = (ctx, c) => {
  let done = false;
  ctx.persistence
    .save()
    .then(
      () => c.writer.simple('OK'),
      (e: Error) => c.writer.error(`ERR snapshot failed: ${e.message}`),
    )
    .finally(() => {
      done = true;
      c.unblock();
    });
  if (!done)
    c.block(
      () => {},
      0,
      () => {},
    );
};

const bgsave: Handler = (ctx, c) => {
  if (ctx.persistence.bgsave()) c.writer.simple('Background saving started');
  else c.writer.error('ERR Background save already in progress');
};

const lastsave: Handler = (ctx, c) => c.writer.int(ctx.persistence.lastSaveTime);

const shutdown: Handler = (ctx, c, args) => {
  let doSave = true;
  for (const word of args.slice(1)) {
    const w = word.toUpperCase();
    if (w === 'NOSAVE') doSave = false;
    else if (w === 'SAVE') doSave = true;
    else if (w !== 'NOW' && w !== 'FORCE') throw argError(`syntax error: unknown option '${word}'`);
  }
  c.closeAfterReplies();
  void ctx.server.shutdown(doSave ? 'save' : 'nosave', 'SHUTDOWN command');
};

const time: Handler = (_ctx, c) => {
  const us = BigInt(Date.now()) * 1000n;
  c.writer.arrayHeader(2);
  c.writer.bulk(String(us / 1_000_000n));
  c.writer.bulk(String(us % 1_000_000n));
};

export const SERVER_HANDLERS = {
  command,
  info,
  'config|get': configGet,
  'config|set': configSet,
  'config|resetstat': configResetstat,
  'config|rewrite': configRewrite,
  dbsize,
  save,
  bgsave,
  lastsave,
  shutdown,
  time,
} satisfies HandlerGroup;
