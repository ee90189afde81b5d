import { argError, parseInteger } from './args';
import { enqueueOptionsFromWords, EnqueueOptions } from './enqueue-options';

/**
 * ENQUEUE's batch form, `ENQUEUE queue PAYLOADS numjobs payload [payload ...]
 * [options]`: many jobs with the same options in one command (as LPUSH takes
 * many elements), one reply element per payload.
 *
 * It cannot be mistaken for the single form `ENQUEUE queue payload
 * [options]`: a single ENQUEUE whose payload is "PAYLOADS" has an option
 * word or nothing after it, and the batch form has a count there. So
 * `ENQUEUE q PAYLOADS` and `ENQUEUE q PAYLOADS PRIORITY high` still enqueue
 * one job whose payload is "PAYLOADS"; the batch form only gives a meaning
 * to commands that were syntax errors.
 */
export function isEnqueueBatch(args: readonly string[]): boolean {
  // the length first: args[2] is a payload in the single form (up to max-payload), not worth upper-casing
  return args.length >= 5 && args[2].length === 8 && args[2].toUpperCase() === 'PAYLOADS' && /^[0-9]+$/.test(args[3]);
}

export interface EnqueueBatch {
  payloads: readonly string[];
  options: EnqueueOptions;
}

/** parses the whole batch form; anything malformed is -ERR before any job is made */
export function readEnqueueBatch(args: readonly string[]): EnqueueBatch {
  const n = parseInteger(args[3], 'numjobs', 1);
  if (args.length < 4 + n) throw argError(`syntax error: PAYLOADS ${n} needs ${n} payloads, got ${args.length - 4}`);
  const { options, block } = enqueueOptionsFromWords(args, 4 + n);
  // one ID cannot name many jobs; a batch that could wait half-enqueued would hold its producer's other jobs hostage
  if (options.id !== undefined) throw argError('syntax error: ID is not allowed with PAYLOADS (one id per job: use the single form)');
  if (block !== undefined) throw argError('syntax error: BLOCK is not allowed with PAYLOADS (a full queue answers -FULL in place)');
  return { payloads: args.slice(4, 4 + n), options };
}
