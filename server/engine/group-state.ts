import type { GroupLimits } from './flow-limits';
import type { Bytes, Job } from './job';
import type { TokenBucket } from './token-bucket';
import type { WaitNode } from './wait-list';

/**
 * One priority's ready jobs of one group, in the order the group hands them
 * out: the head is the job a claim from this group takes next.
 */
export interface ReadyLine {
  readonly head: Job | null;
  readonly size: number;
  /** the job after `job` (a job of this line) */
  after(job: Job): Job | null;
  /** a job that became ready: already in its queue's ready list, and added in that list's order (JobStore.enter, the snapshot reader) */
  add(job: Job): void;
  /** a job that leaves ready; called while it is still in its queue's ready list (JobStore.leave) */
  unlink(job: Job): void;
}

/**
 * A group's line, linked through the jobs' own gprev/gnext (kept in their
 * JobExtra, which a grouped job has anyway). A retry goes to the front:
 * within a group the job that was already handed out comes before the ones
 * that never were (what makes a concurrency of 1 strict FIFO per key).
 */
export class GroupLine implements ReadyLine {
  head: Job | null = null;
  tail: Job | null = null;
  size = 0;

  after(job: Job): Job | null {
    return job.gnext;
  }

  add(job: Job): void {
    if (job.deliveries > 0) this.pushFront(job);
    else this.pushBack(job);
  }

  pushBack(job: Job): void {
    job.gprev = this.tail;
    job.gnext = null;
    if (this.tail) this.tail.gnext = job;
    else this.head = job;
    this.tail = job;
    this.size++;
  }

  pushFront(job: Job): void {
    job.gnext = this.head;
    job.gprev = null;
    if (this.head) this.head.gprev = job;
    else this.tail = job;
    this.head = job;
    this.size++;
  }

  unlink(job: Job): void {
    if (job.gprev) job.gprev.gnext = job.gnext;
    else this.head = job.gnext;
    if (job.gnext) job.gnext.gprev = job.gprev;
    else this.tail = job.gprev;
    job.gprev = job.gnext = null;
    this.size--;
  }
}

/**
 * What the broker keeps per group key of a queue, while the group has
 * waiting or active jobs (or a rate bucket that is not full again yet).
 */
export class GroupState {
  /** ready + scheduled + active: what a group MAXLEN bounds */
  backlog = 0;
  active = 0;
  /**
   * Jobs handed out at least once and not yet final (active, or waiting for
   * a retry): what the group's concurrency bounds. Counting the retries is
   * what makes a concurrency of 1 strict FIFO per key.
   */
  inProgress = 0;
  /** this group's place in the queue's rotation of each priority (linked while it can be claimed from) */
  readonly ringNodes: Array<WaitNode<GroupState> | null> = [null, null, null];
  /** runtime only: null = full (no claim within the last window) */
  bucket: TokenBucket | null = null;
  /** out of tokens: out of every rotation until the engine's wake-up at the next token */
  tokenBlocked = false;
  /** the wake-up the engine has pending for this group (engine ms), 0 = none */
  wakeAt = 0;

  constructor(
    readonly key: Bytes,
    /** the limits that apply to it now (limitsOf), kept here so a claim does not look them up: set again when the queue's limits change */
    public limits: GroupLimits,
    /** per priority; the ungrouped jobs' lines are views of the queue's ready lists (ungrouped-line.ts) */
    readonly ready: readonly [ReadyLine, ReadyLine, ReadyLine] = [new GroupLine(), new GroupLine(), new GroupLine()],
  ) {}

  get readyCount(): number {
    return this.ready[0].size + this.ready[1].size + this.ready[2].size;
  }
}
