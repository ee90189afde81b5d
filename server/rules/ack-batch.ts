import { argError, parseInteger } from './args';

/**
 * ACK's batch form, `ACK IDS numids id [id ...] [DELIVERY d [d ...]]`.
 * Read here once for the ACK handler and for the request gate (which checks
 * every id against its job's queue), so both see the same ids.
 *
 * It cannot be mistaken for the single form `ACK id [RESULT value]
 * [DELIVERY d]`: a single ACK of three words or more has RESULT or DELIVERY
 * as its third word, and the batch form has a count there. So `ACK IDS`,
 * `ACK IDS RESULT x` and `ACK IDS DELIVERY 2` still acknowledge the job
 * whose id is "IDS"; every command the single form accepted means what it
 * meant, and the batch form only gives a meaning to commands that were
 * syntax errors.
 */
export function isAckBatch(args: readonly string[]): boolean {
  if (args.length < 3 || args[1].toUpperCase() !== 'IDS') return false;
  const third = args[2].toUpperCase();
  return third !== 'RESULT' && third !== 'DELIVERY';
}

export interface AckBatch {
  ids: readonly string[];
  /** one per id, or undefined without DELIVERY */
  deliveries: readonly number[] | undefined;
}

/** the ids a well-formed count names (for the gate); [] when the count is not a number in range (the handler replies the error) */
export function ackBatchIds(args: readonly string[]): readonly string[] {
  const n = batchCount(args);
  return n === undefined ? [] : args.slice(3, 3 + n);
}

function batchCount(args: readonly string[]): number | undefined {
  try {
    return parseInteger(args[2], 'numids', 1, args.length - 3);
  } catch {
    return undefined;
  }
}

/** parses the whole batch form (anything malformed is -ERR, before any job is touched) */
export function readAckBatch(args: readonly string[]): AckBatch {
  const n = parseInteger(args[2], 'numids', 1);
  if (args.length < 3 + n) throw argError(`syntax error: IDS ${n} needs ${n} ids, got ${args.length - 3}`);
  const ids = args.slice(3, 3 + n);
  const rest = 3 + n;
  if (args.length === rest) return { ids, deliveries: undefined };
  if (args[rest].toUpperCase() !== 'DELIVERY') throw argError(`syntax error: unknown option '${args[rest]}'`);
  if (args.length !== rest + 1 + n) throw argError(`syntax error: DELIVERY needs one delivery per id (${n}), got ${args.length - rest - 1}`);
  const deliveries: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) deliveries[i] = parseInteger(args[rest + 1 + i], 'DELIVERY', 0, Number.MAX_SAFE_INTEGER);
  return { ids, deliveries };
}
