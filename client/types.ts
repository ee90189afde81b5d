/** Public types shared by the producer and the worker. */

export type Priority = 'high' | 'normal' | 'low';

export type JobState = 'ready' | 'scheduled' | 'active' | 'completed' | 'dead' | 'cancelled';

/** The final states: WAITJOB returns once a job reaches one of them. */
export const FINAL_STATES: readonly JobState[] = ['completed', 'dead', 'cancelled'];

/** Options of ENQUEUE. Every field is optional; the broker's config gives the defaults. */
export interface EnqueueOptions {
  /** PRIORITY; default 'normal' */
  priority?: Priority;
  /** DELAY: run no earlier than this many ms from now (not with `at`) */
  delay?: number;
  /** AT: run no earlier than this time (Date or unix ms; not with `delay`) */
  at?: Date | number;
  /** RETRIES: re-deliveries allowed after failures; default from the broker's config */
  retries?: number;
  /** BACKOFF base [MAX max]: retry k waits min(max, base * 2^(k-1)); default from config */
  backoff?: { base: number; max?: number };
  /** LEASE: visibility timeout of each delivery, ms; default from config (a Worker's `lease` overrides it) */
  lease?: number;
  /** TTL: the job becomes dead ('expired') if not completed within ms of its creation */
  ttl?: number;
  /** ID: client-chosen id; enqueueing an id that still exists returns it without creating a job */
  id?: string;
  /**
   * GROUP: the job's group key (a tenant, a customer, an account). Within a
   * priority CLAIM rotates across the groups that have ready jobs, and the
   * queue's group limits (or the group's own, `Queue.configureGroup`) apply
   * per key: with a group concurrency of 1 the jobs of a key run one at a
   * time, in order, retries included.
   */
  group?: string;
  /** BLOCK: when the queue (or the job's group) is full, wait up to ms for room (0 = forever); without it a full queue throws FullError */
  block?: number;
}

/** One item of `Queue.enqueueMany`. */
export interface EnqueueItem<T> {
  payload: T;
  options?: EnqueueOptions;
}

/** STATUS / WAITJOB reply as an object. Times are unix ms; absent values are null. */
export interface JobStatus<T = unknown, R = unknown> {
  id: string;
  queue: string;
  state: JobState;
  priority: Priority;
  /** deliveries so far */
  deliveries: number;
  /** retries allowed (given at ENQUEUE) */
  retries: number;
  createdAt: number;
  updatedAt: number;
  /** when a scheduled job becomes ready */
  runAt: number | null;
  /** when the lease of an active job runs out */
  leaseUntil: number | null;
  lastError: string | null;
  /** the GROUP key given at ENQUEUE, or null */
  group: string | null;
  /** the ACK's RESULT, decoded with the Queue's codec */
  result: R | null;
  /** only with `withPayload`, decoded with the Queue's codec */
  payload?: T;
  /** fields the broker sent beyond the documented ones */
  extra: Record<string, string | number | null>;
}

/** QSTATS reply as an object. */
export interface QueueStats {
  ready: number;
  scheduled: number;
  active: number;
  completed: number;
  dead: number;
  cancelled: number;
  readyHigh: number;
  readyNormal: number;
  readyLow: number;
  paused: boolean;
  /** 0 = unlimited */
  maxLen: number;
  /** at most this many active jobs across all workers; 0 = no cap (0 too from a broker without the setting) */
  concurrency: number;
  /** at most `rate` jobs handed out per `ratePer` ms across all workers; 0 = no rate limit */
  rate: number;
  ratePer: number;
  /** groups with waiting or active jobs now */
  groups: number;
  /** the limits each group of the queue gets unless it has its own (0 = none) */
  groupConcurrency: number;
  groupRate: number;
  groupRatePer: number;
  groupMaxLen: number;
  /** totals since the broker started */
  enqueued: number;
  acked: number;
  failed: number;
  retried: number;
  expiredLeases: number;
  /** fields the broker sent beyond the documented ones */
  extra: Record<string, string | number | null>;
}

