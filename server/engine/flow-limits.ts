import type { Bytes } from './job';

/** at most `rate` claims per `per` ms (a token bucket holding one window's worth) */
export interface RateLimit {
  readonly rate: number;
  readonly per: number;
}

/**
 * Limits of one group of a queue. In a queue's group defaults, null is no
 * limit. In a per-group override, null inherits the default and 0 (rate 0)
 * lifts it for that group.
 */
export interface GroupLimits {
  readonly concurrency: number | null;
  readonly rate: RateLimit | null;
  readonly maxlen: number | null;
}

export const NO_LIMITS: GroupLimits = Object.freeze({ concurrency: null, rate: null, maxlen: null });

/** the key of the jobs enqueued without GROUP: they share one turn in the rotation and no group limit applies to them */
export const UNGROUPED: Bytes = '';

export function noLimits(l: GroupLimits): boolean {
  return l.concurrency === null && l.rate === null && l.maxlen === null;
}

/** what applies to a group: the override's field when it has one (0 = none), else the queue's default */
export function effectiveLimits(defaults: GroupLimits, override: GroupLimits | undefined): GroupLimits {
  if (!override) return defaults;
  const concurrency = override.concurrency ?? defaults.concurrency;
  const maxlen = override.maxlen ?? defaults.maxlen;
  const rate = override.rate ?? defaults.rate;
  return {
    concurrency: concurrency === 0 ? null : concurrency,
    maxlen: maxlen === 0 ? null : maxlen,
    rate: rate === null || rate.rate === 0 ? null : rate,
  };
}

/** flat number fields of a rate, as records store them */
export function rateFromFields(rate: number | null, per: number | null): RateLimit | null {
  return rate === null ? null : { rate, per: per ?? 1000 };
}
