import type { Engine } from '../engine/engine';
import type { Bytes } from '../engine/job';
import type { GroupState } from '../engine/group-state';

/** GROUP STATS: a group's counts and the limits that apply to it (0 = none); RESP and HTTP both render this list */
export function groupStatsFields(engine: Engine, queue: Bytes, key: Bytes): Array<[string, number]> {
  const { limits, override } = engine.groupLimits(queue, key);
  const g = engine.queue(queue)?.groups.get(key);
  const ready = g?.readyCount ?? 0;
  const active = g?.active ?? 0;
  const waiting = g?.backlog ?? 0;
  return [
    ['waiting', waiting],
    ['ready', ready],
    ['scheduled', waiting - ready - active],
    ['active', active],
    ['in-progress', g?.inProgress ?? 0],
    ['concurrency', limits.concurrency ?? 0],
    ['rate', limits.rate?.rate ?? 0],
    ['rate-per', limits.rate?.per ?? 0],
    ['maxlen', limits.maxlen ?? 0],
    ['own-limits', override !== null ? 1 : 0],
  ];
}

/** GROUP LIST: COUNT when not given, and its bound (RESP and HTTP) */
export const GROUP_LIST_DEFAULT_COUNT = 100;
export const GROUP_LIST_MAX_COUNT = 10_000;

/** the names of a GROUP LIST entry's fields after the key (the JSON form uses them) */
export const GROUP_LIST_FIELDS = ['waiting', 'ready', 'active', 'in-progress'] as const;

/** GROUP LIST entry fields after the key, in GROUP_LIST_FIELDS order */
export function groupListEntry(g: GroupState): [number, number, number, number] {
  return [g.backlog, g.readyCount, g.active, g.inProgress];
}
