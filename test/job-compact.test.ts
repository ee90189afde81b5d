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

  it('stores times exactly, far from the base and fractional ones included', () => {
    for (const t of [T, T + 1, T - 86_400_000 * 400, T + 86_400_000 * 4000, 0, 1, -1, T + 0.25, 1000.5, 2 ** 52, -(2 ** 52)]) {
      expect(fromEngineTime(toEngineTime(t)), String(t)).to.equal(t);
    }
    const job = new Job('1', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    job.updatedAt = T + 5;
    expect([job.createdAt, job.updatedAt]).to.deep.equal([T, T + 5]);
  });

  it('packs state, priority and deliveries independently', () => {
    const job = new Job('1', 'q', 'p', 2, T, 0, 0, 0, 0, 0);
    expect([job.state, job.priority, job.deliveries]).to.deep.equal([JobState.Ready, 2, 0]);
    job.state = JobState.Cancelled;
    job.deliveries = 3;
    expect([job.state, job.priority, job.deliveries]).to.deep.equal([JobState.Cancelled, 2, 3]);
    job.deliveries = 2 ** 40; // past the small-integer range: still exact
    job.state = JobState.Active;
    expect([job.state, job.priority, job.deliveries]).to.deep.equal([JobState.Active, 2, 2 ** 40]);
  });

  it('allocates the extra fields only for a value other than the default', () => {
    const job = new Job('1', 'q', 'p', 1, T, 0, 0, 0, 0, 0);
    const extra = () => (job as unknown as { extra: unknown }).extra;
    job.group = '';
    job.runAt = 0;
    job.heapIndex = -1;
    job.lastError = null;
    job.owner = 0;
    expect(extra()).to.equal(null);
    expect([job.group, job.runAt, job.heapIndex, job.deadline, job.lastError, job.result, job.expiresAt]).to.deep.equal(['', 0, -1, 0, null, null, 0]);
    job.leaseUntil = T;
    expect(extra()).to.not.equal(null);
    expect([job.leaseUntil, job.runAt, job.heapIndex]).to.deep.equal([T, 0, -1]);
    expect(new Job('2', 'q', 'p', 1, T, 0, 0, 0, 0, T + 9).expiresAt).to.equal(T + 9);
  });
});
