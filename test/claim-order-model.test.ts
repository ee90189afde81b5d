import { expect } from 'chai';
import { Engine, EngineConfig } from '../server/engine/engine';
import { JobState, Priority } from '../server/engine/job';
import { RetentionPolicy } from '../server/engine/job-store';
import { pickPriority } from '../server/engine/priority-picker';
import { prng } from './helpers/persistence-workload';

/**
 * CLAIM order against a model kept with plain arrays: one line per group and
 * priority (ungrouped jobs in the line of '', a retry of a grouped job at the
 * front of its line, any other job at the back), one rotation per priority,
 * group concurrency counting waiting retries. The engine keeps the ungrouped
 * jobs' line as a view of the queue's ready list (ungrouped-line.ts), so
 * random mixes of grouped and ungrouped jobs, with jobs leaving from the
 * middle (cancel, TTL, PURGE, PROMOTE) and long runs of grouped jobs between
 * ungrouped ones, check that view against a line of its own.
 */

const T0 = 1_800_000_000_000;
const WEIGHTS = [6, 3, 1];
const CONFIG: EngineConfig = {
  defaultRetries: 1000,
  defaultBackoff: 0,
  defaultBackoffMax: 0,
  backoffJitter: 0,
  defaultLease: 1e12,
  defaultMaxlen: 0,
  requeueOnDisconnect: false,
  priorityWeights: WEIGHTS,
};
const RETENTION: RetentionPolicy = { completedMs: 1e13, completedMax: 1e9, deadMs: 1e13, deadMax: 1e9, cancelledMs: 1e13 };

type MState = 'ready' | 'scheduled' | 'active' | 'final';

interface MJob {
  id: string;
  key: string;
  p: Priority;
  state: MState;
  deliveries: number;
  runAt: number;
  expiresAt: number;
}

class Model {
  readonly jobs = new Map<string, MJob>();
  /** the queue's ready lists and scheduled list, in the order jobs entered them (PURGE drops in this order) */
  readonly lists: string[][] = [[], [], []];
  readonly scheduled: string[] = [];
  readonly lines = new Map<string, string[][]>();
  readonly rings: string[][] = [[], [], []];
  readonly inProgress = new Map<string, number>();
  readonly credit = [0, 0, 0];

  constructor(readonly cap: number | null) {}

  line(key: string, p: number): string[] {
    let l = this.lines.get(key);
    if (!l) this.lines.set(key, (l = [[], [], []]));
    return l[p];
  }

  private refresh(key: string): void {
    const cap = key === '' ? null : this.cap;
    for (let p = 0; p < 3; p++) {
      const head = this.line(key, p)[0];
      const want = head !== undefined && (this.jobs.get(head)!.deliveries > 0 || cap === null || (this.inProgress.get(key) ?? 0) < cap);
      const at = this.rings[p].indexOf(key);
      if (want && at < 0) this.rings[p].push(key);
      else if (!want && at >= 0) this.rings[p].splice(at, 1);
    }
  }

  private leave(j: MJob): void {
    if (j.state === 'final') return;
    const remove = (a: string[]) => a.splice(a.indexOf(j.id), 1);
    if (j.state === 'ready') {
      remove(this.lists[j.p]);
      remove(this.line(j.key, j.p));
    }
    if (j.state === 'scheduled') remove(this.scheduled);
    if (j.deliveries > 0) this.inProgress.set(j.key, this.inProgress.get(j.key)! - 1);
    this.refresh(j.key);
  }

  private enter(j: MJob, state: MState): void {
    j.state = state;
    if (state === 'final') return;
    if (state === 'ready') {
      this.lists[j.p].push(j.id);
      if (j.key !== '' && j.deliveries > 0) this.line(j.key, j.p).unshift(j.id);
      else this.line(j.key, j.p).push(j.id);
    }
    if (state === 'scheduled') this.scheduled.push(j.id);
    if (j.deliveries > 0) this.inProgress.set(j.key, (this.inProgress.get(j.key) ?? 0) + 1);
    this.refresh(j.key);
  }