/** A job as PEEK shows it (not claimed). */
export interface PeekedJob<T = unknown> {
  id: string;
  queue: string;
  payload: T;
  /** deliveries so far (0 for a new job) */
  deliveries: number;
}

/** A dead job as DLQ shows it. */
export interface DeadJob<T = unknown> extends PeekedJob<T> {
  lastError: string | null;
}

/** What PURGE removes: final states, or WAITING = the backlog (ready + scheduled). */
export type PurgeTarget = 'dead' | 'completed' | 'cancelled' | 'all' | 'waiting';

/** One entry of a JOBS page (a summary: STATUS has every field, and the whole payload). */
export interface ListedJob {
  id: string;
  queue: string;
  priority: Priority;
  deliveries: number;
  createdAt: number;
  /** when the job entered its current state (or its lease was last extended) */
  updatedAt: number;
  /** scheduled: run time; active: lease end; otherwise null */
  dueAt: number | null;
  /** payload length in bytes */
  payloadSize: number;
  /** the first bytes of the payload (JobsOptions.preview, default 64), raw: it may be cut mid-value */
  payloadHead: Buffer;
  lastError: string | null;
}

export interface JobsOptions {
  /** from a previous page; '0' or absent starts */
  cursor?: string;
  /** jobs per page, 1..1000 (default 10) */
  count?: number;
  /** 'asc' (default): oldest first; for ready, high priority first. 'desc': the exact reverse */
  order?: 'asc' | 'desc';
  /** bytes of payload in payloadHead, 0..4096 (default 64) */
  preview?: number;
}

/** A JOBS page: `cursor` is '0' when there is nothing after it. */
export interface JobsPage {
  cursor: string;
  jobs: ListedJob[];
}

/**
 * Flow-control settings of a queue (QCONFIG); absent fields are left as they
 * are, 0 removes a limit. Rates are jobs handed out per window of `ratePer`
 * ms (default 1000), a token bucket holding one window's worth.
 */
export interface QueueLimits {
  /** MAXLEN: bound on ready + scheduled + active */
  maxLen?: number;
  /** CONCURRENCY: at most this many active jobs across all workers on all hosts */
  concurrency?: number;
  /** RATE: at most this many jobs handed out per `ratePer` ms */
  rate?: number;
  /** PER of RATE, ms; default 1000 (only with `rate`) */
  ratePer?: number;
  /** GROUP-CONCURRENCY: per group key, jobs handed out and not yet completed or dead (1 = one at a time, in order) */
  groupConcurrency?: number;
  /** GROUP-RATE: per group key, jobs handed out per `groupRatePer` ms */
  groupRate?: number;
  /** PER of GROUP-RATE, ms; default 1000 (only with `groupRate`) */
  groupRatePer?: number;
  /** GROUP-MAXLEN: per group key, bound on its ready + scheduled + active jobs (ENQUEUE gets FullError) */
  groupMaxLen?: number;
}

/**
 * One group's own limits (GROUP CONFIG), replacing the queue's group
 * defaults for that key. Absent fields keep the group's current value; 0
 * lifts the default for this group (no limit).
 */
export interface GroupLimitsOptions {
  concurrency?: number;
  rate?: number;
  /** PER of RATE, ms; default 1000 (only with `rate`) */
  ratePer?: number;
  maxLen?: number;
}

/** GROUP STATS: a group's jobs now and the limits that apply to it (0 = none). */
export interface GroupStats {
  /** ready + scheduled + active: what a group max length bounds */
  waiting: number;
  ready: number;
  scheduled: number;
  active: number;
  /** handed out and not yet completed or dead (active, or waiting for a retry): what the group concurrency bounds */
  inProgress: number;
  concurrency: number;
  rate: number;
  ratePer: number;
  maxLen: number;
  /** true when the group has limits of its own (configureGroup), false when the queue's defaults apply */
  ownLimits: boolean;
  /** fields the broker sent beyond the documented ones */
  extra: Record<string, string | number | null>;
}

/** One entry of `Queue.groups` (GROUP LIST). */
export interface GroupSummary {
  key: string;
  waiting: number;
  ready: number;
  active: number;
  inProgress: number;
}
