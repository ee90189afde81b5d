/** Building command arguments from typed options, with client-side validation. */
import { EnqueueOptions, GroupLimitsOptions, Priority, PurgeTarget, QueueLimits } from './types';

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
  if (o.group !== undefined) {
    if (typeof o.group !== 'string' || o.group.length === 0) throw new TypeError('group must be a non-empty string');
    a.push('GROUP', o.group);
  }
  if (o.block !== undefined) a.push('BLOCK', intArg('block', o.block));
  return a;
}

/** `limit` [PER `per`] words of a rate; a window without its rate is refused */
function rateArgs(a: Arg[], option: string, name: string, rate: number | undefined, perName: string, per: number | undefined): void {
  if (rate === undefined) {
    if (per !== undefined) throw new TypeError(`${perName} needs ${name}`);
    return;
  }
  a.push(option, intArg(name, rate));
  if (per !== undefined) a.push('PER', intArg(perName, per, 1));
}

/** QCONFIG's option words after the queue; at least one setting */
export function queueLimitArgs(l: QueueLimits): Arg[] {
  const a: Arg[] = [];
  if (l.maxLen !== undefined) a.push('MAXLEN', intArg('maxLen', l.maxLen));
  if (l.concurrency !== undefined) a.push('CONCURRENCY', intArg('concurrency', l.concurrency));
  rateArgs(a, 'RATE', 'rate', l.rate, 'ratePer', l.ratePer);
  if (l.groupConcurrency !== undefined) a.push('GROUP-CONCURRENCY', intArg('groupConcurrency', l.groupConcurrency));
  rateArgs(a, 'GROUP-RATE', 'groupRate', l.groupRate, 'groupRatePer', l.groupRatePer);
  if (l.groupMaxLen !== undefined) a.push('GROUP-MAXLEN', intArg('groupMaxLen', l.groupMaxLen));
  if (a.length === 0) throw new TypeError('give at least one limit');
  return a;
}

/** GROUP CONFIG's option words after queue and key; at least one setting */
export function groupLimitArgs(l: GroupLimitsOptions): Arg[] {
  const a: Arg[] = [];
  if (l.concurrency !== undefined) a.push('CONCURRENCY', intArg('concurrency', l.concurrency));
  rateArgs(a, 'RATE', 'rate', l.rate, 'ratePer', l.ratePer);
  if (l.maxLen !== undefined) a.push('MAXLEN', intArg('maxLen', l.maxLen));
  if (a.length === 0) throw new TypeError('give at least one limit');
  return a;
}

const PURGE: readonly PurgeTarget[] = ['dead', 'completed', 'cancelled', 'all', 'waiting'];

export function purgeArg(what: PurgeTarget): string {
  if (!PURGE.includes(what)) throw new TypeError(`purge target must be one of ${PURGE.join(', ')}, got ${String(what)}`);
  return what.toUpperCase();
}
