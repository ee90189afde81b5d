import { Job, JobState } from './job';
import { JobStore } from './job-store';
import { LogRecord, PurgeWhat } from './records';
import { QueueState } from './queue-state';
import { NO_LIMITS, noLimits, rateFromFields } from './flow-limits';
import { limitsOf, refreshGroup } from './group-book';

export class ReplayError extends Error {}

/**
 * The one transition function: applies a record to the store. Live commands
 * and start-up replay both come through here, so a replayed log rebuilds
 * exactly the state the live broker had. No I/O, no clock, no randomness.
 */
export function applyRecord(store: JobStore, rec: LogRecord): void {
  switch (rec.type) {
    case 'enqueue': {
      const old = store.jobs.get(rec.id);
      if (old) store.drop(old); // an id reused after its job was removed by retention
      const q = store.queue(rec.queue);
      // the queue's own name string, not the command's: one string for all of a queue's jobs
      const job = new Job(rec.id, q.name, rec.payload, rec.priority, rec.at, rec.retries, rec.backoffBase, rec.backoffMax, rec.lease, rec.expiresAt);
      job.group = rec.group;
      store.jobs.set(job);
      for (const o of store.observers) o.created?.(job);
      if (rec.seq >= store.nextSeq) store.nextSeq = rec.seq + 1;
      q.counters.enqueued++;
      if (rec.runAt > rec.at) job.runAt = rec.runAt;
      store.enter(q, job, job.runAt > 0 ? JobState.Scheduled : JobState.Ready, rec.at);
      return;
    }
    case 'purge':
      purge(store, rec.queue, rec.what);
      return;
    case 'queue-delete': {
      const q = store.queues.get(rec.queue);
      if (!q) return;
      q.paused = false;
      q.maxlen = null;
      q.concurrency = null;
      q.rate = null;
      q.groupDefaults = NO_LIMITS;
      q.groupOverrides.clear();
      for (const g of q.groups.values()) g.limits = limitsOf(q, g.key);
      purge(store, rec.queue, 'all');
      store.dropQueueIfUnused(q);
      return;
    }
    case 'queue-config': {
      const q = store.queue(rec.queue);
      q.maxlen = rec.maxlen;
      q.paused = rec.paused;
      q.concurrency = rec.concurrency;
      q.rate = rateFromFields(rec.rate, rec.ratePer);
      const defaults = { concurrency: rec.groupConcurrency, rate: rateFromFields(rec.groupRate, rec.groupRatePer), maxlen: rec.groupMaxlen };
      q.groupDefaults = noLimits(defaults) ? NO_LIMITS : defaults;
      limitsChanged(store, q);
      return;
    }
    case 'group-config': {
      const q = store.queue(rec.queue);
      const override = { concurrency: rec.concurrency, rate: rateFromFields(rec.rate, rec.ratePer), maxlen: rec.maxlen };
      if (noLimits(override)) q.groupOverrides.delete(rec.group);
      else q.groupOverrides.set(rec.group, override);
      const g = q.groups.get(rec.group);
      if (g) {
        g.limits = limitsOf(q, g.key);
        refreshGroup(q, g);
      }
      limitsChanged(store, q, false);
      return;
    }
    case 'cron-set':
      store.crons.set(rec.name, { ...rec });
      return;
    case 'cron-run': {
      const entry = store.crons.get(rec.name);
      if (entry) entry.nextRunAt = rec.nextRunAt;
      if (entry) store.cronLastRun.set(rec.name, rec.at);
      return;
    }
    case 'cron-del':
      store.crons.delete(rec.name);
      store.cronLastRun.delete(rec.name);
      return;
  }

  const job = store.jobs.get(rec.id);
  if (!job) throw new ReplayError(`${rec.type} of unknown job ${JSON.stringify(rec.id)}`);
  const q = store.queue(job.queue);
  store.beforeChange(job);
  switch (rec.type) {
    case 'claim':
      store.leave(q, job);
      job.deliveries++;
      job.runAt = 0;
      job.leaseUntil = rec.leaseUntil;
      job.deliveryLease = rec.deliveryLease;
      q.counters.claimed++;
      store.enter(q, job, JobState.Active, rec.at);
      return;
    case 'touch':
      job.leaseUntil = rec.leaseUntil;
      job.updatedAt = rec.at;
      store.scheduleDeadline(job);
      return;
    case 'ack':
      store.leave(q, job);
      job.result = rec.result;
      q.counters.acked++;
      store.enter(q, job, JobState.Completed, rec.at);
      return;
    case 'nack':
      store.leave(q, job);
      if (rec.error !== null) job.lastError = rec.error;
      failDelivery(store, q, job, rec.to, rec.runAt, rec.at);
      return;
    case 'lease-lost':
      store.leave(q, job);
      job.lastError = rec.reason === 'expired' ? 'lease expired' : 'connection closed';
      if (rec.reason === 'expired') q.counters.expiredLeases++;
      failDelivery(store, q, job, rec.to, 0, rec.at);
      return;
    case 'ttl-expired':
      store.leave(q, job);
      job.lastError = 'expired';
      store.enter(q, job, JobState.Dead, rec.at);
      return;
    case 'cancel':
      store.leave(q, job);
      store.enter(q, job, JobState.Cancelled, rec.at);
      return;
    case 'requeue':
      store.leave(q, job);
      job.deliveries = 0;
      job.finishedAt = 0;
      job.result = null;
      // an operator's requeue overrides the TTL: a job that died of old age would otherwise die again at once
      job.expiresAt = 0;
      store.enter(q, job, JobState.Ready, rec.at);
      return;
    case 'promote':
      store.leave(q, job);
      job.runAt = 0;
      store.enter(q, job, JobState.Ready, rec.at);
      return;
  }
}

/**
 * After a queue's limits changed: groups re-checked against their caps (all
 * of them when the defaults changed), and whatever may be possible now is
 * tried (blocked claims and producers re-check themselves).
 */
function limitsChanged(store: JobStore, q: QueueState, everyGroup = true): void {
  if (everyGroup) {
    for (const g of q.groups.values()) {
      g.limits = limitsOf(q, g.key);
      refreshGroup(q, g);
    }
  }
  if (q.readyCount > 0) store.readied(q);
  store.roomFreed(q);
  store.dropQueueIfUnused(q);
}

function failDelivery(store: JobStore, q: QueueState, job: Job, to: JobState, runAt: number, at: number): void {
  q.counters.failed++;
  job.leaseUntil = 0;
  if (to === JobState.Dead) {
    q.counters.dead++;
  } else {
    q.counters.retried++;
    job.runAt = to === JobState.Scheduled ? runAt : 0;
  }
  store.enter(q, job, to, at);
}

/** the lists a PURGE target empties; active jobs are never purged */
export function purgeLists(q: QueueState, what: PurgeWhat) {
  switch (what) {
    case 'dead':
      return [q.dead];
    case 'completed':
      return [q.completed];
    case 'cancelled':
      return [q.cancelled];
    case 'all':
      return [q.completed, q.dead, q.cancelled];
    case 'waiting':
      return [...q.ready, q.scheduled];
  }
}

function purge(store: JobStore, queue: string, what: PurgeWhat): void {
  const q = store.queues.get(queue);
  if (!q) return;
  for (const list of purgeLists(q, what)) {
    for (let job = list.head; job; job = list.head) store.drop(job);
  }
}
