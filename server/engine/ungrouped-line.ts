import { Job } from './job';
import { UNGROUPED } from './flow-limits';
import type { ReadyLine } from './group-state';

/** the first ungrouped job from `job` on along its ready list, null = none */
function firstUngrouped(job: Job | null): Job | null {
  while (job !== null && job.group !== UNGROUPED) job = job.next;
  return job;
}

/**
 * The ungrouped ready jobs of one priority of a queue, read off the queue's
 * ready list of that priority instead of links of their own: so a plain
 * queued job carries no group links (perf-step-13-group-links.md). The same
 * order as a line of their own: ungrouped jobs enter the ready list at its
 * back and a retry goes to the back too (without a group there is no order
 * to keep), so they sit in the list in the order they are handed out.
 *
 * `head` is the first ungrouped job of the list. It only moves forward along
 * the list (jobs join at the back), so the grouped jobs it steps over are
 * each stepped over once per stay in the list: a claim costs O(1) amortized,
 * though the one that takes an ungrouped job followed by a long run of
 * grouped ones walks that run, and a PEEK walks the grouped jobs between
 * the ungrouped ones it shows. Only queues that mix both pay it.
 */
export class UngroupedLine implements ReadyLine {
  head: Job | null = null;
  size = 0;

  after(job: Job): Job | null {
    return firstUngrouped(job.next);
  }

  add(job: Job): void {
    // the job is the list's last, after every ungrouped job already there
    if (this.head === null) this.head = job;
    this.size++;
  }

  unlink(job: Job): void {
    if (job === this.head) this.head = --this.size === 0 ? null : firstUngrouped(job.next);
    else this.size--;
  }
}
