/** The worker SDK coalesces the result-less ACKs of one event-loop turn into one `ACK IDS ...` (client/worker.ts). */
import { expect } from 'chai';
import { StalledDuring } from '../client';
import { gate, qname, until } from './helpers/sdk-util';
import { workerSuite } from './helpers/worker-suite';

describe('client Worker: batched ACKs', function () {
  this.timeout(20000);
  const suite = workerSuite();
  const { errors, worker } = suite;

  /** ACK commands the broker has run (INFO commandstats): a batch counts once */
  const ackCalls = async (): Promise<number> => {
    const m = /cmdstat_ack:calls=(\d+)/.exec(String(await suite.queue.redis.call('INFO', 'commandstats')));
    return m ? Number(m[1]) : 0;
  };

  it('handlers that finish in the same turn are acknowledged by one command; a result still goes with its own ACK', async () => {
    const name = qname();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => suite.queue.enqueue(name, i)));
    const release = gate();
    let started = 0;
    const w = worker<number, string | undefined>(
      name,
      async (job) => {
        started++;
        await release.promise;
        return job.data % 5 === 0 ? `result ${job.data}` : undefined; // 4 of 20 with a result
      },
      { concurrency: 20 },
    );
    const completed: [string, boolean][] = [];
    w.on('completed', (job, _r, acked) => completed.push([job.id, acked]));
    await until(() => started === 20, 5000, '20 handlers running');
    const before = await ackCalls();
    release.open();
    await until(() => completed.length === 20, 5000, '20 completed events');
    expect(completed.every(([, acked]) => acked)).to.equal(true);
    expect(completed.map(([id]) => id).sort()).to.deep.equal([...ids].sort());
    // 16 result-less ACKs in one ACK IDS 16, and 4 single ACKs with RESULT
    expect((await ackCalls()) - before).to.equal(5);
    expect((await suite.queue.stats(name)).acked).to.equal(20);
    expect((await suite.queue.status(ids[5]))!.result).to.equal('result 5');
    expect((await suite.queue.status(ids[6]))!.result).to.equal(null);
    expect(errors).to.deep.equal([]);
  });

  it('a job whose lease was lost gets its -STALE element: stalled for it, completed for the others of the batch', async () => {
    const name = qname();
    const [a, b, c] = [await suite.queue.enqueue(name, 'a'), await suite.queue.enqueue(name, 'b'), await suite.queue.enqueue(name, 'c')];
    const release = gate();
    let started = 0;
    const w = worker(
      name,
      async () => {
        started++;
        await release.promise;
      },
      { concurrency: 3, heartbeat: false },
    );
    const stalled: [string, StalledDuring, boolean][] = [];
    w.on('stalled', (job, during) => stalled.push([job.id, during, job.signal.aborted]));
    const completed: [string, boolean][] = [];
    w.on('completed', (job, _r, acked) => completed.push([job.id, acked]));
    await until(() => started === 3, 5000, '3 handlers running');
    // b's delivery 1 ends behind the worker's back (as a lease running out would) and b is claimed again elsewhere
    expect(await suite.queue.redis.call('NACK', b, 'DELAY', 0, 'DELIVERY', 1)).to.equal('ready');
    const [again] = (await suite.queue.redis.call('CLAIM', name)) as unknown[][];
    expect(again[0]).to.equal(b);
    const before = await ackCalls();
    release.open();
    await until(() => completed.length === 2 && stalled.length === 1, 5000, '2 completed, 1 stalled');
    expect(completed.sort()).to.deep.equal([
      [a, true],
      [c, true],
    ]);
    expect(stalled).to.deep.equal([[b, 'ack', true]]);
    expect((await ackCalls()) - before).to.equal(1);
    expect((await suite.queue.status(b))!.state).to.equal('active'); // still with its second delivery
    expect(await suite.queue.redis.call('ACK', b, 'DELIVERY', 2)).to.equal(1);
    expect(errors).to.deep.equal([]);
  });

  it('close() right after the handlers finish waits for their batched ACK', async () => {
    const name = qname();
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => suite.queue.enqueue(name, i)));
    const release = gate();
    let started = 0;
    const w = worker(
      name,
      async () => {
        started++;
        await release.promise;
      },
      { concurrency: 10 },
    );
    let completed = 0;
    w.on('completed', () => completed++);
    await until(() => started === 10, 5000, '10 handlers running');
    release.open();
    await w.close(5000);
    expect(completed).to.equal(10);
    for (const id of ids) expect((await suite.queue.status(id))!.state).to.equal('completed');
    expect(errors).to.deep.equal([]);
  });

  it('many jobs through a busy worker: each completed exactly once', async () => {
    const name = qname();
    const n = 2000;
    await suite.queue.enqueueMany(
      name,
      Array.from({ length: n }, (_, i) => ({ payload: i })),
    );
    const seen = new Map<string, number>();
    const w = worker<number>(name, async (job) => void seen.set(job.id, (seen.get(job.id) ?? 0) + 1), { concurrency: 50 });
    let completed = 0;
    w.on('completed', (_job, _r, acked) => {
      if (acked) completed++;
    });
    await until(() => completed === n, 15000, `${n} completed`);
    expect(seen.size).to.equal(n);
    expect([...seen.values()].every((v) => v === 1)).to.equal(true);
    const stats = await suite.queue.stats(name);
    expect(stats.acked).to.equal(n);
    expect(stats.completed).to.equal(n);
    expect(await ackCalls()).to.be.below(n); // batched: far fewer commands than jobs
    expect(errors).to.deep.equal([]);
  });
});
