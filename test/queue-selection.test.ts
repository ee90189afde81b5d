import { expect } from 'chai';
import { QueueState, zeroCounters } from '../server/engine/queue-state';
import { OTHER_QUEUES, selectQueues } from '../server/metrics/queue-selection';

/** just the fields selectQueues reads */
function fakeQueue(name: string, jobs: number): QueueState {
  const size = (n: number) => ({ size: n });
  return {
    name,
    jobCount: jobs,
    readyCount: jobs,
    scheduled: size(0),
    active: size(0),
    completed: size(0),
    dead: size(0),
    cancelled: size(0),
    ready: [size(jobs), size(0), size(0)],
    paused: false,
    maxlen: null,
    counters: { ...zeroCounters(), enqueued: jobs },
  } as unknown as QueueState;
}

describe('selectQueues (the queues /metrics shows)', () => {
  it('shows the max queues with the most jobs, most first and ties in queue order (as a stable sort of all would), and sums the rest', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 50; // many ties
    const queues = Array.from({ length: 5000 }, (_, i) => fakeQueue(`q${i}`, rnd()));
    for (const max of [0, 1, 100, 4999]) {
      const expected = [...queues].sort((a, b) => b.jobCount - a.jobCount).slice(0, max);
      const got = selectQueues(queues, max, 0);
      expect(got.slice(0, -1).map((f) => f.label)).to.deep.equal(expected.map((q) => q.name));
      const other = got[got.length - 1];
      expect(other.label).to.equal(OTHER_QUEUES);
      const restJobs = queues.reduce((n, q) => n + q.jobCount, 0) - expected.reduce((n, q) => n + q.jobCount, 0);
      expect(other.states[0]).to.equal(restJobs);
      expect(other.counters.enqueued).to.equal(restJobs);
    }
  });

  it('shows every queue when there are at most max, in their order', () => {
    const queues = Array.from({ length: 4500 }, (_, i) => fakeQueue(`q${i}`, i % 3));
    const got = selectQueues(queues, 5000, 0);
    expect(got.map((f) => f.label)).to.deep.equal(queues.map((q) => q.name));
  });
});
