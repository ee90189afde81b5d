/**
 * The worker SDK's claim loop (client/worker.ts): the ACKs of a finished batch
 * travel ahead of the next CLAIM on the claim connection, so the broker logs
 * both in one batch (one fsync), and the worker never holds more jobs than it
 * can run.
 */
import { expect } from 'chai';
import { qname, until } from './helpers/sdk-util';
import { workerSuite } from './helpers/worker-suite';

describe('client Worker: claim loop', function () {
  this.timeout(30000);
  const suite = workerSuite({ appendfsync: 'always' });
  const { errors, worker } = suite;

  const info = async (section: string): Promise<string> => String(await suite.queue.redis.call('INFO', section));
  const field = (text: string, name: string): number => {
    const m = new RegExp(`${name}:(\\d+)`).exec(text);
    return m ? Number(m[1]) : 0;
  };
  /** calls of a command so far (INFO commandstats) */
  const calls = async (cmd: string): Promise<number> => {
    const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await info('commandstats'));
    return m ? Number(m[1]) : 0;
  };
  const claimCalls = (): Promise<number> => calls('claim');

  async function fill(name: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1000)
      ids.push(
        ...(await suite.queue.enqueueMany(
          name,
          Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ payload: i + k })),
        )),
      );
    return ids;
  }

  it('the ACKs of a batch go out with the next CLAIM: one log write per claim, not two', async () => {
    const name = qname();
    const n = 400;
    await fill(name, n);
    const before = await info('persistence');
    const claims0 = await claimCalls();
    const acks0 = await calls('ack');
    let done = 0;
    worker(
      name,
      async () => {
        done++;
      },
      { concurrency: 20 },
    );
    await until(async () => (await suite.queue.stats(name)).completed === n, 20000, 'all completed');
    const after = await info('persistence');
    const writes = field(after, 'aof_writes') - field(before, 'aof_writes');
    const claims = (await claimCalls()) - claims0;
    const acks = (await calls('ack')) - acks0;
    expect(done).to.equal(n);
    expect(claims).to.be.at.least(n / 20);
    // every ACK IDS rode in front of a CLAIM (the last batch's may go alone once the queue is empty)
    expect(acks).to.be.at.most(claims + 1);
    // sent apart, ACKs and CLAIMs took about two log writes per claim; together one
    expect(writes).to.be.at.most(Math.ceil(n / 20) + 3);
    expect(errors).to.deep.equal([]);
  });

  it('with concurrency n the broker never has more than n of its jobs active (QSTATS active)', async () => {
    const name = qname();
    const n = 600;
    const concurrency = 7;
    await fill(name, n);
    let running = 0;
    let maxRunning = 0;
    let done = 0;
    worker(
      name,
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await Promise.resolve();
        running--;
        done++;
      },
      { concurrency },
    );
    let maxActive = 0;
    let samples = 0;
    while (done < n) {
      const s = await suite.queue.stats(name);
      maxActive = Math.max(maxActive, s.active);
      samples++;
      if (s.completed === n) break;
    }
    await until(async () => (await suite.queue.stats(name)).completed === n, 20000, 'all completed');
    expect(samples).to.be.above(5);
    expect(maxRunning).to.be.at.most(concurrency);
    // the ACKs of a batch reach the broker in the same turn as the CLAIM after it, so jobs
    // finished and not yet acknowledged never add to the ones claimed
    expect(maxActive).to.be.at.most(concurrency);
    expect(maxActive).to.be.at.least(1);
  });

  it('close() during a backlog loses nothing and runs nothing twice', async () => {
    const name = qname();
    const n = 500;
    const ids = await fill(name, n);
    const handled = new Map<string, number>();
    const w = worker(
      name,
      async (job) => {
        handled.set(job.id, (handled.get(job.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 3)));
      },
      { concurrency: 10 },
    );
    const failed: string[] = [];
    w.on('failed', (job) => failed.push(job.id));
    await until(() => handled.size >= 100, 10000, '100 handled');
    await w.close(5000);
    expect(failed).to.deep.equal([]);
    const afterClose = new Map<string, string>();
    for (const id of ids) {
      const s = (await suite.queue.status(id))!;
      afterClose.set(id, s.state);
      // nothing stranded active, nothing given back
      expect(s.state, id).to.be.oneOf(['completed', 'ready']);
      expect(s.deliveries, id).to.equal(s.state === 'completed' ? 1 : 0);
      expect(handled.has(id), id).to.equal(s.state === 'completed');
    }
    // a second worker finishes the rest: every job handled exactly once overall
    worker(
      name,
      async (job) => {
        handled.set(job.id, (handled.get(job.id) ?? 0) + 1);
      },
      { concurrency: 10 },
    );
    await until(async () => (await suite.queue.stats(name)).completed === n, 20000, 'all completed');
    expect(handled.size).to.equal(n);
    expect([...handled.values()].every((c) => c === 1)).to.equal(true);
    expect(errors).to.deep.equal([]);
  });

  it('an empty queue leaves one CLAIM parked at a time, renewed every block ms (no spinning)', async () => {
    const name = qname();
    await fill(name, 30);
    worker(name, async () => undefined, { concurrency: 10, block: 200 });
    await until(async () => (await suite.queue.stats(name)).completed === 30, 10000, 'all completed');
    const claims0 = await claimCalls();
    let parked = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 1000) {
      const blocked = field(await info('clients'), 'blocked_claims');
      expect(blocked).to.be.at.most(1);
      parked = Math.max(parked, blocked);
      await new Promise((r) => setTimeout(r, 20));
    }
    const claims = (await claimCalls()) - claims0;
    expect(parked).to.equal(1);
    expect(claims).to.be.at.most(8); // ~5 in a second with BLOCK 200
    // and a job enqueued now is picked up by the parked CLAIM
    const id = await suite.queue.enqueue(name, 'late');
    expect((await suite.queue.waitFor(id, 5000))!.state).to.equal('completed');
  });
});
