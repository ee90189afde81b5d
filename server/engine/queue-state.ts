import { Bytes } from './job';
import { JobList } from './job-list';
import { GroupLimits, NO_LIMITS, RateLimit } from './flow-limits';
import { GroupState } from './group-state';
import { TokenBucket } from './token-bucket';
import { WaitList } from './wait-list';

export interface QueueCounters {
  enqueued: number;
  acked: number;
  failed: number;
  retried: number;
  expiredLeases: number;
  claimed: number;
  dead: number;
}

export function zeroCounters(): QueueCounters {
  return { enqueued: 0, acked: 0, failed: 0, retried: 0, expiredLeases: 0, claimed: 0, dead: 0 };
}

/** Everything the broker keeps per queue. Jobs in final states sit in lists, oldest first, for DLQ and retention. */
export class QueueState {
  readonly ready: [JobList, JobList, JobList] = [new JobList(), new JobList(), new JobList()];
  readonly scheduled = new JobList();
  readonly active = new JobList();
  readonly completed = new JobList();
  readonly dead = new JobList();
  readonly cancelled = new JobList();
  paused = false;
  /** null = the default-maxlen setting applies */
  maxlen: number | null = null;
  /** at most this many active jobs across all workers (QCONFIG CONCURRENCY); null = no cap */
  concurrency: number | null = null;
  /** at most this many claims per window across all workers (QCONFIG RATE); null = none */
  rate: RateLimit | null = null;
  /** runtime only (see TokenBucket); null until the first claim under a rate */
  bucket: TokenBucket | null = null;
  /** the engine's pending wake-up for the next token (engine ms), 0 = none */
  wakeAt = 0;
  /** runtime only: listed in the engine's queues to serve at the next settle (claimers / producers) */
  settleReady = false;
  settleRoom = false;
  /** limits of every group of the queue (QCONFIG GROUP-...) */
  groupDefaults: GroupLimits = NO_LIMITS;
  /** per group key (GROUP CONFIG): fields that replace the defaults */
  readonly groupOverrides = new Map<Bytes, GroupLimits>();
  /** the groups with waiting or active jobs; ungrouped jobs are the group '' */
  readonly groups = new Map<Bytes, GroupState>();
  /**
   * Per priority, the groups a CLAIM may take a job from now, in turn: a
   * claim takes the first group's oldest job and moves the group to the
   * back, so groups share claims evenly whatever their sizes.
   */
  readonly rings: [WaitList<GroupState>, WaitList<GroupState>, WaitList<GroupState>] = [new WaitList(), new WaitList(), new WaitList()];
  /** claims left per priority in the current weighted round (see pickPriority) */
  readonly credit = [0, 0, 0];
  counters = zeroCounters();

  constructor(readonly name: Bytes) {}

  get readyCount(): number {
    return this.ready[0].size + this.ready[1].size + this.ready[2].size;
  }

  /** ready + scheduled + active: what MAXLEN bounds */
  get backlog(): number {
    return this.readyCount + this.scheduled.size + this.active.size;
  }

  /** groups with waiting or active jobs, not counting the ungrouped ones (kept by group-book.ts) */
  groupsWithJobs = 0;

  get groupCount(): number {
    return this.groupsWithJobs;
  }

  /** some group has a job a CLAIM may take now (queue-wide limits aside) */
  get claimable(): boolean {
    return this.rings[0].size + this.rings[1].size + this.rings[2].size > 0;
  }

  /** settings a log record or snapshot must keep: a queue with any is never forgotten while empty */
  get hasSettings(): boolean {
    return (
      this.paused || this.maxlen !== null || this.concurrency !== null || this.rate !== null || this.groupDefaults !== NO_LIMITS || this.groupOverrides.size > 0
    );
  }

  get jobCount(): number {
    return this.backlog + this.completed.size + this.dead.size + this.cancelled.size;
  }
}
