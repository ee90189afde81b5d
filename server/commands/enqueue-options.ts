import { EnqueueOptions } from '../engine/engine';
import { parsePriority } from '../engine/job';
import { argError, OptionReader } from './args';
import { MAX_BLOCK_MS, MAX_DURATION_MS } from './handler';

/** ENQUEUE options after queue and payload; returns the options and the BLOCK wait (undefined = none) */
export function parseEnqueueOptions(r: OptionReader): { options: EnqueueOptions; block?: number } {
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
        o.at = r.int(word, 0, Number.MAX_SAFE_INTEGER / 2);
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
        if (o.id.length === 0) throw argError('ID must not be empty');
        break;
      case 'BLOCK':
        block = r.int(word, 0, MAX_BLOCK_MS);
        break;
      default:
        r.unknown(word);
    }
  }
  if (o.delay !== undefined && o.at !== undefined) throw argError('syntax error: DELAY and AT cannot be combined');
  return { options: o, block };
}
