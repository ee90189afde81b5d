import { ReplyWriter } from '../../protocol/reply-writer';
import { Job, PRIORITY_NAMES, STATE_NAMES } from '../engine/job';
import { QueueState } from '../engine/queue-state';

/** CLAIM / PEEK entry: [id, queue, payload, deliveries] */
export function writeJobEntries(w: ReplyWriter, jobs: Job[]): void {
  w.arrayHeader(jobs.length);
  for (const j of jobs) {
    w.arrayHeader(4);
    w.bulk(j.id);
    w.bulk(j.queue);
    w.bulk(j.payload);
    w.int(j.deliveries);
  }
}

/** DLQ entry: [id, queue, payload, deliveries, last-error] */
export function writeDeadEntries(w: ReplyWriter, jobs: Job[]): void {
  w.arrayHeader(jobs.length);
  for (const j of jobs) {
    w.arrayHeader(5);
    w.bulk(j.id);
    w.bulk(j.queue);
    w.bulk(j.payload);
    w.int(j.deliveries);
    nullableBulk(w, j.lastError);
  }
}

function nullableBulk(w: ReplyWriter, s: string | null): void {
  if (s === null) w.nil();
  else w.bulk(s);
}

function nullableInt(w: ReplyWriter, n: number): void {
  if (n === 0) w.nil();
  else w.int(n);
}

const STATUS_FIELDS = 16;

/** STATUS: every key always present, absent values nil; a map in RESP3, a flat array in RESP2 */
export function writeStatus(w: ReplyWriter, j: Job | null | undefined, withPayload: boolean): void {
  if (!j) {
    w.nil();
    return;
  }
  w.mapHeader(STATUS_FIELDS + (withPayload ? 1 : 0));
  w.bulk('id');
  w.bulk(j.id);
  w.bulk('queue');
  w.bulk(j.queue);
  w.bulk('state');
  w.bulk(STATE_NAMES[j.state]);
  w.bulk('priority');
  w.bulk(PRIORITY_NAMES[j.priority]);
  w.bulk('deliveries');
  w.int(j.deliveries);
  w.bulk('retries');
  w.int(j.retries);
  w.bulk('created-at');
  w.int(j.createdAt);
  w.bulk('updated-at');
  w.int(j.updatedAt);
  w.bulk('run-at');
  nullableInt(w, j.state === 1 ? j.runAt : 0);
  w.bulk('lease-until');
  nullableInt(w, j.state === 2 ? j.leaseUntil : 0);
  w.bulk('last-error');
  nullableBulk(w, j.lastError);
  w.bulk('result');
  nullableBulk(w, j.result);
  w.bulk('lease');
  w.int(j.lease);
  w.bulk('backoff');
  w.int(j.backoffBase);
  w.bulk('backoff-max');
  w.int(j.backoffMax);
  w.bulk('expires-at');
  nullableInt(w, j.expiresAt);
  if (withPayload) {
    w.bulk('payload');
    w.bulk(j.payload);
  }
}

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
    ['enqueued', c?.enqueued ?? 0],
    ['claimed', c?.claimed ?? 0],
    ['acked', c?.acked ?? 0],
    ['failed', c?.failed ?? 0],
    ['retried', c?.retried ?? 0],
    ['expired-leases', c?.expiredLeases ?? 0],
  ];
}

export function writeFieldMap(w: ReplyWriter, fields: Array<[string, number | string]>): void {
  w.mapHeader(fields.length);
  for (const [k, v] of fields) {
    w.bulk(k);
    if (typeof v === 'number') w.int(v);
    else w.bulk(v);
  }
}
