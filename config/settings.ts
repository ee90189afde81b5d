import * as fs from 'fs';
import { SETTINGS, SETTINGS_BY_NAME, SettingSpec, SettingValue, envName } from './schema';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const STRICT_INT = /^-?\d+$/;
const STRICT_FLOAT = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const TRUE_WORDS = new Set(['yes', 'true', '1', 'on']);
const FALSE_WORDS = new Set(['no', 'false', '0', 'off']);

/** Parses a setting's text value strictly; throws ConfigError naming the setting and where it came from. */
export function parseSettingValue(spec: SettingSpec, text: string, source: string): SettingValue {
  const fail = (why: string) => new ConfigError(`${source}: invalid value '${text}' for '${spec.name}': ${why}`);
  switch (spec.type) {
    case 'int': {
      if (!STRICT_INT.test(text)) throw fail('expected an integer');
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw fail('out of range');
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw fail(`must be between ${spec.min} and ${spec.max}`);
      }
      return n;
    }
    case 'float': {
      if (!STRICT_FLOAT.test(text)) throw fail('expected a number');
      const n = Number(text);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw fail(`must be between ${spec.min} and ${spec.max}`);
      }
      return n;
    }
    case 'bool': {
      const t = text.toLowerCase();
      if (TRUE_WORDS.has(t)) return true;
      if (FALSE_WORDS.has(t)) return false;
      throw fail('expected yes or no');
    }
    case 'enum': {
      const t = text.toLowerCase();
      if (!spec.values!.includes(t)) throw fail(`expected one of ${spec.values!.join(', ')}`);
      return t;
    }
    case 'string':
      return text;
  }
}

export function formatSettingValue(spec: SettingSpec, value: SettingValue): string {
  if (spec.type === 'bool') return value ? 'yes' : 'no';
  return String(value);
}

type Listener = (name: string, value: SettingValue) => void;

/**
 * Runs before a runtime change is applied, with the values the change would
 * produce (`next`) and the names it changes; throwing ConfigError refuses the
 * whole change. For checks that need more than one value or the outside
 * world, e.g. that a new TLS certificate loads and matches its key.
 */
export type SettingsCheck = (next: (name: string) => SettingValue, changed: ReadonlySet<string>) => void;

/** The live settings of one broker. Values are typed; CONFIG SET goes through set(). */
export class Settings {
  private readonly values = new Map<string, SettingValue>();
  private readonly listeners: Listener[] = [];
  private readonly checks: SettingsCheck[] = [];

  constructor(
    overrides: Map<string, SettingValue> = new Map(),
    /** the file given with --config, if any (CONFIG REWRITE writes there) */
    readonly configFile: string | null = null,
  ) {
    for (const s of SETTINGS) this.values.set(s.name, overrides.has(s.name) ? overrides.get(s.name)! : s.default);
  }

  int(name: string): number {
    return this.values.get(name) as number;
  }
  bool(name: string): boolean {
    return this.values.get(name) as boolean;
  }
  str(name: string): string {
    return this.values.get(name) as string;
  }
  get(name: string): SettingValue | undefined {
    return this.values.get(name);
  }

  /** Throws ConfigError for unknown, non-runtime or invalid values; changes nothing. */
  validate(name: string, text: string, source = 'CONFIG SET'): { spec: SettingSpec; value: SettingValue } {
    const spec = SETTINGS_BY_NAME.get(name.toLowerCase());
    if (!spec) throw new ConfigError(`${source}: unknown setting '${name}'`);
    if (!spec.runtime) throw new ConfigError(`${source}: '${spec.name}' cannot be changed at runtime`);
    const value = parseSettingValue(spec, text, source);
    validateCross(spec.name, value);
    return { spec, value };
  }

  /** Runtime change (CONFIG SET). */
  setFromText(name: string, text: string, source = 'CONFIG SET'): void {
    this.setManyFromText([[name, text]], source);
  }

