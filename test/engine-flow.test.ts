import { expect } from 'chai';
import * as fs from 'fs';
import { Engine, EngineConfig } from '../server/engine/engine';
import { EngineError } from '../server/engine/engine-errors';
import { Job, JobState, Priority, STATE_NAMES } from '../server/engine/job';
import { JobStore, RetentionPolicy } from '../server/engine/job-store';
import { LogRecord } from '../server/engine/records';
import { applyRecord } from '../server/engine/apply-record';
import { TokenBucket } from '../server/engine/token-bucket';
import { QueueState } from '../server/engine/queue-state';
import { GroupState } from '../server/engine/group-state';
import { NO_LIMITS, effectiveLimits } from '../server/engine/flow-limits';
import { groupOverrideFromWords, queueSettingsFromWords } from '../server/rules/flow-settings';
import { tmpDir } from './helpers/persistence-fs';
import { openDir, prng } from './helpers/persistence-workload';

/**
 * Flow control (issue 14) in the engine alone: a fake clock advanced by the
 * tests and engine.tick(), no sockets. Groups and their rotation, group
 * concurrency (1 = FIFO per key with retries), queue and group rates (token
 * buckets, blocked claims woken at the next token via nextDeadline/tick),
 * group MAXLEN with blocked producers, overrides, PEEK == CLAIM order, and
 * the group state rebuilt by log replay and by a snapshot.
 */

const T0 = 1_800_000_000_000;
const CONFIG: EngineConfig = {
  defaultRetries: 3,
  defaultBackoff: 1000,
  defaultBackoffMax: 60_000,
  backoffJitter: 0,
  defaultLease: 30_000,
  defaultMaxlen: 0,
  requeueOnDisconnect: false,
  priorityWeights: [6, 3, 1],
};
const RETENTION: RetentionPolicy = { completedMs: 1e12, completedMax: 1_000_000, deadMs: 1e12, deadMax: 1_000_000, cancelledMs: 1e12 };
const HIGH: Priority = 0;
const NORMAL: Priority = 1;
const LOW: Priority = 2;

interface Harness {
  e: Engine;
  records: LogRecord[];
  now(): number;
  /** moves the clock forward by ms and runs what is due */
  advance(ms: number): void;
  /** sets the clock to `at` (forward only) and runs what is due */
  to(at: number): void;
}

function harness(config: Partial<EngineConfig> = {}): Harness {
  let t = T0;
  const records: LogRecord[] = [];
  const e = new Engine({
    config: { ...CONFIG, ...config },
    retention: RETENTION,
    journal: { append: (r) => records.push(r) },
    clock: { now: () => t },
    random: () => 0.5,
  });
  return {
    e,
    records,
    now: () => t,
    advance(ms) {
      t += ms;
      e.tick(t);
    },
    to(at) {
      expect(at).to.be.at.least(t);
      t = at;
      e.tick(t);
    },
  };
}

/** QCONFIG and GROUP CONFIG as the RESP handlers parse them */
function qconfig(e: Engine, queue: string, ...words: Array<string | number>): void {
  e.configureQueue(queue, queueSettingsFromWords(['QCONFIG', queue, ...words.map(String)], 2, e.queue(queue)?.groupDefaults ?? NO_LIMITS));
}
function groupConfig(e: Engine, queue: string, key: string, ...words: Array<string | number>): void {
  e.configureGroup(queue, key, groupOverrideFromWords(['GROUP', 'CONFIG', queue, key, ...words.map(String)], 4, e.groupLimits(queue, key).override));
}
function groupReset(e: Engine, queue: string, key: string): void {
  e.configureGroup(queue, key, NO_LIMITS);
}

const claim = (e: Engine, queue: string, count = 1, lease?: number): Job[] => e.claim(queue, { count, lease, owner: 1 });
const claimIds = (e: Engine, queue: string, count = 1, lease?: number): string[] => claim(e, queue, count, lease).map((j) => j.id);
const payloads = (jobs: Job[]): string[] => jobs.map((j) => j.payload);
const state = (e: Engine, id: string) => STATE_NAMES[e.status(id)!.state];

/** enqueues `n` jobs of a group, payloads `${key}:${i}` */
function fill(e: Engine, queue: string, key: string, n: number, priority: Priority = NORMAL, from = 0): string[] {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) ids.push(e.enqueue(queue, `${key}:${i}`, { group: key === '' ? undefined : key, priority }));
  return ids;
}

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(EngineError);
    return err as EngineError;
  }
  throw new Error('expected an EngineError');
}

/** the group state persistence must rebuild: counts, each priority's line in order, rotation membership, settings */
function groupDump(q: QueueState | undefined) {
  if (!q) return null;
  const line = (g: GroupState, p: number): string[] => {
    const ids: string[] = [];
    for (let j = g.ready[p].head; j; j = g.ready[p].after(j)) ids.push(j.id);
    return ids;
  };
  const groups = [...q.groups.values()]
    .filter((g) => g.backlog > 0) // an idle group kept only for its (runtime) bucket is not state
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((g) => ({
      key: g.key,
      backlog: g.backlog,
      active: g.active,
      inProgress: g.inProgress,
      lines: [0, 1, 2].map((p) => line(g, p)),
    }));
  return {
    name: q.name,
    maxlen: q.maxlen,
    concurrency: q.concurrency,
    rate: q.rate,
    groupDefaults: q.groupDefaults,
    overrides: [...q.groupOverrides].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    groups,
  };
}

