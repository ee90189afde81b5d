/**
 * A job's retry and lease policy. Nearly every job uses one of a few
 * combinations (the configured defaults, or what a producer passes every
 * time), so jobs share interned policy objects instead of carrying four
 * numbers each: one pointer per job instead of four fields.
 */
export interface JobPolicy {
  readonly retries: number;
  readonly backoffBase: number;
  readonly backoffMax: number;
  readonly lease: number;
}

/** interning stops growing here; rarer combinations get an object of their own */
const MAX_INTERNED = 4096;
const interned = new Map<string, JobPolicy>();

/** the policy returned last: consecutive jobs nearly always share it (no key string to build) */
let last: JobPolicy = Object.freeze({ retries: NaN, backoffBase: NaN, backoffMax: NaN, lease: NaN });

export function jobPolicy(retries: number, backoffBase: number, backoffMax: number, lease: number): JobPolicy {
  const l = last;
  if (l.retries === retries && l.backoffBase === backoffBase && l.backoffMax === backoffMax && l.lease === lease) return l;
  return (last = lookup(retries, backoffBase, backoffMax, lease));
}

function lookup(retries: number, backoffBase: number, backoffMax: number, lease: number): JobPolicy {
  const key = `${retries}:${backoffBase}:${backoffMax}:${lease}`;
  let p = interned.get(key);
  if (p) return p;
  p = Object.freeze({ retries, backoffBase, backoffMax, lease });
  if (interned.size < MAX_INTERNED) interned.set(key, p);
  return p;
}
