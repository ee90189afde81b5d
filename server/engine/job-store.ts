import { Bytes, Job, JobState } from './job';
import { JobList } from './job-list';
import { JobIndex } from './job-index';
import { DeadlineHeap } from './deadline-heap';
import { QueueState } from './queue-state';
import { CronSetRecord } from './records';
import { GroupState } from './group-state';
import { idleGroup, joinGroup, leaveGroup } from './group-book';

export interface RetentionPolicy {
  completedMs: number;
  completedMax: number;
  deadMs: number;
  deadMax: number;
  cancelledMs: number;
}

/** What the store tells the layers above it; all optional, none does I/O inside the store. */
export interface StoreObserver {
  /** a new job was added (it did not exist when a running snapshot started) */
  created?(job: Job): void;
  /** before any field of the job changes or it is removed (snapshot copy-on-write) */
  beforeChange?(job: Job): void;
  /** the job entered completed, dead or cancelled */
  finished?(job: Job): void;
  /** the job was removed (purge, retention) */
  dropped?(job: Job): void;
  /** a job became ready in this queue, or the queue was resumed */
  readied?(queue: QueueState): void;
  /** the queue's backlog shrank or its maxlen grew */
  roomFreed?(queue: QueueState): void;
  /** a group has no job left but a rate bucket that is not full yet: the engine forgets it later */
  groupIdle?(queue: QueueState, group: GroupState): void;
}

/**
 * The in-memory state: jobs by id, queues by name, the deadline heap and the
 * recurring-job table. Moves between states go through enter()/leave() so the
 * lists, counts and the heap never disagree.
 */
export class JobStore {
  readonly jobs = new JobIndex();
  readonly queues = new Map<Bytes, QueueState>();
  readonly heap = new DeadlineHeap();
  readonly crons = new Map<Bytes, CronSetRecord>();
  /** when each recurring job last ran (engine ms), from its cron-run records: runtime only, so unknown for runs before the loaded snapshot */
  readonly cronLastRun = new Map<Bytes, number>();
  /** active jobs per claiming connection, for requeue-on-disconnect (runtime only) */
  readonly byOwner = new Map<number, Set<Job>>();
  /** next server-made id number; ids are never reused */
  nextSeq = 1;
  observers: StoreObserver[] = [];

  constructor(public retention: RetentionPolicy) {}

  queue(name: Bytes): QueueState {
    let q = this.queues.get(name);
    if (!q) {
      q = new QueueState(name);
      this.queues.set(name, q);
    }
    return q;
  }

  listFor(q: QueueState, job: Job): JobList {
    switch (job.state) {
      case JobState.Ready:
        return q.ready[job.priority];
      case JobState.Scheduled:
        return q.scheduled;
      case JobState.Active:
        return q.active;
      case JobState.Completed:
        return q.completed;
      case JobState.Dead:
        return q.dead;
      case JobState.Cancelled:
        return q.cancelled;
    }
  }

  beforeChange(job: Job): void {
    for (const o of this.observers) o.beforeChange?.(job);
  }

  /** takes the job out of its state's list; the caller sets a new state with enter() */
  leave(q: QueueState, job: Job): void {
    // the group first: an ungrouped job's line finds the next one through the job's place in the list (ungrouped-line.ts)
    const joined = job.state <= JobState.Active && leaveGroup(q, job);
    this.listFor(q, job).unlink(job);
    if (joined) this.readied(q);
    // a slot under the queue's concurrency cap frees up: blocked claimers may take the next job
    if (job.state === JobState.Active && q.concurrency !== null && q.readyCount > 0) for (const o of this.observers) o.readied?.(q);
    if (job.state === JobState.Active && job.owner !== 0) {
      const owned = this.byOwner.get(job.owner);
      if (owned) {
        owned.delete(job);
        if (owned.size === 0) this.byOwner.delete(job.owner);
      }
      job.owner = 0;
    }
  }