  move(id: string, state: MState, change: (j: MJob) => void = () => {}): void {
    const j = this.jobs.get(id)!;
    this.leave(j);
    change(j);
    this.enter(j, state);
  }

  enqueue(id: string, key: string, p: Priority, runAt: number, expiresAt: number): void {
    const j: MJob = { id, key, p, state: 'final', deliveries: 0, runAt, expiresAt };
    this.jobs.set(id, j);
    this.enter(j, runAt > 0 ? 'scheduled' : 'ready');
  }

  claim(count: number): string[] {
    const out: string[] = [];
    while (out.length < count) {
      const p = pickPriority(
        this.credit,
        WEIGHTS,
        this.rings.map((r) => r.length > 0),
      );
      if (p === -1) break;
      const key = this.rings[p][0];
      const id = this.line(key, p)[0];
      this.move(id, 'active', (j) => {
        j.deliveries++;
        j.runAt = 0;
      });
      out.push(id);
      const ring = this.rings[p];
      const at = ring.indexOf(key);
      if (at >= 0 && ring.length > 1) ring.push(...ring.splice(at, 1));
    }
    return out;
  }

  drop(id: string): void {
    this.leave(this.jobs.get(id)!);
    this.jobs.delete(id);
  }

  /** deadlines due at `now`, earliest first, as the engine's tick takes them */
  tick(now: number): void {
    for (;;) {
      let next: MJob | null = null;
      let nextAt = Infinity;
      for (const j of this.jobs.values()) {
        if (j.state === 'final') continue;
        let d = j.state === 'scheduled' ? j.runAt : Infinity;
        if (j.expiresAt > 0 && j.expiresAt < d) d = j.expiresAt;
        if (d <= now && d < nextAt) [next, nextAt] = [j, d];
      }
      if (next === null) return;
      if (next.expiresAt > 0 && next.expiresAt <= now) this.move(next.id, 'final');
      else this.move(next.id, 'ready', (j) => (j.runAt = 0));
    }
  }
}

function engineAt(): { e: Engine; now(): number; advance(ms: number): void } {
  let t = T0;
  const e = new Engine({ config: CONFIG, retention: RETENTION, journal: { append() {} }, clock: { now: () => t }, random: () => 0.5 });
  return {
    e,
    now: () => t,
    advance(ms) {
      t += ms;
      e.tick(t);
    },
  };
}

/** the engine's lines (head, then after()) and rotations equal the model's */
function sameGroups(e: Engine, m: Model, where: string): void {
  const q = e.queue('q');
  const keys = new Set([...(q?.groups.keys() ?? []), ...m.lines.keys()]);
  for (const key of keys) {
    for (let p = 0; p < 3; p++) {
      const line = q?.groups.get(key)?.ready[p];
      const ids: string[] = [];
      for (let j = line?.head ?? null; j !== null; j = line!.after(j)) ids.push(j.id);
      expect(ids, `${where}: line of '${key}' at priority ${p}`).to.deep.equal(m.line(key, p));
      expect(line?.size ?? 0, `${where}: size of '${key}' at priority ${p}`).to.equal(ids.length);
    }
  }
  for (let p = 0; p < 3; p++) expect(q ? [...q.rings[p]].map((g) => g.key) : [], `${where}: rotation ${p}`).to.deep.equal(m.rings[p]);
}

