import { Priority } from './job';

/**
 * Smooth weighted round robin over the three priorities (the scheme nginx
 * uses for upstreams). With weights h,n,l every priority that stays
 * non-empty is picked at least once in any window of h+n+l picks, so a
 * lower priority is never starved while higher ones are busy.
 * Pure: `credit` is the caller's state, mutated in place.
 */
export function pickPriority(credit: number[], weights: readonly number[], nonEmpty: readonly boolean[]): Priority | -1 {
  let best = -1;
  let total = 0;
  for (let p = 0; p < 3; p++) {
    if (!nonEmpty[p]) continue;
    credit[p] += weights[p];
    total += weights[p];
    if (best < 0 || credit[p] > credit[best]) best = p;
  }
  if (best >= 0) credit[best] -= total;
  return best as Priority | -1;
}