  enter(q: QueueState, job: Job, state: JobState, at: number): void {
    const wasBacklog = job.state <= JobState.Active;
    job.state = state;
    job.updatedAt = at;
    this.listFor(q, job).push(job);
    if (state <= JobState.Active && joinGroup(q, job)) this.readied(q);
    if (state >= JobState.Completed) {
      job.finishedAt = at;
      job.runAt = 0;
      job.leaseUntil = 0;
      for (const o of this.observers) o.finished?.(job);
      if (wasBacklog) {
        this.roomFreed(q);
        this.forgetIfIdle(q, job);
      }
    } else if (state === JobState.Ready) {
      this.readied(q);
    }
    this.scheduleDeadline(job);
    // after scheduleDeadline: this may drop the job itself (a max of 0), which must not put it back in the heap
    if (state >= JobState.Completed) this.enforceCountRetention(q, state);
  }

  readied(q: QueueState): void {
    for (const o of this.observers) o.readied?.(q);
  }

  private forgetIfIdle(q: QueueState, job: Job): void {
    const g = idleGroup(q, job.group);
    if (g) for (const o of this.observers) o.groupIdle?.(q, g);
  }

  roomFreed(q: QueueState): void {
    for (const o of this.observers) o.roomFreed?.(q);
  }

  /** puts the job in the heap at its next timed event, or takes it out if it has none */
  scheduleDeadline(job: Job): void {
    let d = 0;
    const r = this.retention;
    switch (job.state) {
      case JobState.Scheduled:
        d = job.runAt;
        break;
      case JobState.Active:
        d = job.leaseUntil;
        break;
      case JobState.Completed:
        d = job.finishedAt + r.completedMs;
        break;
      case JobState.Dead:
        d = job.finishedAt + r.deadMs;
        break;
      case JobState.Cancelled:
        d = job.finishedAt + r.cancelledMs;
        break;
    }
    if (job.expiresAt > 0 && job.state <= JobState.Active && (d === 0 || job.expiresAt < d)) d = job.expiresAt;
    if (d === 0) this.heap.remove(job);
    else this.heap.set(job, d);
  }

  private enforceCountRetention(q: QueueState, state: JobState): void {
    if (state === JobState.Cancelled) return;
    const max = state === JobState.Completed ? this.retention.completedMax : this.retention.deadMax;
    const list = state === JobState.Completed ? q.completed : q.dead;
    while (list.size > max) this.drop(list.head!);
  }

  /** removes a job for good (purge, retention) */
  drop(job: Job): void {
    this.beforeChange(job);
    const q = this.queues.get(job.queue)!;
    const wasBacklog = job.state <= JobState.Active;
    this.leave(q, job);
    this.heap.remove(job);
    this.jobs.delete(job);
    for (const o of this.observers) o.dropped?.(job);
    // after every observer: a running snapshot copied the job in beforeChange
    job.releasePayload();
    if (wasBacklog) {
      this.roomFreed(q);
      this.forgetIfIdle(q, job);
    }
    this.dropQueueIfUnused(q);
  }

  /** an empty queue with default settings is forgotten, so queue names cannot grow memory without bound */
  dropQueueIfUnused(q: QueueState): void {
    if (q.jobCount === 0 && !q.hasSettings) this.queues.delete(q.name);
  }

  /** scheduled -> ready when its run time comes: a function of time alone, so it is not logged */
  promote(job: Job, at: number): void {
    this.beforeChange(job);
    const q = this.queues.get(job.queue)!;
    this.leave(q, job);
    job.runAt = 0;
    this.enter(q, job, JobState.Ready, at);
  }

  setOwner(job: Job, owner: number): void {
    job.owner = owner;
    if (owner === 0) return;
    let owned = this.byOwner.get(owner);
    if (!owned) this.byOwner.set(owner, (owned = new Set()));
    owned.add(job);
  }
}
