/** Building command arguments from typed options, with client-side validation. */
import { EnqueueOptions, Priority, PurgeTarget } from './types';

export type Arg = string | Buffer | number;

/** A finite integer >= min, else TypeError naming the option. */
export function intArg(name: string, v: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new TypeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** The option words of ENQUEUE after `queue payload`. */
export function enqueueArgs(o: EnqueueOptions = {}): Arg[] {
  const a: Arg[] = [];
  if (o.priority !== undefined) {
    if (!PRIORITIES.includes(o.priority)) throw new TypeError(`priority must be high, normal or low, got ${String(o.priority)}`);
    a.push('PRIORITY', o.priority);
  }
  if (o.delay !== undefined && o.at !== undefined) throw new TypeError('give delay or at, not both');
  if (o.delay !== undefined) a.push('DELAY', intArg('delay', o.delay));
  if (o.at !== undefined) a.push('AT', intArg('at', o.at instanceof Date ? o.at.getTime() : o.at));
  if (o.retries !== undefined) a.push('RETRIES', intArg('retries', o.retries));
  if (o.backoff !== undefined) {
    a.push('BACKOFF', intArg('backoff.base', o.backoff.base));
    if (o.backoff.max !== undefined) a.push('MAX', intArg('backoff.max', o.backoff.max));
  }
  if (o.lease !== undefined) a.push('LEASE', intArg('lease', o.lease, 1));
  if (o.ttl !== undefined) a.push('TTL', intArg('ttl', o.ttl, 1));
  if (o.id !== undefined) {
    if (typeof o.id !== 'string' || o.id.length === 0) throw new TypeError('id must be a non-empty string');
    a.push('ID', o.id);
  }
  if (o.block !== undefined) a.push('BLOCK', intArg('block', o.block));
  return a;
}

const PURGE: readonly PurgeTarget[] = ['dead', 'completed', 'cancelled', 'all', 'waiting'];

export function purgeArg(what: PurgeTarget): string {
  if (!PURGE.includes(what)) throw new TypeError(`purge target must be one of ${PURGE.join(', ')}, got ${String(what)}`);
  return what.toUpperCase();
}
