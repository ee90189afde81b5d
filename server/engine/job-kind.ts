import { JobPolicy } from './job-policy';

/**
 * A job's queue and its retry/lease policy, in one object shared by the
 * jobs that have both alike (nearly all of a queue's jobs): one pointer per
 * job instead of two.
 */
export interface JobKind {
  readonly queue: string;
  readonly policy: JobPolicy;
}

/** a cache: when it holds this many kinds it starts over (a kind is an immutable value, so sharing is only a saving) */
const MAX_KINDS = 4096;
const kinds = new Map<string, Map<JobPolicy, JobKind>>();
let cached = 0;
/** the kind returned last: consecutive jobs nearly always share it */
let last: JobKind = Object.freeze({ queue: '\0none', policy: Object.freeze({ retries: NaN, backoffBase: NaN, backoffMax: NaN, lease: NaN }) });

export function jobKind(queue: string, policy: JobPolicy): JobKind {
  if (last.queue === queue && last.policy === policy) return last;
  let byPolicy = kinds.get(queue);
  let k = byPolicy?.get(policy);
  if (k === undefined) {
    if (cached >= MAX_KINDS) {
      kinds.clear();
      cached = 0;
      byPolicy = undefined;
    }
    if (byPolicy === undefined) kinds.set(queue, (byPolicy = new Map()));
    byPolicy.set(policy, (k = Object.freeze({ queue, policy })));
    cached++;
  }
  return (last = k);
}
