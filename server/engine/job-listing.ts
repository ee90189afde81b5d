import { Bytes, Job, JobState } from './job';
import { JobList } from './job-list';
import { QueueState } from './queue-state';

export type ListOrder = 'asc' | 'desc';

/**
 * Where a page of JOBS ended: the list (ready: the priority 0-2; other
 * states have one list, 0), the listSeq of the last job shown, and its id,
 * to resume in O(1) while that job is still in the list.
 */
export interface ListPosition {
  list: number;
  seq: number;
  id: Bytes;
}

export interface JobPage {
  jobs: Job[];
  /** null: nothing after this page */
  next: ListPosition | null;
}

/** a state's lists in ascending order: ready by priority (high first), every other state one list */
export function stateLists(q: QueueState, state: JobState): readonly JobList[] {
  switch (state) {
    case JobState.Ready:
      return q.ready;
    case JobState.Scheduled:
      return [q.scheduled];
    case JobState.Active:
      return [q.active];
    case JobState.Completed:
      return [q.completed];
    case JobState.Dead:
      return [q.dead];
    case JobState.Cancelled:
      return [q.cancelled];
  }
}

/** the first job of the list with listSeq > seq (asc) or the last with listSeq < seq (desc), walking from the nearer end */
function seek(list: JobList, seq: number, order: ListOrder): Job | null {
  const head = list.head;
  const tail = list.tail;
  if (!head || !tail) return null;
  if (order === 'asc') {
    if (tail.listSeq <= seq) return null;
    if (seq - head.listSeq < tail.listSeq - seq) {
      let j: Job | null = head;
      while (j && j.listSeq <= seq) j = j.next;
      return j;
    }
    let j = tail;
    while (j.prev && j.prev.listSeq > seq) j = j.prev;
    return j;
  }
  if (head.listSeq >= seq) return null;
  if (tail.listSeq - seq < seq - head.listSeq) {
    let j: Job | null = tail;
    while (j && j.listSeq >= seq) j = j.prev;
    return j;
  }
  let j = head;
  while (j.next && j.next.listSeq < seq) j = j.next;
  return j;
}

/**
 * One page of a queue's jobs in one state, SCAN-like. Ascending order is
 * oldest first within a list (lists are appended in order: the order jobs
 * entered the state), and for ready high, then normal, then low priority
 * (roughly claim order); descending is its exact reverse.
 *
 * Paging stays correct while jobs move: the position is "after listSeq s
 * of list l", and listSeq only grows along a list, so a job that stays in
 * the state for the whole walk is returned exactly once, whatever else
 * enters or leaves. A job that leaves and re-enters gets a new listSeq and
 * may be shown again (it is a new stay); one that enters during the walk
 * is shown if the walk has not passed its place.
 */
export function listJobs(
  q: QueueState | undefined,
  state: JobState,
  from: ListPosition | null,
  count: number,
  order: ListOrder,
  lookup: (id: Bytes) => Job | undefined,
): JobPage {
  const jobs: Job[] = [];
  if (!q) return { jobs, next: null };
  const lists = stateLists(q, state);
  const step = order === 'asc' ? 1 : -1;
  const first = (l: JobList) => (order === 'asc' ? l.head : l.tail);
  let li: number;
  let job: Job | null;
  if (from === null) {
    li = order === 'asc' ? 0 : lists.length - 1;
    job = first(lists[li]);
  } else {
    li = Math.min(from.list, lists.length - 1);
    const hint = lookup(from.id);
    const inList = hint && hint.listSeq === from.seq && hint.queue === q.name && hint.state === state && (state !== JobState.Ready || hint.priority === li);
    job = inList ? (order === 'asc' ? hint.next : hint.prev) : seek(lists[li], from.seq, order);
  }
  for (;;) {
    while (!job) {
      li += step;
      if (li < 0 || li >= lists.length) return { jobs, next: null };
      job = first(lists[li]);
    }
    if (jobs.length === count) {
      const last = jobs[jobs.length - 1];
      return { jobs, next: { list: state === JobState.Ready ? last.priority : 0, seq: last.listSeq, id: last.id } };
    }
    jobs.push(job);
    job = order === 'asc' ? job.next : job.prev;
  }
}
