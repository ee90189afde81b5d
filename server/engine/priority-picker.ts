import { Priority } from './job';

/**
 * Weighted rounds in priority order. A round gives high, normal and low up
 * to weights h, n, l claims, handed out highest priority first; a new round
 * starts when no waiting priority has claims left in the current one. Two
 * rules keep the starvation bound exact whatever comes and goes:
 * - a claim made while no other priority waits is free (uses no share);
 * - a claim that goes to a lower priority while a higher one is empty takes
 *   the rest of that higher one's share in this round away (an absent
 *   priority cannot bank its share and then hold the lower ones back).
 * So highest priority first whenever the shares allow it, a priority that
 * stays non-empty is picked at least once in any window of h+n+l picks, and
 * under load the picks are shared h:n:l.
 * Pure: `credit` (the claims left in the current round) is the caller's
 * state, mutated in place; all zero is a fresh round.
 */
export function pickPriority(credit: number[], weights: readonly number[], nonEmpty: readonly boolean[]): Priority | -1 {
  let waiting = 0;
  for (let p = 0; p < 3; p++) if (nonEmpty[p]) waiting++;
  if (waiting === 0) return -1;
  let pick = -1;
  for (let p = 0; p < 3 && pick < 0; p++) if (nonEmpty[p] && credit[p] > 0) pick = p;
  if (pick < 0) {
    for (let p = 0; p < 3; p++) credit[p] = weights[p];
    for (let p = 0; p < 3 && pick < 0; p++) if (nonEmpty[p]) pick = p;
  }
  if (waiting > 1) {
    credit[pick]--;
    for (let p = 0; p < pick; p++) if (!nonEmpty[p]) credit[p] = 0;
  }
  return pick as Priority;
}
