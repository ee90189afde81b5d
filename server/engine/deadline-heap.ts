import { Job } from './job';

/**
 * The one deadline index for every timed event (delay, backoff, lease, TTL,
 * retention): a binary min-heap on job.deadline. Each job stores its own
 * index, so a deadline can be moved or removed in O(log n).
 */
export class DeadlineHeap {
  private readonly items: Job[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Job | undefined {
    return this.items[0];
  }

  /** inserts the job, or moves it if it is already in the heap */
  set(job: Job, deadline: number): void {
    job.deadline = deadline;
    if (job.heapIndex < 0) {
      job.heapIndex = this.items.length;
      this.items.push(job);
      this.up(job.heapIndex);
    } else {
      this.up(job.heapIndex);
      this.down(job.heapIndex);
    }
  }

  remove(job: Job): void {
    const i = job.heapIndex;
    if (i < 0) return;
    const last = this.items.pop()!;
    job.heapIndex = -1;
    if (last !== job) {
      this.items[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(i);
    }
  }

  private up(i: number): void {
    const items = this.items;
    const job = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].deadline <= job.deadline) break;
      items[i] = items[parent];
      items[i].heapIndex = i;
      i = parent;
    }
    items[i] = job;
    job.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const job = items[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && items[child + 1].deadline < items[child].deadline) child++;
      if (items[child].deadline >= job.deadline) break;
      items[i] = items[child];
      items[i].heapIndex = i;
      i = child;
    }
    items[i] = job;
    job.heapIndex = i;
  }
}
