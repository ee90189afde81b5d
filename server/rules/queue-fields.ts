import { QueueState } from '../engine/queue-state';

/** QSTATS: the fields of a queue, in order; the RESP reply, INFO queues and the HTTP JSON body all use this list */
export function queueStatsFields(q: QueueState | undefined, defaultMaxlen: number): Array<[string, number]> {
  const c = q?.counters;
  const ready = q ? q.ready.map((l) => l.size) : [0, 0, 0];
  return [
    ['ready', ready[0] + ready[1] + ready[2]],
    ['scheduled', q?.scheduled.size ?? 0],
    ['active', q?.active.size ?? 0],
    ['completed', q?.completed.size ?? 0],
    ['dead', q?.dead.size ?? 0],
    ['cancelled', q?.cancelled.size ?? 0],
    ['ready-high', ready[0]],
    ['ready-normal', ready[1]],
    ['ready-low', ready[2]],
    ['paused', q?.paused ? 1 : 0],
    ['maxlen', q?.maxlen ?? defaultMaxlen],
    ['concurrency', q?.concurrency ?? 0],
    ['rate', q?.rate?.rate ?? 0],
    ['rate-per', q?.rate?.per ?? 0],
    ['groups', q?.groupCount ?? 0],
    ['group-concurrency', q?.groupDefaults.concurrency ?? 0],
    ['group-rate', q?.groupDefaults.rate?.rate ?? 0],
    ['group-rate-per', q?.groupDefaults.rate?.per ?? 0],
    ['group-maxlen', q?.groupDefaults.maxlen ?? 0],
    ['enqueued', c?.enqueued ?? 0],
    ['claimed', c?.claimed ?? 0],
    ['acked', c?.acked ?? 0],
    ['failed', c?.failed ?? 0],
    ['retried', c?.retried ?? 0],
    ['expired-leases', c?.expiredLeases ?? 0],
  ];
}
