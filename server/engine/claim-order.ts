import { Job } from './job';
import { GroupState } from './group-state';
import { pickPriority } from './priority-picker';
import { QueueState } from './queue-state';

/** what a group may still be handed: `fresh` jobs never handed out before, `total` jobs in all (tokens) */
export interface Allowance {
  fresh: number;
  total: number;
}

/**
 * The order the next claims would take a priority's ready jobs in, without
 * taking them: the rotation's groups in turn, one job each per round, each
 * group while `may` lets it hand out its next job. Lazy: a PEEK of a few
 * jobs looks at a few groups, however many there are. `may` is asked when a
 * job comes up, and the caller asks it again before taking one: a group's
 * allowance is shared by its priorities, so a job looked at may have lost
 * its turn by the time its priority is picked.
 */
function* inTurn(q: QueueState, p: number, may: (g: GroupState, job: Job) => boolean): Generator<[GroupState, Job]> {
  // each group's last job yielded: the next is looked up only when the group's turn comes again
  const last = new Map<GroupState, Job>();
  let round: GroupState[] = [];
  for (const g of q.rings[p]) {
    const job = g.ready[p].head;
    if (job === null || !may(g, job)) continue;
    last.set(g, job);
    yield [g, job];
    round.push(g);
  }
  while (round.length > 0) {
    const next: GroupState[] = [];
    for (const g of round) {
      const job = g.ready[p].after(last.get(g)!);
      if (job === null || !may(g, job)) continue;
      last.set(g, job);
      yield [g, job];
      next.push(g);
    }
    round = next;
  }
}

/** PEEK: the jobs CLAIM would hand out next, in order (priorities by their weights, groups in turn) */
export function peekInTurn(q: QueueState, count: number, weights: readonly number[], allowance: (g: GroupState) => Allowance): Job[] {
  const out: Job[] = [];
  const left = new Map<GroupState, Allowance>();
  const allowanceOf = (g: GroupState): Allowance => {
    let a = left.get(g);
    if (!a) left.set(g, (a = { ...allowance(g) }));
    return a;
  };
  // allowances only shrink while peeking: a job that may not go now would not go later in this PEEK either
  const may = (g: GroupState, job: Job): boolean => {
    const a = allowanceOf(g);
    return a.total >= 1 && (job.deliveries > 0 || a.fresh >= 1);
  };
  const turns = [0, 1, 2].map((p) => inTurn(q, p, may));
  const next: Array<[GroupState, Job] | null> = turns.map((t) => t.next().value ?? null);
  const credit = q.credit.slice();
  while (out.length < count) {
    for (let p = 0; p < 3; p++) {
      while (next[p] !== null && !may(next[p]![0], next[p]![1])) next[p] = turns[p].next().value ?? null;
    }
    const p = pickPriority(
      credit,
      weights,
      next.map((c) => c !== null),
    );
    if (p === -1) break;
    const [g, job] = next[p]!;
    const a = allowanceOf(g);
    a.total--;
    if (job.deliveries === 0) a.fresh--;
    out.push(job);
    next[p] = turns[p].next().value ?? null;
  }
  return out;
}
