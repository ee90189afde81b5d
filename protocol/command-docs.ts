import { ACL_CATEGORIES, AclCategory } from './acl-categories';
import { COMMAND_SPECS, CommandSpec, LEAF_SPECS } from './command-specs';

const GROUP_TITLES: Record<string, string> = {
  job: 'Job commands',
  queue: 'Queue commands',
  cron: 'Recurring jobs',
  connection: 'Connection commands',
  server: 'Server commands',
};

function row(s: CommandSpec): string {
  const name = s.name.replace('|', ' ').toUpperCase();
  const arity = s.arity >= 0 ? `${s.arity}` : `≥ ${-s.arity}`;
  return `| \`${name}${s.syntax ? ' ' + s.syntax.replace(/\|/g, '\\|') : ''}\` | ${arity} | ${s.flags.join(', ')} | ${s.summary} |`;
}

/** The command reference tables of docs/protocol.md, rendered from the command table. */
export function renderCommandReference(): string {
  const out: string[] = [];
  for (const group of Object.keys(GROUP_TITLES)) {
    const specs = COMMAND_SPECS.filter((s) => s.group === group);
    if (specs.length === 0) continue;
    out.push(`### ${GROUP_TITLES[group]}`, '', '| command | words | flags | what it does |', '|---|---|---|---|');
    for (const s of specs) {
      if (s.subcommands) for (const sub of s.subcommands) out.push(row(sub));
      else out.push(row(s));
    }
    out.push('');
  }
  return out.join('\n');
}

/** The category table of docs/acl.md: each ACL category with its commands, from the specs. */
export function renderAclCategories(): string {
  const out = ['| category | meaning | commands |', '|---|---|---|'];
  for (const [cat, meaning] of Object.entries(ACL_CATEGORIES)) {
    const names = LEAF_SPECS.filter((s) => s.categories.includes(cat as AclCategory)).map((s) => s.name.replace('|', ' ').toUpperCase());
    out.push(`| \`@${cat}\` | ${meaning} | ${names.join(', ')} |`);
  }
  return out.join('\n') + '\n';
}
