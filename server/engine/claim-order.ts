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
 * group as far as its allowance goes. Lazy: a PEEK of a few jobs looks at a
 * few groups, however many there are.
 */
function* inTurn(q: QueueState, p: number, allowance: (g: GroupState) => Allowance, left: Map<GroupState, Allowance>): Generator<Job> {
  const cursor = new Map<GroupState, Job | null>();
  let round: GroupState[] = [];
  const take = (g: GroupState, job: Job | null): Job | null => {
    if (job === null) return null;
    let a = left.get(g);
    if (!a) left.set(g, (a = { ...allowance(g) }));
    if (a.total < 1 || (job.deliveries === 0 && a.fresh < 1)) return null;
    a.total--;
    if (job.deliveries === 0) a.fresh--;
    cursor.set(g, job.gnext);
    return job;
  };
  for (const g of q.rings[p]) {
    const job = take(g, g.ready[p].head);
    if (!job) continue;
    yield job;
    round.push(g);
  }
  while (round.length > 0) {
    const next: GroupState[] = [];
    for (const g of round) {
      const job = take(g, cursor.get(g) ?? null);
      if (!job) continue;
      yield job;
      next.push(g);
    }
    round = next;
  }
}

/** PEEK: the jobs CLAIM would hand out next, in order (priorities by their weights, groups in turn) */
export function peekInTurn(q: QueueState, count: number, weights: readonly number[], allowance: (g: GroupState) => Allowance): Job[] {
  const out: Job[] = [];
  const left = new Map<GroupState, Allowance>();
  const turns = [0, 1, 2].map((p) => inTurn(q, p, allowance, left));
  const next: Array<Job | null> = turns.map((t) => t.next().value ?? null);
  const credit = q.credit.slice();
  while (out.length < count) {
    const p = pickPriority(
      credit,
      weights,
      next.map((j) => j !== null),
    );
    if (p === -1) break;
    out.push(next[p]!);
    next[p] = turns[p].next().value ?? null;
  }
  return out;
}