  /**
   * Runtime change of several settings at once (CONFIG SET a x b y): each is
   * validated, the checks see them together (a new certificate with its new
   * key), then all are applied; a refusal (ConfigError) changes nothing.
   */
  setManyFromText(pairs: ReadonlyArray<readonly [string, string]>, source = 'CONFIG SET'): void {
    const parsed = pairs.map(([name, text]) => this.validate(name, text, source));
    const next = new Map(this.values);
    for (const { spec, value } of parsed) next.set(spec.name, value);
    const changed = new Set(parsed.map((p) => p.spec.name));
    for (const check of this.checks) check((name) => next.get(name) as SettingValue, changed);
    for (const { spec, value } of parsed) this.values.set(spec.name, value);
    for (const { spec, value } of parsed) for (const l of this.listeners) l(spec.name, value);
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** adds a check every runtime change must pass (see SettingsCheck) */
  addCheck(check: SettingsCheck): void {
    this.checks.push(check);
  }
}

/** Checks that need more than the type, e.g. the shape of priority-weights. */
function validateCross(name: string, value: SettingValue): void {
  if (name === 'priority-weights') parsePriorityWeights(String(value));
}

export function parsePriorityWeights(text: string): [number, number, number] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 1000)) {
    throw new ConfigError(`invalid value '${text}' for 'priority-weights': expected three integers 1..1000 as high,normal,low`);
  }
  return parts.map(Number) as [number, number, number];
}

export interface LoadResult {
  settings: Settings;
  help: boolean;
}

/** Reads a redis.conf-style file: `name value` per line, # comments, "quoted values". */
export function parseConfigFile(path: string): Array<{ name: string; value: string; line: number }> {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  const out: Array<{ name: string; value: string; line: number }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    let value = m[2].trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    out.push({ name: m[1].toLowerCase(), value, line: i + 1 });
  });
  return out;
}

/**
 * Precedence: command-line flags > environment (RESQ_*) > config file > defaults.
 * Unknown settings are errors wherever they come from.
 */
export function loadSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadResult {
  const flags = new Map<string, string>();
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}' (settings are given as --name value)`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    name = name.toLowerCase();
    if (name === 'config') {
      configFile = value ?? argv[++i];
      if (configFile === undefined) throw new ConfigError('--config needs a file path');
      continue;
    }
    const spec = SETTINGS_BY_NAME.get(name);
    if (!spec) throw new ConfigError(`unknown setting '--${name}' (see --help)`);
    if (value === undefined) {
      const next = argv[i + 1];
      if (spec.type === 'bool' && (next === undefined || next.startsWith('--'))) value = 'yes';
      else if (next === undefined) throw new ConfigError(`--${name} needs a value`);
      else value = argv[++i];
    }
    flags.set(name, value);
  }

  const values = new Map<string, SettingValue>();
  const put = (name: string, text: string, source: string) => {
    const spec = SETTINGS_BY_NAME.get(name);
    if (!spec) throw new ConfigError(`${source}: unknown setting '${name}'`);
    const v = parseSettingValue(spec, text, source);
    validateCross(spec.name, v);
    values.set(spec.name, v);
  };
  if (configFile !== undefined) {
    for (const entry of parseConfigFile(configFile)) put(entry.name, entry.value, `${configFile}:${entry.line}`);
  }
  for (const spec of SETTINGS) {
    const e = env[envName(spec.name)];
    if (e !== undefined) put(spec.name, e, `environment ${envName(spec.name)}`);
  }
  for (const [name, text] of flags) put(name, text, `--${name}`);
  return { settings: new Settings(values, configFile ?? null), help };
}

export function helpText(): string {
  const lines = [
    'Usage: resq-server [--port P] [--dir D] [--config FILE] [--setting value ...]',
    '',
    'Every setting can also come from the environment (RESQ_NAME) or a config file',
    '(one "name value" per line). Precedence: flags > environment > file > default.',
    '',
  ];
  for (const s of SETTINGS) {
    const def = s.type === 'bool' ? (s.default ? 'yes' : 'no') : s.default === '' ? '""' : String(s.default);
    const kind = s.type === 'enum' ? s.values!.join('|') : s.type;
    lines.push(`  --${s.name} <${kind}>  (default ${def}${s.runtime ? ', runtime' : ''})`);
    lines.push(`      ${s.doc}`);
  }
  return lines.join('\n') + '\n';
}