describe('claim order: engine against a model with mixed grouped and ungrouped jobs', () => {
  it('same jobs in the same order through enqueue, CLAIM, PEEK, ACK, NACK, retries, cancel, TTL, PROMOTE, REQUEUE and PURGE (randomized)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = prng(seed);
      const h = engineAt();
      const cap = [null, 1, 2][seed % 3];
      if (cap !== null) h.e.configureQueue('q', { groupDefaults: { concurrency: cap, rate: null, maxlen: null } });
      const m = new Model(cap);
      // a strictly growing offset keeps every deadline distinct, so the tick order is the deadline order
      let c = 0;
      const later = () => 1000 + c++;
      // phases of mostly-grouped or mostly-ungrouped enqueues: long runs of one kind between the other
      let ungroupedShare = 0.5;
      const pick = (state: JobState) => {
        const ids = [...h.e.store.jobs.values()].filter((j) => j.state === state).map((j) => j.id);
        return ids.length === 0 ? null : ids[Math.floor(rnd() * ids.length)];
      };
      for (let step = 0; step < 400; step++) {
        const where = `seed ${seed} step ${step}`;
        const r = rnd();
        if (step % 50 === 0) ungroupedShare = [0.05, 0.5, 0.95][Math.floor(rnd() * 3)];
        if (r < 0.4) {
          const n = 1 + Math.floor(rnd() * 8);
          for (let i = 0; i < n; i++) {
            const key = rnd() < ungroupedShare ? '' : `g${Math.floor(rnd() * 4)}`;
            const p = (rnd() < 0.2 ? 0 : rnd() < 0.8 ? 1 : 2) as Priority;
            const delay = rnd() < 0.1 ? later() : 0;
            const ttl = rnd() < 0.1 ? later() : 0;
            const id = h.e.enqueue('q', `${step}.${i}`, { group: key || undefined, priority: p, delay, ttl });
            m.enqueue(id, key, p, delay ? h.now() + delay : 0, ttl ? h.now() + ttl : 0);
          }
        } else if (r < 0.62) {
          const n = 1 + Math.floor(rnd() * 5);
          const peeked = h.e.peek('q', n).map((j) => j.id);
          const claimed = h.e.claim('q', { count: n, owner: 1 }).map((j) => j.id);
          expect(claimed, where).to.deep.equal(m.claim(n));
          expect(peeked, `${where}: PEEK`).to.deep.equal(claimed);
        } else if (r < 0.8) {
          const id = pick(JobState.Active);
          if (id !== null) {
            const how = rnd();
            if (how < 0.5) {
              h.e.ack(id, null);
              m.move(id, 'final');
            } else if (how < 0.8) {
              h.e.nack(id, { delay: 0 });
              m.move(id, 'ready');
            } else if (how < 0.95) {
              const delay = later();
              h.e.nack(id, { delay });
              m.move(id, 'scheduled', (j) => (j.runAt = h.now() + delay));
            } else {
              h.e.nack(id, { noRetry: true });
              m.move(id, 'final');
            }
          }
        } else if (r < 0.86) {
          const id = pick(rnd() < 0.7 ? JobState.Ready : JobState.Scheduled);
          if (id !== null) {
            h.e.cancel(id);
            m.move(id, 'final');
          }
        } else if (r < 0.89) {
          const id = pick(JobState.Scheduled);
          if (id !== null) {
            h.e.promote(id);
            m.move(id, 'ready', (j) => (j.runAt = 0));
          }
        } else if (r < 0.91) {
          const id = pick(rnd() < 0.5 ? JobState.Dead : JobState.Cancelled);
          if (id !== null) {
            h.e.requeue(id);
            m.move(id, 'ready', (j) => {
              j.deliveries = 0;
              j.expiresAt = 0;
            });
          }
        } else if (r < 0.915) {
          h.e.purge('q', 'waiting');
          for (const id of [...m.lists[0], ...m.lists[1], ...m.lists[2], ...m.scheduled]) m.drop(id);
        } else {
          h.advance(1 + Math.floor(rnd() * 400));
          m.tick(h.now());
        }
        sameGroups(h.e, m, where);
      }
    }
  });

  it('an ungrouped job behind 100,000 grouped ones of its priority is still claimed in its turn', () => {
    const h = engineAt();
    h.e.enqueue('q', 'u0', {});
    for (let i = 0; i < 100_000; i++) h.e.enqueue('q', `g${i}`, { group: `k${i % 10}` });
    h.e.enqueue('q', 'u1', {});
    const payloads = (n: number) => h.e.claim('q', { count: n, owner: 1 }).map((j) => j.payload);
    expect(payloads(12)).to.deep.equal(['u0', 'g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8', 'g9', 'u1']);
    expect(h.e.queue('q')!.groups.get('')!.ready[1].head).to.equal(null);
  });
});
