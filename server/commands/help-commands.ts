import { COMMAND_SPECS, CommandSpec } from '../../protocol/command-specs';
import type { Handler, HandlerGroup } from './handler';

/** Redis's HELP reply: a status line per subcommand synopsis, each followed by its summary indented */
function helpLines(container: CommandSpec): string[] {
  const upper = container.name.toUpperCase();
  const lines = [`${upper} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`];
  for (const s of container.subcommands ?? []) {
    const word = s.name.slice(container.name.length + 1).toUpperCase();
    lines.push(s.syntax ? `${word} ${s.syntax}` : word, `    ${s.summary}`);
  }
  return lines;
}

function helpFor(name: string): Handler {
  const spec = (COMMAND_SPECS as readonly CommandSpec[]).find((s) => s.name === name)!;
  const lines = helpLines(spec);
  return (_ctx, c) => {
    c.writer.arrayHeader(lines.length);
    for (const l of lines) c.writer.simple(l);
  };
}

export const HELP_HANDLERS = {
  'cron|help': helpFor('cron'),
  'group|help': helpFor('group'),
  'client|help': helpFor('client'),
  'config|help': helpFor('config'),
  'slowlog|help': helpFor('slowlog'),
  'acl|help': helpFor('acl'),
} satisfies HandlerGroup;
