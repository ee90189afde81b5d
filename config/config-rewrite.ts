import * as fs from 'fs';
import * as path from 'path';
import { SETTINGS, SettingSpec } from './schema';
import { ConfigError, formatSettingValue, parseConfigFile, parseSettingValue, Settings } from './settings';

const MARK = '# Written by CONFIG REWRITE';

function quote(text: string): string {
  return text === '' || /[\s"'#]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text;
}

/**
 * CONFIG REWRITE: makes the config file say what the running broker uses
 * for every setting that can change at runtime, with the fewest changes, as
 * Redis does: a changed setting's line is replaced in place (comments and
 * order kept, later duplicates dropped), a setting the file lacks is
 * appended when it differs from its default. Settings fixed at start-up are
 * left as the file has them. Written atomically (temp file, fsync, rename).
 */
export function rewriteConfigFile(settings: Settings): void {
  const file = settings.configFile;
  if (file === null) throw new ConfigError('The server is running without a config file (start it with --config FILE)');
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const entries = parseConfigFile(file);
  const runtime = new Map<string, SettingSpec>(SETTINGS.filter((s) => s.runtime).map((s) => [s.name, s]));
  const written = new Set<string>();
  const drop = new Set<number>();
  for (const e of entries) {
    const spec = runtime.get(e.name);
    if (!spec) continue;
    if (written.has(spec.name)) {
      drop.add(e.line - 1);
      continue;
    }
    written.add(spec.name);
    const current = settings.get(spec.name)!;
    if (parseSettingValue(spec, e.value, file) === current) continue;
    lines[e.line - 1] = `${spec.name} ${quote(formatSettingValue(spec, current))}`;
  }
  const kept = lines.filter((_, i) => !drop.has(i));
  const added: string[] = [];
  for (const spec of runtime.values()) {
    if (written.has(spec.name)) continue;
    const current = settings.get(spec.name)!;
    if (current !== spec.default) added.push(`${spec.name} ${quote(formatSettingValue(spec, current))}`);
  }
  if (added.length > 0) {
    if (!kept.includes(MARK)) kept.push('', MARK);
    kept.push(...added);
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.rewrite-${process.pid}`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, kept.join('\n') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
