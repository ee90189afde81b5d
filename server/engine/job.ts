import { JobPolicy, jobPolicy } from './job-policy';

/**
 * Byte strings: JS strings whose char codes are bytes 0..255 (latin1). Ids,
 * queue names, payloads, results and errors from the wire are kept this way:
 * compact in V8 (one byte per char), binary-safe, usable as Map keys, and
 * written back to sockets and the log with the latin1 encoding.
 */
export type Bytes = string;

export const enum JobState {
  Ready = 0,
  Scheduled = 1,
  Active = 2,
  Completed = 3,
  Dead = 4,
  Cancelled = 5,
}

export const STATE_NAMES = ['ready', 'scheduled', 'active', 'completed', 'dead', 'cancelled'] as const;

export function isFinal(state: JobState): boolean {
  return state >= JobState.Completed;
}

/** 0 = high, 1 = normal, 2 = low (the index into a queue's ready lists) */
export type Priority = 0 | 1 | 2;
export const PRIORITY_NAMES = ['high', 'normal', 'low'] as const;

export function parsePriority(word: string): Priority | undefined {
  const i = (PRIORITY_NAMES as readonly string[]).indexOf(word.toLowerCase());
  return i < 0 ? undefined : (i as Priority);
}

/**
 * One job. A plain class with fixed fields so V8 gives every job the same
 * compact shape; no closures or timers per job. The list and heap links make
 * every move between states O(1) or O(log n) without extra allocations.
 */
export class Job {
  // links: a job sits in at most one JobList (its state's list) and at most once in the deadline heap
  prev: Job | null = null;
  next: Job | null = null;
  /** links in its group's ready line (group-state.ts) while ready */
  gprev: Job | null = null;
  gnext: Job | null = null;
  heapIndex = -1;
  /** when the heap should look at this job next (engine clock ms) */
  deadline = 0;
  /**
   * Position in its state list: set by JobList.push from the list's own
   * counter, so it grows along the list. JOBS pages by it. Runtime only:
   * never persisted (a load rebuilds the lists in order, which renumbers).
   */
  listSeq = 0;

  /** ENQUEUE ... GROUP key; '' = no group */
  group: Bytes = '';
  state: JobState = JobState.Ready;
  deliveries = 0;
  updatedAt: number;
  /** scheduled: when it becomes ready; 0 otherwise */
  runAt = 0;
  /** active: lease deadline; 0 otherwise */
  leaseUntil = 0;
  /** active: the lease length of this delivery (CLAIM LEASE, else the job's) */
  deliveryLease = 0;
  /** active: connection that claimed it (not persisted) */
  owner = 0;
  /** final states: when retention removes it */
  finishedAt = 0;
  lastError: Bytes | null = null;
  result: Bytes | null = null;
  /** retries, backoff and lease, shared between jobs (see job-policy.ts) */
  readonly policy: JobPolicy;

  constructor(
    readonly id: Bytes,
    readonly queue: Bytes,
    readonly payload: Bytes,
    readonly priority: Priority,
    readonly createdAt: number,
    retries: number,
    backoffBase: number,
    backoffMax: number,
    lease: number,
    /** TTL deadline (engine clock ms), 0 = none; REQUEUE clears it */
    public expiresAt: number,
  ) {
    this.updatedAt = createdAt;
    this.policy = jobPolicy(retries, backoffBase, backoffMax, lease);
  }

  /** re-deliveries allowed after failures */
  get retries(): number {
    return this.policy.retries;
  }
  get backoffBase(): number {
    return this.policy.backoffBase;
  }
  get backoffMax(): number {
    return this.policy.backoffMax;
  }
  /** visibility timeout of a delivery, ms */
  get lease(): number {
    return this.policy.lease;
  }
}
