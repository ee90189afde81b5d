import type { QueueSettingsPatch } from '../engine/engine';
import { GroupLimits, NO_LIMITS, RateLimit, noLimits } from '../engine/flow-limits';
import { argError, MAX_DURATION_MS, OptionReader, parseInteger } from './args';

/** the largest concurrency or rate a limit may name */
export const MAX_LIMIT = 1_000_000;
/** a rate's window when PER is not given: per second */
export const DEFAULT_RATE_WINDOW = 1000;

/**
 * The flow-control settings as every transport gives them (QCONFIG and GROUP
 * CONFIG words, HTTP JSON bodies, SDK calls): one parser per form, one range
 * check, errors that name the RESP option. 0 means "no limit".
 */

const orNone = (n: number): number | null => (n === 0 ? null : n);

/** RATE n [PER ms] (ranges checked by the reader): null for RATE 0 (no limit) */
function readRate(r: OptionReader, option: string): RateLimit | null {
  const rate = r.int(option, 0, MAX_LIMIT);
  let per = DEFAULT_RATE_WINDOW;
  if (r.peek() === 'PER') {
    r.keyword();
    per = r.int('PER', 1, MAX_DURATION_MS);
  }
  return rate === 0 ? null : { rate, per };
}

export const QCONFIG_SYNTAX = 'QCONFIG queue [MAXLEN n] [CONCURRENCY n] [RATE n [PER ms]] [GROUP-CONCURRENCY n] [GROUP-RATE n [PER ms]] [GROUP-MAXLEN n]';

/** QCONFIG's words: every option checked before any is applied; group defaults patch the current ones */
export function queueSettingsFromWords(words: readonly string[], start: number, currentDefaults: GroupLimits): QueueSettingsPatch {
  const r = new OptionReader(words, start);
  const patch: QueueSettingsPatch = {};
  let defaults: { -readonly [K in keyof GroupLimits]: GroupLimits[K] } | null = null;
  const d = () => (defaults ??= { ...currentDefaults });
  if (r.done) throw argError(`syntax error: ${QCONFIG_SYNTAX}`);
  while (!r.done) {
    const word = r.keyword();
    switch (word) {
      case 'MAXLEN':
        patch.maxlen = parseInteger(r.value(word), word);
        break;
      case 'CONCURRENCY':
        patch.concurrency = orNone(r.int(word, 0, MAX_LIMIT));
        break;
      case 'RATE':
        patch.rate = readRate(r, word);
        break;
      case 'GROUP-CONCURRENCY':
        d().concurrency = orNone(r.int(word, 0, MAX_LIMIT));
        break;
      case 'GROUP-RATE':
        d().rate = readRate(r, word);
        break;
      case 'GROUP-MAXLEN':
        d().maxlen = orNone(r.int(word, 0, Number.MAX_SAFE_INTEGER));
        break;
      default:
        throw argError(`syntax error: unknown queue setting '${word}' (${QCONFIG_SYNTAX})`);
    }
  }
  if (defaults !== null) patch.groupDefaults = noLimits(defaults) ? NO_LIMITS : defaults;
  return patch;
}

export const GROUP_CONFIG_SYNTAX = 'GROUP CONFIG queue key [CONCURRENCY n] [RATE n [PER ms]] [MAXLEN n]';

/**
 * GROUP CONFIG's words, patched onto the group's current override. In an
 * override 0 lifts the queue's default for this group (stored as 0, rate 0),
 * which is why these keep 0 instead of turning it into null.
 */
export function groupOverrideFromWords(words: readonly string[], start: number, current: GroupLimits | null): GroupLimits {
  const r = new OptionReader(words, start);
  const o: { -readonly [K in keyof GroupLimits]: GroupLimits[K] } = { ...(current ?? NO_LIMITS) };
  if (r.done) throw argError(`syntax error: ${GROUP_CONFIG_SYNTAX}`);
  while (!r.done) {
    const word = r.keyword();
    if (word === 'CONCURRENCY') o.concurrency = r.int(word, 0, MAX_LIMIT);
    else if (word === 'MAXLEN') o.maxlen = r.int(word, 0, Number.MAX_SAFE_INTEGER);
    else if (word === 'RATE') o.rate = readRate(r, word) ?? { rate: 0, per: DEFAULT_RATE_WINDOW };
    else throw argError(`syntax error: unknown group setting '${word}' (${GROUP_CONFIG_SYNTAX})`);
  }
  return o;
}

/**
 * JSON bodies (HTTP API) become the RESP option words and go through the
 * same parser, so a rule lives in one place and an error reads the same on
 * both transports. Each entry: JSON field, RESP option, and for a rate the
 * field of its window (sent as PER after it).
 */
type FieldTable = ReadonlyArray<readonly [field: string, option: string, perField?: string]>;

export const QUEUE_CONFIG_FIELDS: FieldTable = [
  ['maxlen', 'MAXLEN'],
  ['concurrency', 'CONCURRENCY'],
  ['rate', 'RATE', 'ratePer'],
  ['groupConcurrency', 'GROUP-CONCURRENCY'],
  ['groupRate', 'GROUP-RATE', 'groupRatePer'],
  ['groupMaxlen', 'GROUP-MAXLEN'],
];

export const GROUP_CONFIG_FIELDS: FieldTable = [
  ['concurrency', 'CONCURRENCY'],
  ['rate', 'RATE', 'ratePer'],
  ['maxlen', 'MAXLEN'],
];

/** every JSON field a table knows (for the unknown-field check) */
export const fieldNames = (table: FieldTable): string[] => table.flatMap(([f, , per]) => (per ? [f, per] : [f]));

/** a JSON number as the word RESP would carry; anything else gets RESP's text for a word that is not an integer */
function wordOf(option: string, v: unknown): string {
  if (typeof v !== 'number') throw argError(`value is not an integer or out of range (${option})`);
  return String(v);
}

function wordsFromFields(f: Record<string, unknown>, table: FieldTable): string[] {
  const words: string[] = [];
  for (const [field, option, perField] of table) {
    const per = perField === undefined ? undefined : f[perField];
    if (f[field] === undefined) {
      if (per !== undefined) throw argError(`syntax error: ${perField} belongs to ${field} (${option} n PER ms)`);
      continue;
    }
    words.push(option, wordOf(option, f[field]));
    if (per !== undefined) words.push('PER', wordOf('PER', per));
  }
  return words;
}

/** QCONFIG from a JSON body ({maxlen, concurrency, rate, ratePer, groupConcurrency, groupRate, groupRatePer, groupMaxlen}) */
export function queueSettingsFromFields(f: Record<string, unknown>, currentDefaults: GroupLimits): QueueSettingsPatch {
  const words = wordsFromFields(f, QUEUE_CONFIG_FIELDS);
  if (words.length === 0) throw argError(`syntax error: give at least one of ${fieldNames(QUEUE_CONFIG_FIELDS).join(', ')}`);
  return queueSettingsFromWords(words, 0, currentDefaults);
}

/** GROUP CONFIG from a JSON body ({concurrency, rate, ratePer, maxlen}): absent fields keep the current value, 0 lifts the default */
export function groupOverrideFromFields(f: Record<string, unknown>, current: GroupLimits | null): GroupLimits {
  const words = wordsFromFields(f, GROUP_CONFIG_FIELDS);
  if (words.length === 0) throw argError(`syntax error: give at least one of ${fieldNames(GROUP_CONFIG_FIELDS).join(', ')}`);
  return groupOverrideFromWords(words, 0, current);
}
