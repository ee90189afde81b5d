import type { EnqueueOptions } from '../engine/engine';
import { parsePriority } from '../engine/job';
import { argError, MAX_BLOCK_MS, MAX_DURATION_MS, OptionReader } from './args';
import { checkGroupKey, checkJobId } from './names';

export type { EnqueueOptions };

/** the latest AT a job may name: far enough for any schedule, small enough to add durations to */
const MAX_AT = Number.MAX_SAFE_INTEGER / 2;

function checkRange(option: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value)) throw argError(`value is not an integer or out of range (${option})`);
  if (value < min || value > max) throw argError(`${option} must be between ${min} and ${max}`);
}

/**
 * The one check of a job's options, whichever transport built them (RESP
 * words, an HTTP JSON body, a CRON entry): ranges, and DELAY and AT not
 * combined. Errors name the RESP option, so every transport says the same.
 */
export function validateEnqueueOptions(o: EnqueueOptions): EnqueueOptions {
  if (o.priority !== undefined && o.priority !== 0 && o.priority !== 1 && o.priority !== 2) throw argError('PRIORITY must be high, normal or low');
  checkRange('DELAY', o.delay, 0, MAX_DURATION_MS);
  checkRange('AT', o.at, 0, MAX_AT);
  checkRange('RETRIES', o.retries, 0, 1_000_000);
  checkRange('BACKOFF', o.backoffBase, 0, MAX_DURATION_MS);
  checkRange('MAX', o.backoffMax, 0, MAX_DURATION_MS);
  checkRange('LEASE', o.lease, 1, MAX_DURATION_MS);
  checkRange('TTL', o.ttl, 1, MAX_DURATION_MS);
  if (o.backoffMax !== undefined && o.backoffBase === undefined) throw argError('syntax error: MAX belongs to BACKOFF base-ms MAX max-ms');
  if (o.id !== undefined) checkJobId(o.id);
  if (o.group !== undefined) checkGroupKey(o.group);
  if (o.delay !== undefined && o.at !== undefined) throw argError('syntax error: DELAY and AT cannot be combined');
  return o;
}

export interface ParsedEnqueue {
  options: EnqueueOptions;
  /** BLOCK ms (ENQUEUE on a full queue waits for room); undefined = reply FULL at once */
  block?: number;
}

/** ENQUEUE's option words (PRIORITY, DELAY, AT, RETRIES, BACKOFF [MAX], LEASE, TTL, ID, GROUP, BLOCK) into the struct, validated */
export function enqueueOptionsFromWords(words: readonly string[], start: number): ParsedEnqueue {
  const r = new OptionReader(words, start);
  const o: EnqueueOptions = {};
  let block: number | undefined;
  while (!r.done) {
    const word = r.keyword();
    switch (word) {
      case 'PRIORITY': {
        const p = parsePriority(r.value(word));
        if (p === undefined) throw argError('PRIORITY must be high, normal or low');
        o.priority = p;
        break;
      }
      case 'DELAY':
        o.delay = r.int(word, 0, MAX_DURATION_MS);
        break;
      case 'AT':
        o.at = r.int(word, 0, MAX_AT);
        break;
      case 'RETRIES':
        o.retries = r.int(word, 0, 1_000_000);
        break;
      case 'BACKOFF':
        o.backoffBase = r.int(word, 0, MAX_DURATION_MS);
        if (r.peek() === 'MAX') {
          r.keyword();
          o.backoffMax = r.int('MAX', 0, MAX_DURATION_MS);
        }
        break;
      case 'LEASE':
        o.lease = r.int(word, 1, MAX_DURATION_MS);
        break;
      case 'TTL':
        o.ttl = r.int(word, 1, MAX_DURATION_MS);
        break;
      case 'ID':
        o.id = r.value(word);
        break;
      case 'GROUP':
        o.group = r.value(word);
        break;
      case 'BLOCK':
        block = r.int(word, 0, MAX_BLOCK_MS);
        break;
      default:
        r.unknown(word);
    }
  }
  return { options: validateEnqueueOptions(o), block };
}
