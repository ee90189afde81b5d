import type { PurgeWhat } from '../engine/records';
import { argError } from './args';

const PURGE_TARGETS = new Set<string>(['dead', 'completed', 'cancelled', 'all', 'waiting']);

/** PURGE's target word (RESP) or JSON `state` (HTTP), case-insensitive */
export function parsePurgeTarget(word: string): PurgeWhat {
  const what = word.toLowerCase();
  if (!PURGE_TARGETS.has(what)) throw argError('PURGE target must be DEAD, COMPLETED, CANCELLED, ALL or WAITING');
  return what as PurgeWhat;
}
