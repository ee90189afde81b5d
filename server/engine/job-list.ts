import { Job } from './job';

/** An intrusive FIFO of jobs: O(1) push, shift and unlink, no allocation per job. */
export class JobList {
  head: Job | null = null;
  tail: Job | null = null;
  size = 0;
  /** the listSeq of the last job pushed: jobs along the list have increasing listSeq (unlinking keeps the order) */
  lastSeq = 0;

  push(job: Job): void {
    job.listSeq = ++this.lastSeq;
    job.prev = this.tail;
    job.next = null;
    if (this.tail) this.tail.next = job;
    else this.head = job;
    this.tail = job;
    this.size++;
  }

  shift(): Job | null {
    const job = this.head;
    if (job) this.unlink(job);
    return job;
  }

  /** the caller guarantees the job is in this list */
  unlink(job: Job): void {
    if (job.prev) job.prev.next = job.next;
    else this.head = job.next;
    if (job.next) job.next.prev = job.prev;
    else this.tail = job.prev;
    job.prev = job.next = null;
    this.size--;
  }

  *[Symbol.iterator](): IterableIterator<Job> {
    for (let j = this.head; j;) {
      const next = j.next; // allows unlinking the current job while iterating
      yield j;
      j = next;
    }
  }
}
