import { expect } from 'chai';
import { Job, JobState } from '../server/engine/job';
import { idOfKey, jobKey, numberKeyAt } from '../server/engine/job-key';
import { fromEngineTime, toEngineTime } from '../server/engine/job-time';
import { JobIndex } from '../server/engine/job-index';

const T = 1_790_000_000_000;

describe('compact job representation', () => {
  it('keys decimal ids by their number, one-to-one with the id', () => {
    for (const id of ['0', '1', '7', '42', '123456789']) {
      expect(jobKey(id)).to.equal(Number(id));
      expect(idOfKey(jobKey(id))).to.equal(id);
    }
    // not canonical decimals, or too long for a small integer: the string itself
    for (const id of ['', '007', '00', '-1', '+1', '1.5', '1e3', ' 1', '1 ', '1234567890', 'abc', '12a', '\u00ff1']) {
      expect(jobKey(id)).to.equal(id);
      expect(idOfKey(jobKey(id))).to.equal(id);
    }
  });

  it('reads the same keys from bytes as from strings', () => {
    for (const id of ['0', '9', '10', '999999999', '1000000000', '01', '', 'x1', '1x', '-5']) {
      const bytes = Buffer.from(`[${id}]`, 'latin1');
      const k = jobKey(id);
      expect(numberKeyAt(bytes, 1, 1 + id.length)).to.equal(typeof k === 'number' ? k : -1);
    }
  });

  it('keeps a job found by its id whichever form its key takes', () => {
    const index = new JobIndex();
    const a = new Job('12', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    const b = new Job('012', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    index.set(a);
    index.set(b);
    expect(index.get('12')).to.equal(a);
    expect(index.get('012')).to.equal(b);
    expect(index.has('0012')).to.equal(false);
    expect([...index.keys()]).to.deep.equal(['12', '012']);
    index.delete(a);
    expect(index.get('12')).to.equal(undefined);
    expect(index.size).to.equal(1);
  });

  it('finds jobs by number in blocks, and keeps the few left in a block that emptied in the Map', () => {
    const index = new JobIndex();
    const jobs = Array.from({ length: 5000 }, (_, i) => new Job(String(i + 1), 'q', 'p', 1, T, 0, 0, 0, 0, 0));
    for (const j of jobs) index.set(j);
    index.set(new Job('x', 'q', 'p', 1, T, 0, 0, 0, 0, 0));
    expect(index.size).to.equal(5001);
    expect([...index.values()].slice(0, 5000)).to.deep.equal(jobs);
    // empty the first block but for a few, which move to the Map; the rest stay found
    for (const j of jobs.slice(0, 1000)) index.delete(j);
    expect(index.size).to.equal(4001);
    for (const j of jobs.slice(1000)) expect(index.get(j.id)).to.equal(j);
    expect(index.get('5')).to.equal(undefined);
    expect(new Set(index.values()).size).to.equal(4001);
    // replaced, removed and added again while some of its block sits in the Map
    const again = new Job('1010', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    index.set(again);
    expect(index.get('1010')).to.equal(again);
    expect(index.size).to.equal(4001);
    index.delete(jobs[1009]); // no longer the one under its id: nothing happens
    expect(index.get('1010')).to.equal(again);
    index.delete(again);
    expect(index.has('1010')).to.equal(false);
    index.set(jobs[4]);
    expect(index.get('5')).to.equal(jobs[4]);
    expect(index.size).to.equal(4001);
    index.clear();
    expect([index.size, [...index.values()].length, index.get('2000')]).to.deep.equal([0, 0, undefined]);
  });

  it('walks every job there from the start of a walk to its end, and the walk ends, while blocks come and go', () => {
    const index = new JobIndex();
    const job = (id: number) => new Job(String(id), 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    const start = Array.from({ length: 5000 }, (_, i) => job(i + 1));
    for (const j of start) index.set(j);
    const it = index.values();
    const met = new Set<Job>();
    let next = 5001;
    for (let steps = 0; ; steps++) {
      expect(steps).to.be.below(100_000);
      const r = it.next();
      if (r.done) break;
      met.add(r.value);
      // new jobs in new blocks, and most of each older block removed (given up to the Map) as the walk goes
      for (let k = 0; k < 40; k++) index.set(job(next++));
      if (steps % 10 === 0) for (const j of start.slice(0, 4900)) if (j.key !== (steps % 4900) + 1) index.delete(j);
    }
    for (const j of start) if (index.get(j.id) === j) expect(met.has(j), j.id).to.equal(true);
  });

  it('stores times exactly, far from the base and fractional ones included', () => {
    for (const t of [T, T + 1, T - 86_400_000 * 400, T + 86_400_000 * 4000, 0, 1, -1, T + 0.25, 1000.5, 2 ** 52, -(2 ** 52)]) {
      expect(fromEngineTime(toEngineTime(t)), String(t)).to.equal(t);
    }
    const job = new Job('1', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    job.updatedAt = T + 5;
    expect([job.createdAt, job.updatedAt]).to.deep.equal([T, T + 5]);
  });

  it('packs state, priority and listSeq independently', () => {
    const job = new Job('1', 'q', 'p', 2, T, 0, 0, 0, 0, 0);
    expect([job.state, job.priority, job.listSeq]).to.deep.equal([JobState.Ready, 2, 0]);
    job.state = JobState.Cancelled;
    job.listSeq = 3;
    expect([job.state, job.priority, job.listSeq]).to.deep.equal([JobState.Cancelled, 2, 3]);
    job.listSeq = 2 ** 40; // past the small-integer range: still exact
    job.state = JobState.Active;
    expect([job.state, job.priority, job.listSeq]).to.deep.equal([JobState.Active, 2, 2 ** 40]);
  });

  it('shares one queue + policy object between jobs that have both alike', () => {
    const a = new Job('1', 'q', 'p', 1, T, 3, 1000, 60_000, 30_000, 0);
    const b = new Job('2', 'q', 'p', 1, T, 3, 1000, 60_000, 30_000, 0);
    const c = new Job('3', 'r', 'p', 1, T, 3, 1000, 60_000, 30_000, 0);
    const d = new Job('4', 'q', 'p', 1, T, 4, 1000, 60_000, 30_000, 0);
    expect(a.kind).to.equal(b.kind);
    expect([c.queue, c.retries, d.queue, d.retries]).to.deep.equal(['r', 3, 'q', 4]);
    expect(new Job('5', 'q', 'p', 1, T, 3, 1000, 60_000, 30_000, 0).kind).to.equal(a.kind);
  });

  it('allocates the extra fields only for a value other than the default', () => {
    const job = new Job('1', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    const extra = () => (job as unknown as { extra: unknown }).extra;
    job.group = '';
    job.runAt = 0;
    job.heapIndex = -1;
    job.lastError = null;
    job.owner = 0;
    job.deliveries = 0;
    job.updatedAt = T; // its createdAt
    expect(extra()).to.equal(null);
    expect([job.updatedAt, job.deliveries]).to.deep.equal([T, 0]);
    expect([job.group, job.runAt, job.heapIndex, job.deadline, job.lastError, job.result, job.expiresAt]).to.deep.equal(['', 0, -1, 0, null, null, 0]);
    job.leaseUntil = T;
    expect(extra()).to.not.equal(null);
    expect([job.leaseUntil, job.runAt, job.heapIndex, job.updatedAt]).to.deep.equal([T, 0, -1, T]);
    job.updatedAt = T + 7;
    job.deliveries = 2;
    expect([job.updatedAt, job.deliveries, job.createdAt]).to.deep.equal([T + 7, 2, T]);
    expect(new Job('2', 'q', 'p', 1, T, 0, 0, 0, 0, T + 9).expiresAt).to.equal(T + 9);
  });
});
