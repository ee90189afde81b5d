import { SETTINGS, envName } from './schema';

/** docs/config.md, rendered from the settings schema (a test checks the file is current). */
export function renderConfigDoc(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from config/schema.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every setting has one name, used the same way everywhere:',
    '',
    '- as a flag: `bin/resq-server --max-payload 1048576`',
    '- in the environment: `RESQ_MAX_PAYLOAD=1048576`',
    '- in a config file given with `--config resq.conf`: one `max-payload 1048576` per line, `#` comments',
    '- at runtime, for settings marked runtime: `CONFIG SET max-payload 1048576`; `CONFIG GET max-*`',
    '',
    'Precedence: flags > environment > config file > default. An unknown setting or a bad value stops',
    'start-up with an error naming the setting and where it came from.',
    'Durations are milliseconds unless the description says otherwise; sizes are bytes.',
    '',
    '| setting | type | default | runtime | env | description |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of SETTINGS) {
    const type = s.type === 'enum' ? s.values!.join(' \\| ') : s.type === 'int' ? `int ${s.min}..${s.max}` : s.type;
    const def = s.type === 'bool' ? (s.default ? 'yes' : 'no') : s.default === '' ? '""' : String(s.default);
    lines.push(`| \`${s.name}\` | ${type} | \`${def}\` | ${s.runtime ? 'yes' : 'no'} | \`${envName(s.name)}\` | ${s.doc} |`);
  }
  return lines.join('\n') + '\n';
}
