import { Bytes } from './job';
import { JobList } from './job-list';

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

  get jobCount(): number {
    return this.backlog + this.completed.size + this.dead.size + this.cancelled.size;
  }
}
