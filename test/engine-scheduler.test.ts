import { expect } from 'chai';
import { Engine, EngineConfig } from '../server/engine/engine';
import { EngineError } from '../server/engine/engine-errors';
import { Job, JobState, Priority, STATE_NAMES } from '../server/engine/job';
import { JobStore, RetentionPolicy } from '../server/engine/job-store';
import { LogRecord } from '../server/engine/records';
import { applyRecord } from '../server/engine/apply-record';
import { pickPriority } from '../server/engine/priority-picker';
import { backoffDelay } from '../server/engine/backoff';
import { prng } from './helpers/prng';

/**
 * The scheduler without sockets or sleeping: an Engine on a fake clock that
 * the tests advance, then engine.tick(). The engine's own timer is stopped,
 * so nothing runs unless a test says so.
 */

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;

const CONFIG: EngineConfig = {
  defaultRetries: 3,
  defaultBackoff: 1000,
  defaultBackoffMax: 3_600_000,
  backoffJitter: 0.1,
  defaultLease: 30_000,
  defaultMaxlen: 0,
  requeueOnDisconnect: false,
  priorityWeights: [6, 3, 1],
};

const RETENTION: RetentionPolicy = {
  completedMs: 3_600_000,
  completedMax: 10_000,
  deadMs: 7 * DAY,
  deadMax: 100_000,
  cancelledMs: DAY,
};

const HIGH: Priority = 0;
const NORMAL: Priority = 1;
const LOW: Priority = 2;

interface Harness {
  engine: Engine;
  records: LogRecord[];
  now(): number;
  /** moves the fake clock forward and runs the due deadlines */
  advance(ms: number): void;
}

function harness(config: Partial<EngineConfig> = {}, retention: Partial<RetentionPolicy> = {}, random = () => 0.5): Harness {
  let t = T0;
  const records: LogRecord[] = [];
  // no timer: time moves only through advance()
  const engine = new Engine({
    config: { ...CONFIG, ...config },
    retention: { ...RETENTION, ...retention },
    journal: { append: (rec) => records.push(rec) },
    clock: { now: () => t },
    random,
  });
  return {
    engine,
    records,
    now: () => t,
    advance(ms: number) {
      t += ms;
      engine.tick(t);
    },
  };
}

const stateOf = (e: Engine, id: string) => {
  const j = e.status(id);
  return j ? STATE_NAMES[j.state] : undefined;
};

function claimIds(e: Engine, queue: string, count = 1, lease?: number, owner = 1): string[] {
  return e.claim(queue, { count, lease, owner }).map((j) => j.id);
}

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected an EngineError');
}