function storeGroups(store: JobStore) {
  return [...store.queues.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(groupDump);
}

/** checks the bookkeeping of every group against its jobs (counts from scratch) */
function checkGroupInvariants(q: QueueState, jobs: Iterable<Job>): void {
  const want = new Map<string, { backlog: number; active: number; inProgress: number; ready: number }>();
  for (const j of jobs) {
    if (j.queue !== q.name || j.state > JobState.Active) continue;
    const w = want.get(j.group) ?? { backlog: 0, active: 0, inProgress: 0, ready: 0 };
    w.backlog++;
    if (j.state === JobState.Active) w.active++;
    if (j.state === JobState.Ready) w.ready++;
    if (j.deliveries > 0) w.inProgress++;
    want.set(j.group, w);
  }
  for (const g of q.groups.values()) {
    const w = want.get(g.key) ?? { backlog: 0, active: 0, inProgress: 0, ready: 0 };
    expect({ key: g.key, backlog: g.backlog, active: g.active, inProgress: g.inProgress, ready: g.readyCount }).to.deep.equal({ key: g.key, ...w });
  }
  for (const key of want.keys()) expect(q.groups.has(key), `group ${key} known`).to.equal(true);
  // in a priority's rotation exactly while its oldest ready job there may be handed out
  for (const g of q.groups.values()) {
    const cap = g.key === '' ? null : effectiveLimits(q.groupDefaults, q.groupOverrides.get(g.key)).concurrency;
    for (let p = 0; p < 3; p++) {
      const head = g.ready[p].head;
      const may = head !== null && !g.tokenBlocked && (head.deliveries > 0 || cap === null || g.inProgress < cap);
      expect(g.ringNodes[p]?.linked ?? false, `group ${g.key} in rotation ${p}`).to.equal(may);
    }
  }
  let linked = 0;
  for (const g of q.groups.values()) for (let p = 0; p < 3; p++) if (g.ringNodes[p]?.linked) linked++;
  expect(linked).to.equal(q.rings[0].size + q.rings[1].size + q.rings[2].size);
}

describe('engine flow control (fake clock)', () => {
  describe('token bucket', () => {
    it('starts full (or empty after a restart), refills rate/per, holds at most rate', () => {
      const b = new TokenBucket(4, 1000, 0);
      expect(b.available(0)).to.equal(4);
      for (let i = 0; i < 4; i++) b.take(0);
      expect(b.available(0)).to.equal(0);
      expect(b.available(125)).to.equal(0.5);
      expect(b.available(250)).to.equal(1);
      expect(b.available(10_000)).to.equal(4); // capped at one window's worth
      const empty = new TokenBucket(4, 1000, 0, false);
      expect(empty.available(0)).to.equal(0);
      expect(empty.available(500)).to.equal(2);
    });

    it('nextTokenAt is the first ms with a whole token; fullAt when it holds rate again', () => {
      const b = new TokenBucket(3, 1000, 0);
      expect(b.nextTokenAt(0)).to.equal(0);
      b.take(0);
      b.take(0);
      b.take(0);
      expect(b.nextTokenAt(0)).to.equal(334); // 1000/3 = 333.3.. rounded up: never early
      expect(b.available(333)).to.be.below(1);
      expect(b.available(334)).to.be.at.least(1);
      expect(b.fullAt(334)).to.equal(1000);
      expect(b.available(1000)).to.equal(3);
      expect(b.fullAt(1000)).to.equal(1000);
    });

    it('time running backwards takes no token and adds none', () => {
      const b = new TokenBucket(10, 1000, 1000);
      b.take(1000);
      expect(b.available(500)).to.equal(9);
      expect(b.available(1000)).to.equal(9);
    });

    it('resize keeps the tokens earned up to the new size', () => {
      const b = new TokenBucket(10, 1000, 0);
      b.resize(2, 1000, 0);
      expect(b.available(0)).to.equal(2);
      b.take(0);
      b.resize(100, 1000, 0);
      expect(b.available(0)).to.equal(1);
      expect(b.available(10)).to.equal(2); // refills at the new rate
    });

    it('over any window a bucket hands out at most rate + rate * window / per (randomized claim times)', () => {
      const rnd = prng(7);
      for (let round = 0; round < 20; round++) {
        const rate = 2 + Math.floor(rnd() * 20); // (a bucket of 1 loses the fraction earned while it is full)
        const per = 100 + Math.floor(rnd() * 2000);
        const b = new TokenBucket(rate, per, 0);
        const taken: number[] = [];
        let t = 0;
        for (let i = 0; i < 2000; i++) {
          t += Math.floor(rnd() * (per / rate));
          while (b.available(t) >= 1) {
            b.take(t);
            taken.push(t);
          }
        }
        // any window [t, t + per) holds at most 2 * rate takes (one full bucket + one window's refill)
        for (let i = 0, j = 0; i < taken.length; i++) {
          while (taken[j] < taken[i] - per + 1) j++;
          expect(i - j + 1).to.be.at.most(2 * rate);
        }
        // overall close to rate/per after the first burst
        const expected = rate + (t * rate) / per;
        expect(taken.length).to.be.at.most(Math.floor(expected) + 1);
        expect(taken.length).to.be.at.least(Math.floor(expected) - rate - 1);
      }
    });
  });

  describe('rotation across groups', () => {
    it('1 tenant with 1,000 jobs and 10 tenants with 10: every window of 11 claims has one job of each tenant until the small ones are done', () => {
      const h = harness();
      fill(h.e, 'q', 'big', 1000);
      const small = Array.from({ length: 10 }, (_, i) => `t${i}`);
      for (const k of small) fill(h.e, 'q', k, 10);
      const got: string[] = [];
      for (let i = 0; i < 130; i++) got.push(claim(h.e, 'q')[0].group);
      for (let w = 0; w < 10; w++) {
        const window = got.slice(w * 11, w * 11 + 11);
        expect(new Set(window).size, `window ${w}: ${window.join(',')}`).to.equal(11);
      }
      // every small tenant finished within the first 110 claims; then the big one has the queue
      const lastSmall = Math.max(...small.map((k) => got.lastIndexOf(k)));
      expect(lastSmall).to.be.below(110);
      expect(got.slice(110).every((k) => k === 'big')).to.equal(true);
      const share = got.slice(0, 110).filter((k) => k === 'big').length / 110;
      expect(share).to.be.closeTo(1 / 11, 0.001);
    });

    it('claims of COUNT n rotate too; a group keeps its FIFO order', () => {
      const h = harness();
      fill(h.e, 'q', 'a', 5);
      fill(h.e, 'q', 'b', 5);
      fill(h.e, 'q', 'c', 2);
      expect(payloads(claim(h.e, 'q', 7))).to.deep.equal(['a:0', 'b:0', 'c:0', 'a:1', 'b:1', 'c:1', 'a:2']);
      expect(payloads(claim(h.e, 'q', 10))).to.deep.equal(['b:2', 'a:3', 'b:3', 'a:4', 'b:4']);
    });

    it('ungrouped jobs share one turn, like one group', () => {
      const h = harness();
      fill(h.e, 'q', '', 100);
      fill(h.e, 'q', 'a', 3);
      fill(h.e, 'q', 'b', 3);
      const got = claim(h.e, 'q', 9).map((j) => j.group || '-');
      expect(got).to.deep.equal(['-', 'a', 'b', '-', 'a', 'b', '-', 'a', 'b']);
    });

    it('a group that comes back after being empty joins the back of the rotation', () => {
      const h = harness();
      fill(h.e, 'q', 'a', 1);
      fill(h.e, 'q', 'b', 3);
      fill(h.e, 'q', 'c', 3);
      expect(payloads(claim(h.e, 'q', 2))).to.deep.equal(['a:0', 'b:0']);
      fill(h.e, 'q', 'a', 1, NORMAL, 1);
      expect(payloads(claim(h.e, 'q', 4))).to.deep.equal(['c:0', 'b:1', 'a:1', 'c:1']);
    });

    it('priority weights are honoured with groups: 6 high, 3 normal, 1 low per 10, groups in turn within each priority', () => {
      const h = harness();
      for (const k of ['a', 'b', 'c']) {
        fill(h.e, 'q', k, 40, HIGH);
        fill(h.e, 'q', k, 40, NORMAL, 100);
        fill(h.e, 'q', k, 40, LOW, 200);
      }
      const jobs = claim(h.e, 'q', 100);
      const prios = jobs.map((j) => j.priority);
      for (let w = 0; w < 10; w++) {
        const window = prios.slice(w * 10, w * 10 + 10);
        expect([0, 1, 2].map((p) => window.filter((x) => x === p).length)).to.deep.equal([6, 3, 1]);
      }
      for (const p of [HIGH, NORMAL, LOW]) {
        const groups = jobs.filter((j) => j.priority === p).map((j) => j.group);
        for (let i = 0; i + 3 <= groups.length; i += 3) expect(new Set(groups.slice(i, i + 3)).size).to.equal(3);
      }
    });
  });

  describe('ordered groups (GROUP-CONCURRENCY 1)', () => {
    it('the next job of a key is handed out only after the previous one is completed or dead, retries first (NACK + backoff)', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
      const a = fill(h.e, 'q', 'a', 4);
      const b = fill(h.e, 'q', 'b', 2);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[0], b[0]]);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([]);
      // a failed delivery waiting for its backoff still holds the key
      expect(h.e.nack(a[0], { delay: 1000 })).to.equal('scheduled');
      expect(h.e.groupLimits('q', 'a').limits.concurrency).to.equal(1);
      expect(h.e.queue('q')!.groups.get('a')!.inProgress).to.equal(1);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([]);
      h.advance(999);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([]);
      h.advance(1);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[0]]); // the retry, not a[1]
      // a retry with no delay goes to the front of its group at once
      expect(h.e.nack(a[0], { delay: 0 })).to.equal('ready');
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[0]]);
      h.e.ack(a[0], null);
      h.e.ack(b[0], null);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[1], b[1]]);
      checkGroupInvariants(h.e.queue('q')!, h.e.store.jobs.values());
    });

    it('lease expiry redelivers the same job before the next one of its key; the last allowed delivery makes it dead and frees the key', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
      const a = [0, 1].map((i) => h.e.enqueue('q', `a:${i}`, { group: 'a', retries: 1 }));
      expect(claimIds(h.e, 'q', 5, 100)).to.deep.equal([a[0]]);
      h.advance(100); // lease lost: ready again, at the front
      expect(state(h.e, a[0])).to.equal('ready');
      expect(claimIds(h.e, 'q', 5, 100)).to.deep.equal([a[0]]);
      expect(h.e.status(a[0])!.deliveries).to.equal(2);
      h.advance(100); // out of deliveries: dead, and the key moves on
      expect(state(h.e, a[0])).to.equal('dead');
      expect(claimIds(h.e, 'q', 5)).to.deep.equal([a[1]]);
    });

    it('NACK NORETRY (dead) frees the key; cancelling the waiting retry frees it too', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
      const a = fill(h.e, 'q', 'a', 3);
      expect(claimIds(h.e, 'q', 5)).to.deep.equal([a[0]]);
      expect(h.e.nack(a[0], { noRetry: true })).to.equal('dead');
      expect(claimIds(h.e, 'q', 5)).to.deep.equal([a[1]]);
      expect(h.e.nack(a[1], { delay: 60_000 })).to.equal('scheduled');
      expect(claimIds(h.e, 'q', 5)).to.deep.equal([]);
      expect(h.e.cancel(a[1])).to.equal(1);
      expect(claimIds(h.e, 'q', 5)).to.deep.equal([a[2]]);
      expect(h.e.queue('q')!.groups.get('a')!.inProgress).to.equal(1);
    });

    it('a requeued dead job is new work: it joins the back of its key and waits its turn', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
      const a = fill(h.e, 'q', 'a', 3);
      claim(h.e, 'q');
      h.e.nack(a[0], { noRetry: true });
      expect(claimIds(h.e, 'q')).to.deep.equal([a[1]]);
      expect(h.e.requeue(a[0])).to.equal(1);
      expect(claimIds(h.e, 'q')).to.deep.equal([]); // a[1] still holds the key
      h.e.ack(a[1], null);
      expect(claimIds(h.e, 'q')).to.deep.equal([a[2]]);
      h.e.ack(a[2], null);
      expect(claimIds(h.e, 'q')).to.deep.equal([a[0]]);
    });

    it('many keys in parallel, random failures, retries and lease expiries: each key handed out and completed in enqueue order (property)', () => {
      for (let seed = 1; seed <= 10; seed++) {
        const rnd = prng(seed);
        const h = harness();
        qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
        const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
        const next = new Map(keys.map((k) => [k, 0]));
        for (let i = 0; i < 200; i++) {
          const k = keys[Math.floor(rnd() * keys.length)];
          h.e.enqueue('q', `${k}:${next.get(k)}`, { group: k, retries: 1000 });
          next.set(k, next.get(k)! + 1);
        }
        const firstClaims = new Map<string, number[]>();
        const done = new Map<string, number[]>();
        const active = new Set<Job>();
        const n = (j: Job) => Number(j.payload.split(':')[1]);
        for (let step = 0; step < 20_000 && [...done.values()].reduce((s, l) => s + l.length, 0) < 200; step++) {
          const r = rnd();
          if (r < 0.4) {
            for (const j of claim(h.e, 'q', 1 + Math.floor(rnd() * 3), 50)) {
              active.add(j);
              if (j.deliveries === 1) firstClaims.set(j.group, [...(firstClaims.get(j.group) ?? []), n(j)]);
            }
          } else if (active.size > 0 && r < 0.9) {
            const j = [...active][Math.floor(rnd() * active.size)];
            active.delete(j);
            const what = rnd();
            if (what < 0.6) {
              h.e.ack(j.id, null);
              done.set(j.group, [...(done.get(j.group) ?? []), n(j)]);
            } else h.e.nack(j.id, { delay: what < 0.8 ? 0 : 30 });
          } else {
            h.advance(10); // delayed retries come back; some leases run out
            for (const j of [...active]) if (j.state !== JobState.Active) active.delete(j);
          }
          for (const g of h.e.queue('q')!.groups.values()) expect(g.inProgress).to.be.at.most(1);
        }
        for (const k of keys) {
          const all = Array.from({ length: next.get(k)! }, (_, i) => i);
          expect(firstClaims.get(k) ?? [], `seed ${seed} key ${k} claims`).to.deep.equal(all);
          expect(done.get(k) ?? [], `seed ${seed} key ${k} completions`).to.deep.equal(all);
        }
        checkGroupInvariants(h.e.queue('q')!, h.e.store.jobs.values());
      }
    });
  });

  describe('group concurrency n', () => {
    it('at most n jobs of a key handed out and unfinished; a waiting retry counts; slots free at ACK', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 3);
      const a = fill(h.e, 'q', 'a', 10);
      const b = fill(h.e, 'q', 'b', 1);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[0], b[0], a[1], a[2]]);
      h.e.nack(a[1], { delay: 500 });
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([]);
      h.e.ack(a[0], null);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[3]]);
      h.advance(500);
      expect(claimIds(h.e, 'q', 10)).to.deep.equal([a[1]]); // a retry always may go: it holds its slot already
      const g = h.e.queue('q')!.groups.get('a')!;
      expect({ active: g.active, inProgress: g.inProgress, backlog: g.backlog }).to.deep.equal({ active: 3, inProgress: 3, backlog: 9 });
      checkGroupInvariants(h.e.queue('q')!, h.e.store.jobs.values());
    });

    it('a blocked CLAIM is served when a slot of a group frees', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
      const a = fill(h.e, 'q', 'a', 2);
      claim(h.e, 'q');
      const got: string[][] = [];
      h.e.waitForJobs('q', { count: 5, owner: 2 }, (jobs) => got.push(jobs.map((j) => j.id)));
      expect(got).to.deep.equal([]);
      h.e.ack(a[0], null);
      expect(got).to.deep.equal([[a[1]]]);
    });
  });

  describe('rates', () => {
    it('queue RATE: a full bucket first, then one claim per token; a blocked CLAIM wakes exactly at nextDeadline()', () => {
      const h = harness();
      qconfig(h.e, 'q', 'RATE', 5, 'PER', 1000);
      fill(h.e, 'q', '', 100);
      expect(claim(h.e, 'q', 10)).to.have.length(5);
      expect(claim(h.e, 'q', 10)).to.have.length(0);
      const got: number[] = [];
      h.e.waitForJobs('q', { count: 10, owner: 2 }, (jobs) => got.push(jobs.length));
      const at = h.e.nextDeadline();
      expect(at).to.equal(h.now() + 200);
      h.to(at - 1);
      expect(got).to.deep.equal([]);
      h.to(at);
      expect(got).to.deep.equal([1]);
      // over 10 s with a waiter always parked: 5 + 50 claims (+1 for rounding), never more
      let claimed = 5 + 1;
      const end = h.now() + 10_000;
      const park = () => h.e.waitForJobs('q', { count: 10, owner: 2 }, (jobs) => ((claimed += jobs.length), park()));
      park();
      let wakes = 0;
      while (h.e.nextDeadline() <= end) {
        h.to(h.e.nextDeadline());
        wakes++;
      }
      expect(claimed).to.be.within(5 + 50, 5 + 51);
      expect(wakes).to.be.within(49, 52); // no polling: one wake-up per token
    });

    it('a CLAIM without BLOCK under a rate gets what the tokens allow; PEEK shows the same', () => {
      const h = harness();
      qconfig(h.e, 'q', 'RATE', 2, 'PER', 100);
      fill(h.e, 'q', 'a', 10);
      expect(h.e.peek('q', 10)).to.have.length(2);
      expect(claim(h.e, 'q', 10)).to.have.length(2);
      h.advance(50);
      expect(h.e.peek('q', 10)).to.have.length(1);
      expect(claim(h.e, 'q', 10)).to.have.length(1);
    });

    it('QCONFIG RATE 0 lifts the limit at once and serves a blocked CLAIM', () => {
      const h = harness();
      qconfig(h.e, 'q', 'RATE', 1, 'PER', 60_000);
      fill(h.e, 'q', '', 5);
      claim(h.e, 'q', 5);
      const got: number[] = [];
      h.e.waitForJobs('q', { count: 10, owner: 2 }, (jobs) => got.push(jobs.length));
      qconfig(h.e, 'q', 'RATE', 0);
      expect(got).to.deep.equal([4]);
    });

    it('GROUP-RATE: each group has its own bucket; one out of tokens leaves the rotation and comes back at its next token', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-RATE', 2, 'PER', 1000);
      fill(h.e, 'q', 'a', 10);
      fill(h.e, 'q', 'b', 10);
      fill(h.e, 'q', '', 3); // ungrouped jobs have no group limit
      const first = claim(h.e, 'q', 100).map((j) => j.group || '-');
      expect(first).to.deep.equal(['a', 'b', '-', 'a', 'b', '-', '-']);
      const got: string[][] = [];
      h.e.waitForJobs('q', { count: 10, owner: 2 }, (jobs) => got.push(jobs.map((j) => j.group)));
      expect(h.e.nextDeadline()).to.equal(h.now() + 500);
      h.to(h.now() + 499);
      expect(got).to.deep.equal([]);
      h.to(h.now() + 1);
      expect(got).to.have.length(1);
      expect([...got[0]].sort()).to.deep.equal(['a', 'b']);
    });

    it('queue RATE and GROUP-RATE together: the tighter one wins', () => {
      const h = harness();
      qconfig(h.e, 'q', 'RATE', 3, 'GROUP-RATE', 10);
      fill(h.e, 'q', 'a', 10);
      fill(h.e, 'q', 'b', 10);
      expect(claim(h.e, 'q', 100)).to.have.length(3);
      qconfig(h.e, 'q', 'RATE', 0, 'GROUP-RATE', 1);
      // the buckets keep the tokens earned, up to the new size: a and b took 2 and 1 of 10 -> 1 each now
      expect(
        claim(h.e, 'q', 100)
          .map((j) => j.group)
          .sort(),
      ).to.deep.equal(['a', 'b']);
      expect(claim(h.e, 'q', 100)).to.have.length(0);
    });
  });

  describe('group MAXLEN', () => {
    it('-FULL for a full group only; blocked producers of two groups: one full group does not hold back the other', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-MAXLEN', 2);
      fill(h.e, 'q', 'a', 2);
      fill(h.e, 'q', 'b', 2);
      expect(engineError(() => h.e.enqueue('q', 'a:x', { group: 'a' })).message).to.match(/group is at its max length/);
      expect(() => h.e.enqueue('q', 'c:0', { group: 'c' })).not.to.throw();
      expect(() => h.e.enqueue('q', 'free', {})).not.to.throw();
      // ENQUEUE ... BLOCK for a (first in line), then for b: as the RESP handler parks them
      const served: string[] = [];
      const park = (key: string) =>
        h.e.waitForRoom('q', () => {
          if (h.e.isFull('q', key)) return false;
          served.push(h.e.enqueue('q', `${key}:blocked`, { group: key }));
          return true;
        });
      park('a');
      park('b');
      expect(h.e.waiterCounts().enqueue).to.equal(2);
      // room in b: the b producer goes though the a producer came first
      const bJob = claim(h.e, 'q', 10).find((j) => j.group === 'b')!;
      expect(served).to.deep.equal([]); // claimed is still in the group's backlog
      h.e.ack(bJob.id, null);
      expect(served).to.have.length(1);
      expect(h.e.status(served[0])!.group).to.equal('b');
      expect(h.e.waiterCounts().enqueue).to.equal(1);
      const aJob = [...h.e.store.jobs.values()].find((j) => j.group === 'a' && j.state === JobState.Active)!;
      h.e.ack(aJob.id, null);
      expect(served).to.have.length(2);
      expect(h.e.status(served[1])!.group).to.equal('a');
      expect(h.e.waiterCounts().enqueue).to.equal(0);
    });

    it('a GROUP CONFIG MAXLEN raise serves the blocked producer at once; the queue MAXLEN still applies to all', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-MAXLEN', 1, 'MAXLEN', 3);
      fill(h.e, 'q', 'a', 1);
      let served = 0;
      h.e.waitForRoom('q', () => {
        if (h.e.isFull('q', 'a')) return false;
        h.e.enqueue('q', 'a:more', { group: 'a' });
        served++;
        return true;
      });
      groupConfig(h.e, 'q', 'a', 'MAXLEN', 5);
      expect(served).to.equal(1);
      fill(h.e, 'q', 'b', 1);
      expect(engineError(() => h.e.enqueue('q', 'a:x', { group: 'a' })).message).to.match(/queue is at its max length/);
    });
  });

  describe('GROUP CONFIG / RESET apply at once', () => {
    it('an override replaces the defaults for its key (0 lifts one), RESET brings the defaults back', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1, 'GROUP-RATE', 100);
      fill(h.e, 'q', 'a', 10);
      fill(h.e, 'q', 'b', 10);
      expect(claim(h.e, 'q', 10).map((j) => j.group)).to.deep.equal(['a', 'b']);
      const got: string[][] = [];
      h.e.waitForJobs('q', { count: 10, owner: 2 }, (jobs) => got.push(jobs.map((j) => j.group)));
      groupConfig(h.e, 'q', 'a', 'CONCURRENCY', 3);
      expect(got).to.deep.equal([['a', 'a']]); // the parked CLAIM got the two new slots at once
      expect(h.e.groupLimits('q', 'a')).to.deep.equal({
        limits: { concurrency: 3, rate: { rate: 100, per: 1000 }, maxlen: null },
        override: { concurrency: 3, rate: null, maxlen: null },
      });
      groupConfig(h.e, 'q', 'b', 'CONCURRENCY', 0); // 0 lifts the default for b
      expect(claim(h.e, 'q', 100).map((j) => j.group)).to.deep.equal(Array(9).fill('b'));
      groupReset(h.e, 'q', 'a');
      expect(h.e.groupLimits('q', 'a').override).to.equal(null);
      for (const j of [...h.e.store.jobs.values()].filter((x) => x.group === 'a' && x.state === JobState.Active).slice(0, 2)) h.e.ack(j.id, null);
      expect(claim(h.e, 'q', 10)).to.have.length(0); // one a still in progress, the default of 1 is back
    });

    it('a RATE override of a group out of tokens applies at once', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-RATE', 1, 'PER', 60_000);
      fill(h.e, 'q', 'a', 5);
      expect(claim(h.e, 'q', 10)).to.have.length(1);
      groupConfig(h.e, 'q', 'a', 'RATE', 0);
      expect(claim(h.e, 'q', 10)).to.have.length(4);
    });
  });

  describe('PEEK', () => {
    it('equals the following CLAIM order with groups, priorities, retries and limits (randomized)', () => {
      for (let seed = 1; seed <= 40; seed++) {
        const rnd = prng(seed);
        const h = harness();
        if (rnd() < 0.5) qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1 + Math.floor(rnd() * 3));
        if (rnd() < 0.3) qconfig(h.e, 'q', 'GROUP-RATE', 1 + Math.floor(rnd() * 4), 'PER', 1000);
        if (rnd() < 0.3) qconfig(h.e, 'q', 'RATE', 5 + Math.floor(rnd() * 10), 'PER', 1000);
        if (rnd() < 0.3) qconfig(h.e, 'q', 'CONCURRENCY', 5 + Math.floor(rnd() * 10));
        if (rnd() < 0.3) groupConfig(h.e, 'q', 'g1', 'CONCURRENCY', 2, 'RATE', 0);
        for (let step = 0; step < 150; step++) {
          const r = rnd();
          if (r < 0.45) {
            const k = Math.floor(rnd() * 6);
            h.e.enqueue('q', `p${step}`, { group: k === 0 ? undefined : `g${k}`, priority: Math.floor(rnd() * 3) as Priority });
          } else if (r < 0.7) {
            const n = 1 + Math.floor(rnd() * 6);
            const peeked = h.e.peek('q', n).map((j) => j.id);
            const claimed = rnd() < 0.5 ? claimIds(h.e, 'q', n) : Array.from({ length: n }, () => claimIds(h.e, 'q', 1)).flat();
            expect(claimed, `seed ${seed} step ${step}`).to.deep.equal(peeked);
          } else if (r < 0.9) {
            const active = [...h.e.store.jobs.values()].filter((j) => j.state === JobState.Active);
            if (active.length > 0) {
              const j = active[Math.floor(rnd() * active.length)];
              if (rnd() < 0.6) h.e.ack(j.id, null);
              else h.e.nack(j.id, { delay: rnd() < 0.5 ? 0 : 100 });
            }
          } else h.advance(50 + Math.floor(rnd() * 200));
        }
        checkGroupInvariants(h.e.queue('q')!, h.e.store.jobs.values());
      }
    });
  });

  describe('persistence of group state', () => {
    /** random operations on grouped queues, only logged events (scheduled jobs never come due on their own) */
    function groupWorkload(h: { e: Engine; advance(ms: number): void }, steps: number, seed: number): void {
      const rnd = prng(seed);
      const queues = ['q1', 'q2'];
      for (let i = 0; i < steps; i++) {
        const q = queues[Math.floor(rnd() * queues.length)];
        const r = rnd();
        try {
          if (r < 0.4) {
            const k = Math.floor(rnd() * 8);
            h.e.enqueue(q, `j${i}`, { group: k === 0 ? undefined : `k${k}`, priority: Math.floor(rnd() * 3) as Priority, lease: 40, retries: 3 });
          } else if (r < 0.6) {
            claim(h.e, q, 1 + Math.floor(rnd() * 3));
          } else if (r < 0.8) {
            const active = [...h.e.store.jobs.values()].filter((j) => j.state === JobState.Active);
            const j = active[Math.floor(rnd() * active.length)];
            if (j) {
              if (rnd() < 0.5) h.e.ack(j.id, null);
              else h.e.nack(j.id, { delay: rnd() < 0.5 ? 0 : 1e10, noRetry: rnd() < 0.1 });
            }
          } else if (r < 0.83) {
            const j = [...h.e.store.jobs.values()].find((x) => x.state === JobState.Scheduled);
            if (j) h.e.cancel(j.id);
          } else if (r < 0.85) {
            const j = [...h.e.store.jobs.values()].find((x) => x.state === JobState.Dead);
            if (j) h.e.requeue(j.id);
          } else if (r < 0.88) {
            qconfig(h.e, q, 'GROUP-CONCURRENCY', Math.floor(rnd() * 3), 'GROUP-MAXLEN', rnd() < 0.5 ? 0 : 20, 'RATE', rnd() < 0.5 ? 0 : 50);
          } else if (r < 0.91) {
            groupConfig(h.e, q, `k${1 + Math.floor(rnd() * 7)}`, 'CONCURRENCY', Math.floor(rnd() * 3), 'RATE', Math.floor(rnd() * 3), 'PER', 500);
          } else if (r < 0.92) {
            groupReset(h.e, q, `k${1 + Math.floor(rnd() * 7)}`);
          } else {
            h.advance(1 + Math.floor(rnd() * 30)); // lease expiries (logged)
          }
        } catch (err) {
          if (!(err instanceof EngineError)) throw err;
        }
      }
    }

    it('log replay (every record through applyRecord) rebuilds the same groups: counts, lines in order, rotation membership, overrides, defaults', () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const h = harness();
        groupWorkload(h, 3000, seed);
        const live = storeGroups(h.e.store);
        expect(live.some((q) => q!.groups.length > 3)).to.equal(true);
        expect(live.some((q) => q!.overrides.length > 0)).to.equal(true);
        const replayed = new JobStore(RETENTION);
        for (const rec of h.records) applyRecord(replayed, rec);
        expect(storeGroups(replayed), `seed ${seed}`).to.deep.equal(live);
        for (const q of replayed.queues.values()) checkGroupInvariants(q, replayed.jobs.values());
      }
    });

    it('a snapshot (+ the log after it) rebuilds the same groups; after the restart rated buckets start empty', async () => {
      const dir = tmpDir();
      try {
        const a = await openDir(dir);
        const h = { e: a.engine, advance: (ms: number) => (a.clock.advance(ms), a.engine.tick(a.clock.now())) };
        groupWorkload(h, 1500, 11);
        await a.p.save();
        groupWorkload(h, 1500, 12);
        qconfig(a.engine, 'q3', 'RATE', 4, 'PER', 1000, 'GROUP-CONCURRENCY', 1, 'GROUP-RATE', 2);
        groupConfig(a.engine, 'q3', 'vip', 'CONCURRENCY', 5, 'RATE', 0);
        fill(a.engine, 'q3', 'vip', 10);
        fill(a.engine, 'q3', 'std', 10);
        const live = storeGroups(a.engine.store);
        await a.p.close();

        const b = await openDir(dir);
        expect(b.report.snapshotLoaded).to.equal(true);
        expect(storeGroups(b.engine.store)).to.deep.equal(live);
        for (const q of b.engine.store.queues.values()) checkGroupInvariants(q, b.engine.store.jobs.values());
        b.engine.afterLoad();
        // buckets empty: no claim until a token has been earned
        expect(claim(b.engine, 'q3', 10)).to.have.length(0);
        b.clock.advance(250);
        b.engine.tick(b.clock.now());
        expect(claim(b.engine, 'q3', 10)).to.have.length(1);
        await b.p.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('log only: a directory never snapshotted rebuilds the same groups', async () => {
      const dir = tmpDir();
      try {
        const a = await openDir(dir);
        const h = { e: a.engine, advance: (ms: number) => (a.clock.advance(ms), a.engine.tick(a.clock.now())) };
        groupWorkload(h, 3000, 21);
        const live = storeGroups(a.engine.store);
        await a.p.close();
        const b = await openDir(dir);
        expect(b.report.snapshotLoaded).to.equal(false);
        expect(storeGroups(b.engine.store)).to.deep.equal(live);
        await b.p.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('memory', () => {
    it('QDEL forgets the group defaults and overrides', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 2, 'GROUP-RATE', 5, 'RATE', 10);
      groupConfig(h.e, 'q', 'a', 'MAXLEN', 3);
      const [id] = fill(h.e, 'q', 'a', 1);
      claim(h.e, 'q');
      h.e.ack(id, null);
      expect(h.e.deleteQueue('q')).to.equal(1);
      expect(h.e.queue('q')).to.equal(undefined);
      fill(h.e, 'q', 'a', 1);
      const q = h.e.queue('q')!;
      expect(q.groupDefaults).to.equal(NO_LIMITS);
      expect(q.groupOverrides.size).to.equal(0);
      expect(q.rate).to.equal(null);
      expect(h.e.groupLimits('q', 'a')).to.deep.equal({ limits: NO_LIMITS, override: null });
    });

    it('100,000 distinct group keys enqueued and acked leave no group behind', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-CONCURRENCY', 1);
      for (let i = 0; i < 100_000; i++) h.e.enqueue('q', '', { group: `tenant-${i}` });
      expect(h.e.queue('q')!.groupCount).to.equal(100_000);
      for (;;) {
        const jobs = claim(h.e, 'q', 1000);
        if (jobs.length === 0) break;
        for (const j of jobs) h.e.ack(j.id, null);
      }
      expect(h.e.queue('q')!.groups.size).to.equal(0);
      for (let p = 0; p < 3; p++) expect(h.e.queue('q')!.rings[p].size).to.equal(0);
    });

    it('with a group rate, idle groups go once their bucket is full again (no wake-up left behind)', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-RATE', 10, 'PER', 1000);
      for (let i = 0; i < 1000; i++) h.e.enqueue('q', '', { group: `t${i}` });
      for (const j of claim(h.e, 'q', 1000)) h.e.ack(j.id, null);
      expect(h.e.queue('q')!.groups.size).to.equal(1000); // buckets not full yet
      h.advance(99);
      expect(h.e.queue('q')!.groups.size).to.equal(1000);
      h.advance(1);
      expect(h.e.queue('q')!.groups.size).to.equal(0);
      expect(h.e.nextDeadline()).to.equal(h.now() - 100 + RETENTION.completedMs); // only the completed jobs' retention is left
    });

    it('a group that comes back before its bucket is full keeps it (no second burst)', () => {
      const h = harness();
      qconfig(h.e, 'q', 'GROUP-RATE', 2, 'PER', 1000);
      fill(h.e, 'q', 'a', 2);
      for (const j of claim(h.e, 'q', 10)) h.e.ack(j.id, null);
      h.advance(100);
      fill(h.e, 'q', 'a', 5, NORMAL, 2);
      expect(claim(h.e, 'q', 10)).to.have.length(0);
      h.advance(400);
      expect(claim(h.e, 'q', 10)).to.have.length(1);
    });

    it('a group drained just before a restart gets no fresh burst after it (its bucket starts empty too)', async () => {
      const dir = tmpDir();
      try {
        const a = await openDir(dir);
        a.engine.afterLoad();
        qconfig(a.engine, 'q', 'GROUP-RATE', 2, 'PER', 1000);
        fill(a.engine, 'q', 'a', 2);
        for (const j of claim(a.engine, 'q', 10)) a.engine.ack(j.id, null);
        await a.p.close();
        const b = await openDir(dir);
        b.engine.afterLoad();
        fill(b.engine, 'q', 'a', 4, NORMAL, 2);
        fill(b.engine, 'q', 'new', 4);
        expect(claim(b.engine, 'q', 10)).to.have.length(0);
        expect(b.engine.peek('q', 10)).to.have.length(0);
        b.clock.advance(500);
        b.engine.tick(b.clock.now());
        expect(b.engine.peek('q', 10).map((j) => j.group)).to.deep.equal(['a', 'new']);
        expect(claim(b.engine, 'q', 10).map((j) => j.group)).to.deep.equal(['a', 'new']);
        b.clock.advance(1000); // a window after the restart: groups first seen now start full again
        b.engine.tick(b.clock.now());
        fill(b.engine, 'q', 'later', 3);
        expect(
          claim(b.engine, 'q', 10)
            .map((j) => j.group)
            .sort(),
        ).to.deep.equal(['a', 'a', 'later', 'later', 'new', 'new']);
        await b.p.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
