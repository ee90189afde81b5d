import { Job } from './job';

/**
 * The one deadline index for every timed event (delay, backoff, lease, TTL,
 * retention): a binary min-heap on job.deadline. Each job stores its own
 * index, so a deadline can be moved or removed in O(log n). The keys are
 * also kept beside the jobs in a typed array: sifting compares them there,
 * without reaching into each job (with a million jobs active those reads
 * missed the cache and were most of the heap's time).
 */
export class DeadlineHeap {
  private readonly items: Job[] = [];
  private keys = new Float64Array(1024);

  get size(): number {
    return this.items.length;
  }

  peek(): Job | undefined {
    return this.items[0];
  }

  /** inserts the job, or moves it if it is already in the heap */
  set(job: Job, deadline: number): void {
    job.deadline = deadline;
    let i = job.heapIndex;
    if (i < 0) {
      i = this.items.length;
      if (i === this.keys.length) this.grow();
      this.items.push(job);
      this.keys[i] = deadline;
      this.up(i);
    } else {
      this.keys[i] = deadline;
      this.up(i);
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
      this.keys[i] = this.keys[this.items.length];
      last.heapIndex = i;
      this.up(i);
      this.down(last.heapIndex);
    }
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }

  private up(i: number): void {
    const items = this.items;
    const keys = this.keys;
    const job = items[i];
    const key = keys[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      const moved = items[parent];
      items[i] = moved;
      keys[i] = keys[parent];
      moved.heapIndex = i;
      i = parent;
    }
    items[i] = job;
    keys[i] = key;
    job.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const keys = this.keys;
    const n = items.length;
    const job = items[i];
    const key = keys[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= key) break;
      const moved = items[child];
      items[i] = moved;
      keys[i] = keys[child];
      moved.heapIndex = i;
      i = child;
    }
    items[i] = job;
    keys[i] = key;
    job.heapIndex = i;
  }
}