describe('engine scheduler (fake clock)', () => {
  describe('pickPriority', () => {
    it('returns -1 when nothing waits', () => {
      expect(pickPriority([0, 0, 0], [6, 3, 1], [false, false, false])).to.equal(-1);
    });

    it('with all three busy: highest first, 6 high, 3 normal, 1 low per 10 picks', () => {
      const credit = [0, 0, 0];
      const seq = Array.from({ length: 30 }, () => pickPriority(credit, [6, 3, 1], [true, true, true]));
      expect(seq.slice(0, 10)).to.deep.equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 2]);
      expect(seq.slice(10, 20)).to.deep.equal(seq.slice(0, 10));
    });

    it('a single waiting priority flows at full rate', () => {
      const credit = [0, 0, 0];
      for (let i = 0; i < 50; i++) expect(pickPriority(credit, [6, 3, 1], [false, false, true])).to.equal(2);
      // and a high job arriving afterwards is picked first
      expect(pickPriority(credit, [6, 3, 1], [true, false, true])).to.equal(0);
    });

    it('starvation bound: a priority that stays non-empty is picked within any h+n+l consecutive picks, whatever comes and goes', () => {
      const rand = prng(42);
      for (const weights of [
        [6, 3, 1],
        [1, 1, 1],
        [10, 5, 2],
        [1, 2, 3],
        [100, 10, 1],
      ]) {
        const bound = weights[0] + weights[1] + weights[2];
        const worst = [0, 0, 0];
        let wrongPicks = 0;
        for (let trial = 0; trial < 1000; trial++) {
          const credit = [0, 0, 0];
          const busy = [rand(), rand(), rand()];
          const skipped = [0, 0, 0];
          for (let i = 0; i < 200; i++) {
            const nonEmpty = busy.map((b) => rand() < b);
            const p = pickPriority(credit, weights, nonEmpty);
            if (p === -1 ? nonEmpty.some(Boolean) : !nonEmpty[p]) wrongPicks++;
            if (p === -1) continue;
            for (let q = 0; q < 3; q++) {
              skipped[q] = nonEmpty[q] && p !== q ? skipped[q] + 1 : 0;
              if (skipped[q] > worst[q]) worst[q] = skipped[q];
            }
          }
        }
        expect(wrongPicks, 'picks of an empty priority, or none while one waits').to.equal(0);
        for (let q = 0; q < 3; q++) expect(worst[q], `weights ${weights}: most consecutive picks passing over waiting priority ${q}`).to.be.below(bound);
      }
    });
  });

  describe('priorities through CLAIM', () => {
    it('high before normal before low, FIFO within a priority', () => {
      const { engine } = harness();
      const l = engine.enqueue('q', 'l', { priority: LOW });
      const n = engine.enqueue('q', 'n', { priority: NORMAL });
      const h1 = engine.enqueue('q', 'h1', { priority: HIGH });
      const h2 = engine.enqueue('q', 'h2', { priority: HIGH });
      expect(claimIds(engine, 'q', 10)).to.deep.equal([h1, h2, n, l]);
    });

    it('a low job is claimed within any 10 consecutive claims while all three wait (weights 6,3,1)', () => {
      const { engine } = harness();
      for (let i = 0; i < 40; i++) for (const p of [HIGH, NORMAL, LOW]) engine.enqueue('q', `${p}-${i}`, { priority: p });
      const prios: number[] = [];
      for (let i = 0; i < 60; i++) prios.push(engine.claim('q', { count: 1, owner: 1 })[0].priority);
      for (let i = 0; i + 10 <= prios.length; i++) expect(prios.slice(i, i + 10)).to.include(LOW);
      expect(prios.filter((p) => p === HIGH)).to.have.length(36);
      expect(prios.filter((p) => p === LOW)).to.have.length(6);
    });

    it('keeps the bound while jobs come and go (randomized enqueue/claim mix)', () => {
      const rand = prng(7);
      const { engine } = harness();
      const skipped = [0, 0, 0];
      for (let step = 0; step < 5000; step++) {
        if (rand() < 0.55) {
          const p = Math.floor(rand() * 3) as Priority;
          engine.enqueue('q', 'x', { priority: p });
          continue;
        }
        const q = engine.queue('q');
        const waiting = q ? q.ready.map((l) => l.size > 0) : [false, false, false];
        const got = engine.claim('q', { count: 1, owner: 1 });
        if (got.length === 0) continue;
        engine.ack(got[0].id, null);
        for (let p = 0; p < 3; p++) {
          skipped[p] = waiting[p] && got[0].priority !== p ? skipped[p] + 1 : 0;
          expect(skipped[p]).to.be.below(10);
        }
      }
    });

    it('PEEK shows the order CLAIM gives', () => {
      const { engine } = harness();
      for (let i = 0; i < 12; i++) engine.enqueue('q', `j${i}`, { priority: (i % 3) as Priority });
      const peeked = engine.peek('q', 5).map((j) => j.id);
      expect(claimIds(engine, 'q', 5)).to.deep.equal(peeked);
      const rest = engine.peek('q', 100).map((j) => j.id);
      const claimed: string[] = [];
      for (let i = 0; i < 7; i++) claimed.push(...claimIds(engine, 'q'));
      expect(claimed).to.deep.equal(rest);
    });
  });

  describe('delays', () => {
    it('DELAY: scheduled until its run time, then ready', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { delay: 1000 });
      expect(stateOf(h.engine, id)).to.equal('scheduled');
      expect(h.engine.status(id)!.runAt).to.equal(h.now() + 1000);
      expect(claimIds(h.engine, 'q')).to.deep.equal([]);
      h.advance(999);
      expect(stateOf(h.engine, id)).to.equal('scheduled');
      h.advance(1);
      expect(stateOf(h.engine, id)).to.equal('ready');
      expect(h.engine.status(id)!.runAt).to.equal(0);
      expect(claimIds(h.engine, 'q')).to.deep.equal([id]);
    });

    it('AT: a future time schedules, a past or present time is ready at once', () => {
      const h = harness();
      const later = h.engine.enqueue('q', 'later', { at: h.now() + 500 });
      const past = h.engine.enqueue('q', 'past', { at: h.now() - 500 });
      const nowish = h.engine.enqueue('q', 'now', { at: h.now() });
      expect([stateOf(h.engine, later), stateOf(h.engine, past), stateOf(h.engine, nowish)]).to.deep.equal(['scheduled', 'ready', 'ready']);
      h.advance(500);
      expect(stateOf(h.engine, later)).to.equal('ready');
    });

    it('delayed jobs become ready in run-time order, whatever their enqueue order', () => {
      const h = harness();
      const a = h.engine.enqueue('q', 'a', { delay: 300 });
      const b = h.engine.enqueue('q', 'b', { delay: 100 });
      const c = h.engine.enqueue('q', 'c', { delay: 200 });
      h.advance(1000);
      expect(claimIds(h.engine, 'q', 3)).to.deep.equal([b, c, a]);
    });

    it('a blocked claimer is served when a delayed job becomes ready', () => {
      const h = harness();
      const got: string[][] = [];
      h.engine.waitForJobs('q', { count: 1, owner: 9 }, (jobs) => got.push(jobs.map((j) => j.id)));
      const id = h.engine.enqueue('q', 'p', { delay: 50 });
      expect(got).to.deep.equal([]);
      h.advance(50);
      expect(got).to.deep.equal([[id]]);
      expect(h.engine.status(id)!.owner).to.equal(9);
    });

    it('the longest-waiting claimer is served first; a cancelled wait is skipped', () => {
      const h = harness();
      const got: Array<[string, string[]]> = [];
      const waiter = (name: string) => (jobs: Job[]) => got.push([name, jobs.map((j) => j.id)]);
      h.engine.waitForJobs('q', { count: 1, owner: 1 }, waiter('first'));
      const cancel = h.engine.waitForJobs('q', { count: 1, owner: 2 }, waiter('second'));
      h.engine.waitForJobs('q', { count: 2, owner: 3 }, waiter('third'));
      cancel();
      const a = h.engine.enqueue('q', 'a', {});
      const b = h.engine.enqueue('q', 'b', {});
      expect(got).to.deep.equal([
        ['first', [a]],
        ['third', [b]],
      ]);
    });
  });

  describe('leases', () => {
    it('a lease that runs out makes the job ready at once with the delivery counted', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { lease: 500 });
      claimIds(h.engine, 'q');
      const job = h.engine.status(id)!;
      expect(job.leaseUntil).to.equal(h.now() + 500);
      h.advance(499);
      expect(job.state).to.equal(JobState.Active);
      h.advance(1);
      expect(job.state).to.equal(JobState.Ready);
      expect(job.deliveries).to.equal(1);
      expect(job.lastError).to.equal('lease expired');
      expect(h.engine.queue('q')!.counters).to.include({ expiredLeases: 1, failed: 1, retried: 1 });
      expect(claimIds(h.engine, 'q')).to.deep.equal([id]);
      expect(job.deliveries).to.equal(2);
    });

    it('CLAIM LEASE overrides the job lease; TOUCH extends; TOUCH without LEASE uses the delivery lease', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { lease: 10_000 });
      claimIds(h.engine, 'q', 1, 300);
      const job = h.engine.status(id)!;
      expect(job.leaseUntil).to.equal(h.now() + 300);
      h.advance(200);
      expect(h.engine.touch(id, 1000)).to.equal(h.now() + 1000);
      h.advance(900);
      expect(job.state).to.equal(JobState.Active);
      expect(h.engine.touch(id)).to.equal(h.now() + 300);
      h.advance(299);
      expect(job.state).to.equal(JobState.Active);
      h.advance(1);
      expect(job.state).to.equal(JobState.Ready);
    });

    it('a poison job is dead after retries + 1 deliveries whose leases all ran out', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { lease: 100, retries: 2 });
      for (let d = 1; d <= 3; d++) {
        expect(claimIds(h.engine, 'q')).to.deep.equal([id]);
        h.advance(100);
      }
      const job = h.engine.status(id)!;
      expect(job.state).to.equal(JobState.Dead);
      expect(job.deliveries).to.equal(3);
      expect(claimIds(h.engine, 'q')).to.deep.equal([]);
    });

    it('ACK of a redelivered job with the old DELIVERY is STALE; errors in the contract order', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { lease: 100 });
      claimIds(h.engine, 'q');
      h.advance(100);
      claimIds(h.engine, 'q');
      expect(engineError(() => h.engine.ack(id, null, 1)).code).to.equal('STALE');
      expect(engineError(() => h.engine.ack('nope', null, 1)).code).to.equal('NOJOB');
      expect(h.engine.ack(id, 'r', 2)).to.equal(1);
      expect(h.engine.ack(id, null, 1)).to.equal(0);
      expect(engineError(() => h.engine.nack(id, {})).code).to.equal('STATE');
      expect(engineError(() => h.engine.touch(id, undefined, 2)).code).to.equal('STALE');
    });

    it("requeue-on-disconnect: the owner's active jobs are ready again at once; off by default", () => {
      const off = harness();
      const a = off.engine.enqueue('q', 'a', {});
      claimIds(off.engine, 'q', 1, undefined, 5);
      off.engine.releaseOwner(5);
      expect(stateOf(off.engine, a)).to.equal('active');
      expect(off.engine.status(a)!.owner).to.equal(0);

      const on = harness({ requeueOnDisconnect: true });
      const b = on.engine.enqueue('q', 'b', {});
      const c = on.engine.enqueue('q', 'c', { retries: 0 });
      claimIds(on.engine, 'q', 2, undefined, 5);
      on.engine.releaseOwner(5);
      expect(stateOf(on.engine, b)).to.equal('ready');
      expect(on.engine.status(b)!.lastError).to.equal('connection closed');
      expect(stateOf(on.engine, c)).to.equal('dead');
    });
  });

  describe('backoff', () => {
    it('backoffDelay: min(max, base * 2^(k-1)) plus jitter * random of that', () => {
      expect([1, 2, 3, 4, 5].map((k) => backoffDelay(k, 100, 1000, 0, 0.9))).to.deep.equal([100, 200, 400, 800, 1000]);
      expect(backoffDelay(1, 100, 1000, 0.1, 0)).to.equal(100);
      expect(backoffDelay(1, 100, 1000, 0.1, 0.5)).to.equal(105);
      expect(backoffDelay(3, 100, 1000, 0.1, 0.999)).to.equal(440);
      expect(backoffDelay(5, 100, 1000, 0.5, 1)).to.equal(1500);
      expect(backoffDelay(10_000, 100, 5000, 0, 0)).to.equal(5000);
      expect(backoffDelay(1, 0, 1000, 0.1, 0.5)).to.equal(0);
    });

    it('NACK without DELAY waits the backoff of the k-th failed delivery; k counts lease expiries too', () => {
      const h = harness({ backoffJitter: 0.1 });
      const id = h.engine.enqueue('q', 'p', { retries: 10, backoffBase: 100, backoffMax: 1000, lease: 50 });
      const job = h.engine.status(id)!;
      // random() = 0.5 with jitter 0.1: +5%
      const expected = [105, 210, 420, 840, 1050, 1050];
      for (const want of expected) {
        claimIds(h.engine, 'q');
        expect(h.engine.nack(id, {})).to.equal('scheduled');
        expect(job.runAt - h.now()).to.equal(want);
        h.advance(want - 1);
        expect(job.state).to.equal(JobState.Scheduled);
        h.advance(1);
        expect(job.state).to.equal(JobState.Ready);
      }
      // a lease expiry is a failed delivery too: the next NACK is failure 8
      claimIds(h.engine, 'q');
      h.advance(50);
      claimIds(h.engine, 'q');
      h.engine.nack(id, {});
      expect(job.deliveries).to.equal(8);
      expect(job.runAt - h.now()).to.equal(1050);
    });

    it('NACK DELAY overrides the backoff; DELAY 0 is ready; NORETRY or no retries left is dead', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { retries: 2 });
      claimIds(h.engine, 'q');
      expect(h.engine.nack(id, { delay: 77 })).to.equal('scheduled');
      expect(h.engine.status(id)!.runAt).to.equal(h.now() + 77);
      h.advance(77);
      claimIds(h.engine, 'q');
      expect(h.engine.nack(id, { delay: 0, error: 'e2' })).to.equal('ready');
      claimIds(h.engine, 'q');
      expect(h.engine.nack(id, { delay: 0 })).to.equal('dead');
      expect(h.engine.status(id)!.lastError).to.equal('e2');
      const other = h.engine.enqueue('q', 'o', { retries: 5 });
      claimIds(h.engine, 'q');
      expect(h.engine.nack(other, { noRetry: true })).to.equal('dead');
    });

    it('defaults come from the config; BACKOFF above the default max raises the max', () => {
      const h = harness({ defaultBackoff: 200, defaultBackoffMax: 500, backoffJitter: 0 });
      const a = h.engine.enqueue('q', 'a', {});
      expect(h.engine.status(a)!).to.include({ backoffBase: 200, backoffMax: 500, retries: 3, lease: 30_000 });
      const b = h.engine.enqueue('q', 'b', { backoffBase: 800 });
      expect(h.engine.status(b)!.backoffMax).to.equal(800);
    });
  });

  describe('TTL', () => {
    it('a job not completed within TTL is dead with last-error expired, in any state', () => {
      const h = harness();
      const ready = h.engine.enqueue('q', 'r', { ttl: 1000 });
      const scheduled = h.engine.enqueue('q', 's', { ttl: 1000, delay: 5000 });
      const active = h.engine.enqueue('q', 'a', { ttl: 1000, priority: HIGH });
      expect(claimIds(h.engine, 'q')).to.deep.equal([active]);
      const done = h.engine.enqueue('q', 'd', { ttl: 1000, priority: HIGH });
      claimIds(h.engine, 'q');
      h.engine.ack(done, null);
      h.advance(999);
      expect(stateOf(h.engine, active)).to.equal('active');
      h.advance(1);
      for (const id of [ready, scheduled, active]) {
        expect(stateOf(h.engine, id), id).to.equal('dead');
        expect(h.engine.status(id)!.lastError).to.equal('expired');
      }
      expect(stateOf(h.engine, done)).to.equal('completed');
      expect(h.engine.status(active)!.leaseUntil).to.equal(0);
      expect(engineError(() => h.engine.ack(active, null, 1)).code).to.equal('STALE');
      expect(engineError(() => h.engine.ack(active, null)).code).to.equal('STATE');
      expect(h.engine.queue('q')!.counters).to.include({ failed: 0, retried: 0, expiredLeases: 0 });
    });

    it('TTL before a lease: the TTL wins; the lease of a live job still expires normally', () => {
      const h = harness();
      const id = h.engine.enqueue('q', 'p', { ttl: 300, lease: 100 });
      claimIds(h.engine, 'q');
      h.advance(100);
      expect(stateOf(h.engine, id)).to.equal('ready');
      claimIds(h.engine, 'q');
      h.advance(200);
      expect(stateOf(h.engine, id)).to.equal('dead');
      expect(h.engine.status(id)!.lastError).to.equal('expired');
    });
  });

  describe('retention', () => {
    it('completed jobs are removed after completed-retention ms', () => {
      const h = harness({}, { completedMs: 1000 });
      const id = h.engine.enqueue('q', 'p', {});
      claimIds(h.engine, 'q');
      h.engine.ack(id, 'r');
      h.advance(999);
      expect(stateOf(h.engine, id)).to.equal('completed');
      h.advance(1);
      expect(h.engine.status(id)).to.equal(undefined);
      expect(h.engine.store.heap.size).to.equal(0);
    });

    it('dead and cancelled jobs by dead-retention and cancelled-retention', () => {
      const h = harness({}, { deadMs: 500, cancelledMs: 200 });
      const dead = h.engine.enqueue('q', 'd', { retries: 0 });
      claimIds(h.engine, 'q');
      h.engine.nack(dead, {});
      const cancelled = h.engine.enqueue('q', 'c', {});
      h.engine.cancel(cancelled);
      h.advance(200);
      expect(h.engine.status(cancelled)).to.equal(undefined);
      expect(stateOf(h.engine, dead)).to.equal('dead');
      h.advance(300);
      expect(h.engine.status(dead)).to.equal(undefined);
    });

    it('completed-max keeps the newest n completed jobs per queue', () => {
      const h = harness({}, { completedMax: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(h.engine.enqueue('q', `p${i}`, {}));
        claimIds(h.engine, 'q');
        h.engine.ack(ids[i], null);
        h.advance(1);
      }
      expect(ids.map((id) => stateOf(h.engine, id))).to.deep.equal([undefined, undefined, 'completed', 'completed']);
      expect(h.engine.queue('q')!.completed.size).to.equal(2);
      h.advance(RETENTION.completedMs);
      expect(h.engine.store.jobs.size).to.equal(0);
    });

    it('completed-max 0 removes a job as it completes and leaves nothing behind', () => {
      const h = harness({}, { completedMax: 0, deadMax: 0, completedMs: 1000 });
      const a = h.engine.enqueue('q', 'a', { id: 'fixed' });
      claimIds(h.engine, 'q');
      expect(h.engine.ack(a, null)).to.equal(1);
      expect(h.engine.status(a)).to.equal(undefined);
      expect(h.engine.store.heap.size, 'no removed job left in the deadline heap').to.equal(0);
      // the id is free again; the new job must survive the old one's retention deadline
      h.engine.enqueue('q', 'again', { id: 'fixed' });
      h.engine.enqueue('q', 'other', {});
      h.advance(1000);
      expect(stateOf(h.engine, 'fixed')).to.equal('ready');
      expect(h.engine.queue('q')!.readyCount).to.equal(2);
      expect(claimIds(h.engine, 'q', 5)).to.have.length(2);
      const d = h.engine.enqueue('q', 'd', { retries: 0 });
      claimIds(h.engine, 'q');
      h.engine.nack(d, {});
      expect(h.engine.status(d)).to.equal(undefined);
      expect(() => h.advance(10 * DAY)).to.not.throw();
    });
  });

  describe('ids', () => {
    it('ENQUEUE with an existing ID returns it and creates nothing; counted once', () => {
      const h = harness();
      expect(h.engine.enqueue('q', 'a', { id: 'x' })).to.equal('x');
      expect(h.engine.enqueue('q', 'b', { id: 'x', priority: HIGH })).to.equal('x');
      expect(h.engine.status('x')!.payload).to.equal('a');
      expect(h.engine.queue('q')!.counters.enqueued).to.equal(1);
      expect(h.records.filter((r) => r.type === 'enqueue')).to.have.length(1);
    });

    it('an existing ID is accepted even on a full queue', () => {
      const h = harness();
      h.engine.setMaxlen('q', 1);
      h.engine.enqueue('q', 'a', { id: 'x' });
      expect(engineError(() => h.engine.enqueue('q', 'b', {})).code).to.equal('FULL');
      expect(h.engine.enqueue('q', 'b', { id: 'x' })).to.equal('x');
    });

    it('server ids are never reused and skip ids taken by clients', () => {
      const h = harness();
      const a = h.engine.enqueue('q', 'a', {});
      h.engine.enqueue('q', 'taken', { id: String(Number(a) + 1) });
      const b = h.engine.enqueue('q', 'b', {});
      expect(b).to.not.equal(String(Number(a) + 1));
      h.engine.purge('q', 'waiting');
      const c = h.engine.enqueue('q', 'c', {});
      expect([a, b]).to.not.include(c);
      expect(Number(c)).to.be.greaterThan(Number(b));
    });

    it('an ID is reusable once its job is gone (purged or removed by retention)', () => {
      const h = harness({}, { completedMs: 100 });
      h.engine.enqueue('q', 'a', { id: 'x' });
      h.engine.purge('q', 'waiting');
      expect(h.engine.status('x')).to.equal(undefined);
      h.engine.enqueue('q', 'b', { id: 'x' });
      expect(h.engine.status('x')!.payload).to.equal('b');
      claimIds(h.engine, 'q');
      h.engine.ack('x', null);
      h.advance(100);
      expect(h.engine.status('x')).to.equal(undefined);
      h.engine.enqueue('q', 'c', { id: 'x' });
      expect(h.engine.status('x')!.payload).to.equal('c');
    });
  });

  describe('replaying the journal', () => {
    /** the observable state of a store: every job's fields and every queue's lists and counters */
    function snapshot(store: JobStore) {
      const jobs = [...store.jobs.values()]
        .map((j) => ({
          id: j.id,
          queue: j.queue,
          payload: j.payload,
          priority: j.priority,
          state: STATE_NAMES[j.state],
          deliveries: j.deliveries,
          retries: j.retries,
          runAt: j.runAt,
          leaseUntil: j.leaseUntil,
          deliveryLease: j.deliveryLease,
          lastError: j.lastError,
          result: j.result,
          createdAt: j.createdAt,
          updatedAt: j.updatedAt,
          finishedAt: j.finishedAt,
          expiresAt: j.expiresAt,
          deadline: j.heapIndex >= 0 ? j.deadline : null,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const queues = [...store.queues.values()]
        .map((q) => ({
          name: q.name,
          paused: q.paused,
          maxlen: q.maxlen,
          counters: { ...q.counters },
          lists: Object.fromEntries((['scheduled', 'active', 'completed', 'dead', 'cancelled'] as const).map((k) => [k, [...q[k]].map((j) => j.id)])),
          ready: q.ready.map((l) => [...l].map((j) => j.id)),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      return { jobs, queues, nextSeq: store.nextSeq, heap: store.heap.size };
    }

    function replay(records: LogRecord[], retention: Partial<RetentionPolicy> = {}): JobStore {
      const store = new JobStore({ ...RETENTION, ...retention });
      for (const rec of records) applyRecord(store, rec);
      return store;
    }

    it('rebuilds exactly the live state from the records (no time-driven moves)', () => {
      const h = harness();
      const e = h.engine;
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(e.enqueue(i % 2 ? 'a' : 'b', `p${i}`, { priority: (i % 3) as Priority, retries: i % 4 }));
      e.enqueue('a', 'mine', { id: 'client-id', ttl: 60_000, lease: 5000 });
      e.enqueue('a', 'later', { delay: 60_000 });
      h.advance(10);
      const claimed = claimIds(e, 'a', 5, 2000);
      claimIds(e, 'b', 3);
      h.advance(10);
      e.ack(claimed[0], 'result-0');
      e.nack(claimed[1], { error: 'boom', delay: 0 });
      e.nack(claimed[2], { error: 'worse', noRetry: true });
      e.nack(claimed[3], {});
      e.touch(claimed[4], 9000);
      e.cancel(ids[10]);
      e.requeue(claimed[2]);
      e.setPaused('b', true);
      e.setMaxlen('a', 100);
      e.purge('b', 'cancelled');
      h.advance(10);
      claimIds(e, 'a', 2);
      e.purge('a', 'completed');
      e.enqueue('a', 'reused', { id: claimed[0] });
      const live = snapshot(e.store);
      const replayed = snapshot(replay(h.records));
      expect(replayed).to.deep.equal(live);
    });

    it('yields the same states after leases, backoffs, TTLs, delays and retention, once time has been applied', () => {
      const rand = prng(99);
      const h = harness({ requeueOnDisconnect: true }, { completedMax: 5, completedMs: 2000, deadMs: 3000, cancelledMs: 1000 });
      const e = h.engine;
      const queues = ['q1', 'q2', '__proto__'];
      for (let step = 0; step < 1500; step++) {
        const queue = queues[Math.floor(rand() * queues.length)];
        const x = rand();
        try {
          if (x < 0.3) {
            e.enqueue(queue, `p${step}`, {
              priority: Math.floor(rand() * 3) as Priority,
              delay: rand() < 0.2 ? Math.floor(rand() * 500) : undefined,
              retries: Math.floor(rand() * 3),
              backoffBase: 10 + Math.floor(rand() * 100),
              lease: 50 + Math.floor(rand() * 300),
              ttl: rand() < 0.2 ? 100 + Math.floor(rand() * 1000) : undefined,
              id: rand() < 0.1 ? `c${Math.floor(rand() * 20)}` : undefined,
            });
          } else if (x < 0.5) {
            claimIds(e, queue, 1 + Math.floor(rand() * 3), rand() < 0.3 ? 100 : undefined, 1 + Math.floor(rand() * 3));
          } else {
            const active = [...(e.queue(queue)?.active ?? [])];
            const job = active[Math.floor(rand() * active.length)];
            if (x < 0.62 && job) e.ack(job.id, rand() < 0.5 ? 'ok' : null, rand() < 0.5 ? job.deliveries : undefined);
            else if (x < 0.72 && job) e.nack(job.id, { delay: rand() < 0.3 ? 0 : undefined, error: 'e', noRetry: rand() < 0.1 });
            else if (x < 0.75 && job) e.touch(job.id, 200);
            else if (x < 0.77) e.releaseOwner(1 + Math.floor(rand() * 3));
            else if (x < 0.8) {
              const any = [...e.store.jobs.keys()];
              if (any.length) e.cancel(any[Math.floor(rand() * any.length)]);
            } else if (x < 0.82) e.requeueAllDead(queue);
            else if (x < 0.83) e.purge(queue, (['dead', 'completed', 'cancelled', 'all', 'waiting'] as const)[Math.floor(rand() * 5)]);
            else if (x < 0.84) e.setPaused(queue, rand() < 0.5);
            else h.advance(Math.floor(rand() * 120));
          }
        } catch (err) {
          if (!(err instanceof EngineError)) throw err;
        }
      }
      expect(h.records.length).to.be.greaterThan(500);
      const types = new Set(h.records.map((r) => r.type));
      for (const t of ['enqueue', 'claim', 'ack', 'nack', 'touch', 'lease-lost', 'ttl-expired', 'cancel', 'requeue', 'purge', 'queue-config']) {
        expect(types.has(t as LogRecord['type']), `records include ${t}`).to.equal(true);
      }
      // a fresh engine on the replayed store, at the same time, applies what time alone does
      // (scheduled -> ready, retention); then every job is in the same state as live.
      const fresh = new Engine({
        config: { ...CONFIG, requeueOnDisconnect: true },
        retention: { ...RETENTION, completedMax: 5, completedMs: 2000, deadMs: 3000, cancelledMs: 1000 },
        journal: { append() {} },
        clock: { now: () => h.now() },
        random: () => 0.5,
      });
      for (const rec of h.records) applyRecord(fresh.store, rec);
      fresh.tick(h.now());
      const byState = (s: JobStore) =>
        Object.fromEntries(
          [...s.jobs.values()].map((j) => [j.id, `${STATE_NAMES[j.state]}/${j.deliveries}/${j.lastError}/${j.result}/${j.runAt}/${j.leaseUntil}`]),
        );
      expect(byState(fresh.store)).to.deep.equal(byState(h.engine.store));
      for (const [name, q] of h.engine.store.queues) {
        const r = fresh.store.queues.get(name);
        expect(r, `queue ${name}`).to.not.equal(undefined);
        expect({ ...r!.counters }, `counters of ${name}`).to.deep.equal({ ...q.counters });
        expect(r!.paused).to.equal(q.paused);
      }
      expect(fresh.store.nextSeq).to.equal(h.engine.store.nextSeq);
    });
  });
});
