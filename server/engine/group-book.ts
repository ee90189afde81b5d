import { Job, JobState } from './job';
import { GroupLimits, NO_LIMITS, UNGROUPED, effectiveLimits } from './flow-limits';
import { GroupState } from './group-state';
import { UngroupedLine } from './ungrouped-line';
import { QueueState } from './queue-state';

/**
 * Group bookkeeping of a queue, called by the store as jobs enter and leave
 * the waiting and active states: each group's ready lines, counts and its
 * place in the rotations. No clock: rate buckets are the engine's.
 */

/** the limits that apply to a group now (none for the ungrouped jobs) */
export function limitsOf(q: QueueState, key: string): GroupLimits {
  if (key === UNGROUPED) return NO_LIMITS;
  return effectiveLimits(q.groupDefaults, q.groupOverrides.get(key));
}

export function groupOf(q: QueueState, key: string): GroupState {
  let g = q.groups.get(key);
  if (!g) {
    g =
      key === UNGROUPED
        ? new GroupState(key, NO_LIMITS, [new UngroupedLine(), new UngroupedLine(), new UngroupedLine()])
        : new GroupState(key, limitsOf(q, key));
    q.groups.set(key, g);
  }
  return g;
}

/** a job entered ready, scheduled or active; true when its group became claimable at some priority */
export function joinGroup(q: QueueState, job: Job): boolean {
  const g = groupOf(q, job.group);
  if (g.backlog++ === 0 && g.key !== UNGROUPED) q.groupsWithJobs++;
  if (job.deliveries > 0) g.inProgress++;
  if (job.state === JobState.Active) g.active++;
  else if (job.state === JobState.Ready) g.ready[job.priority].add(job);
  return refreshGroup(q, g);
}

/** a job left ready, scheduled or active; true when that let its group into a rotation (a slot freed) */
export function leaveGroup(q: QueueState, job: Job): boolean {
  const g = q.groups.get(job.group)!;
  if (--g.backlog === 0 && g.key !== UNGROUPED) q.groupsWithJobs--;
  if (job.deliveries > 0) g.inProgress--;
  if (job.state === JobState.Active) g.active--;
  else if (job.state === JobState.Ready) g.ready[job.priority].unlink(job);
  return refreshGroup(q, g);
}

/**
 * Puts the group in or takes it out of each priority's rotation: in while
 * its oldest ready job of that priority may be handed out (a retry always
 * may; a new job only under the group's concurrency) and it has a token.
 * True when it joined a rotation.
 */
export function refreshGroup(q: QueueState, g: GroupState): boolean {
  let joined = false;
  const cap = g.limits.concurrency;
  for (let p = 0; p < 3; p++) {
    const head = g.ready[p].head;
    const want = head !== null && !g.tokenBlocked && (head.deliveries > 0 || cap === null || g.inProgress < cap);
    const node = g.ringNodes[p];
    if (want) {
      if (node === null) {
        g.ringNodes[p] = q.rings[p].push(g);
        joined = true;
      } else if (!node.linked) {
        q.rings[p].relink(node);
        joined = true;
      }
    } else if (node !== null && node.linked) {
      q.rings[p].remove(node);
    }
  }
  return joined;
}

/** a group with no job left and nothing to remember is forgotten (group keys must not grow memory without bound) */
export function idleGroup(q: QueueState, key: string): GroupState | null {
  const g = q.groups.get(key);
  if (!g || g.backlog > 0 || key === UNGROUPED) return null;
  if (g.bucket === null) {
    q.groups.delete(key);
    return null;
  }
  return g; // the engine forgets it once its bucket is full again
}
