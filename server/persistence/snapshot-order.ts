import { Job } from '../engine/job';
import { CodecError } from './record-codec';

/**
 * Rebuilding each state list's order from a snapshot.
 *
 * A snapshot is written while the store changes, so jobs are not written in
 * list order. Each job frame carries `prev`: the job before it in its list
 * at the moment it was written. That is enough because lists change only by
 * appending at the tail (a job created or moved after the snapshot's start
 * always lands after every job that was there) and by removing a job, which
 * the snapshot writes first (copy-on-write). So a job's predecessor at write
 * time is always a job of the snapshot, in the same list, and earlier in the
 * list as it was at the snapshot's start.
 *
 * Make each job a child of its prev (a list's head: a child of the list's
 * root). Two children X, Y of the same parent with X written first: X came
 * first in the list (when Y was written with that parent, X had already
 * left, so it was written earlier). And everything below X comes before Y.
 * Hence the list's order at the snapshot's start is the pre-order walk of
 * the tree with children in write order. When nothing changed during the
 * snapshot the tree is one chain per list.
 */
export interface OrderInput {
  /** jobs in write order */
  jobs: Job[];
  /** each job's list predecessor id when written (null: the list's head; undefined: the job of its list written last before it, or the head if none) */
  prevIds: Array<string | null | undefined>;
  /** a number per state list (same number = same list) */
  listIds: Int32Array;
  /** the write index of the job with this id, or -1 */
  indexOf: (id: string) => number;
}

/** the jobs, each list's jobs in their order (lists one after the other); throws CodecError on broken links */
export function listOrder({ jobs, prevIds, listIds, indexOf }: OrderInput): Job[] {
  const n = jobs.length;
  const firstChild = new Int32Array(n).fill(-1);
  const lastChild = new Int32Array(n).fill(-1);
  const nextSibling = new Int32Array(n).fill(-1);
  const rootFirst = new Map<number, number>();
  const rootLast = new Map<number, number>();
  // the job of each list written last so far
  const lastOfList = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    let prev = prevIds[i];
    const list = listIds[i];
    let p = -1;
    if (prev === undefined) {
      const last = lastOfList.get(list);
      if (last === undefined) prev = null;
      else p = last;
    }
    lastOfList.set(list, i);
    if (prev === null) {
      const last = rootLast.get(list);
      if (last === undefined) rootFirst.set(list, i);
      else nextSibling[last] = i;
      rootLast.set(list, i);
      continue;
    }
    if (p < 0) {
      // usually the job written just before (a list written in order); else look it up
      p = i > 0 && jobs[i - 1].id === prev ? i - 1 : indexOf(prev!);
      if (p < 0) throw new CodecError(`job ${JSON.stringify(jobs[i].id)} follows unknown job ${JSON.stringify(prev)}`);
    }
    if (listIds[p] !== list) throw new CodecError(`job ${JSON.stringify(jobs[i].id)} follows a job of another list`);
    if (firstChild[p] === -1) firstChild[p] = i;
    else nextSibling[lastChild[p]] = i;
    lastChild[p] = i;
  }
  const out: Job[] = new Array(n);
  let k = 0;
  const stack: number[] = [];
  for (const first of rootFirst.values()) {
    stack.push(first);
    while (stack.length > 0) {
      for (let v = stack.pop()!; v !== -1; v = firstChild[v]) {
        if (k === n) throw new CodecError('list links visit a job twice');
        out[k++] = jobs[v];
        if (nextSibling[v] !== -1) stack.push(nextSibling[v]);
      }
    }
  }
  // a cycle of prev links leaves jobs unreached
  if (k !== n) throw new CodecError(`list links reach ${k} of ${n} jobs`);
  return out;
}
