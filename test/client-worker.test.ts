/** The worker SDK (client/worker.ts) against a real broker. */
import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { exponentialBackoff, Job, NackState, NoRetryError, Queue, StalledDuring } from '../client';
import { gate, nextEvent, qname, until } from './helpers/sdk-util';
import { workerSuite } from './helpers/worker-suite';

describe('client Worker (consumer SDK)', function () {
  this.timeout(20000);
  const suite = workerSuite({ 'default-retries': '3', 'default-backoff': '20', 'backoff-jitter': '0' }, true);
  const { errors, worker } = suite;

  /** waits until n CLAIMs are parked on the broker (INFO clients: blocked_claims) */
  const claimsParked = (n: number) =>
    until(
      async () => new RegExp(`blocked_claims:${n}\\r?\\n`).test(String(await suite.queue.redis.call('INFO', 'clients'))),
      5000,
      `${n} CLAIM(s) parked on the broker`,
    );

  it('runs the handler, ACKs with its result (RESULT) and DELIVERY, emits active and completed', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, { a: 20, b: 22 });
    const w = worker<{ a: number; b: number }, { sum: number }>(name, async (job) => {
      expect(job.id).to.equal(id);
      expect(job.queue).to.equal(name);
      expect(job.delivery).to.equal(1);
      expect(job.signal.aborted).to.equal(false);
      return { sum: job.data.a + job.data.b };
    });
    const active = nextEvent<[Job]>(w, 'active');
    const [job, result, acked] = await nextEvent<[Job, { sum: number }, boolean]>(w, 'completed');
    expect((await active)[0].id).to.equal(id);
    expect(job.id).to.equal(id);
    expect(result).to.deep.equal({ sum: 42 });
    expect(acked).to.equal(true);
    const s = await suite.queue.status(id);
    expect(s!.state).to.equal('completed');
    expect(s!.result).to.deep.equal({ sum: 42 });
    expect((await suite.queue.stats(name)).acked).to.equal(1);
  });

  it('a handler returning undefined ACKs without a result', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'x');
    worker(name, async () => undefined);
    const s = await suite.queue.waitFor(id, 5000);
    expect(s!.state).to.equal('completed');
    expect(s!.result).to.equal(null);
  });

  it('never runs more than concurrency handlers; claims in batches', async () => {
    const name = qname();
    const ids = await suite.queue.enqueueMany(
      name,
      Array.from({ length: 30 }, (_, i) => ({ payload: i })),
    );
    let now = 0;
    let max = 0;
    const done = new Set<string>();
    worker(
      name,
      async (job) => {
        now++;
        max = Math.max(max, now);
        await new Promise((r) => setTimeout(r, 20));
        now--;
        done.add(job.id);
      },
      { concurrency: 4, batch: 3 },
    );
    await until(() => done.size === 30, 10000, 'all 30 done');
    expect(max).to.be.at.most(4);
    expect(max).to.be.at.least(2);
    expect([...done].sort()).to.deep.equal([...ids].sort());
  });

  it('emits drained once the queue is empty', async () => {
    const name = qname();
    await suite.queue.enqueueMany(name, [{ payload: 1 }, { payload: 2 }]);
    const w = worker(name, async () => undefined, { concurrency: 2 });
    await nextEvent(w, 'drained', 5000);
    expect((await suite.queue.stats(name)).completed).to.equal(2);
  });

  it('a throw NACKs with the error message; the server policy retries with backoff', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'flaky', { retries: 3, backoff: { base: 30 } });
    const failures: [string, NackState, number][] = [];
    const w = worker(name, async (job) => {
      if (job.delivery < 3) throw new Error(`attempt ${job.delivery} failed`);
      return 'ok';
    });
    w.on('failed', (job, err, state) => failures.push([err.message, state, job.delivery]));
    const s = await suite.queue.waitFor(id, 5000);
    expect(s!.state).to.equal('completed');
    expect(s!.deliveries).to.equal(3);
    expect(s!.lastError).to.equal('attempt 2 failed');
    expect(failures).to.deep.equal([
      ['attempt 1 failed', 'scheduled', 1],
      ['attempt 2 failed', 'scheduled', 2],
    ]);
    const stats = await suite.queue.stats(name);
    expect(stats.failed).to.equal(2);
    expect(stats.retried).to.equal(2);
  });

  it('retries exhausted: dead, in the DLQ with the last error', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'poison', { retries: 1, backoff: { base: 10 } });
    const states: NackState[] = [];
    const w = worker(name, async () => {
      throw new Error('always');
    });
    w.on('failed', (_job, _err, state) => states.push(state));
    const s = await suite.queue.waitFor(id, 5000);
    expect(s!.state).to.equal('dead');
    expect(s!.deliveries).to.equal(2);
    await until(() => states.length === 2, 2000, 'two failed events');
    expect(states).to.deep.equal(['scheduled', 'dead']);
    const dlq = await suite.queue.dlq(name);
    expect(dlq.map((d) => [d.id, d.lastError])).to.deep.equal([[id, 'always']]);
  });

  it('a backoff override sends NACK ... DELAY (attempt, err) -> ms', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'x', { retries: 2, backoff: { base: 60000 } }); // the job's own backoff would wait a minute
    const calls: [number, string][] = [];
    let firstFailAt = 0;
    let secondStartAt = 0;
    worker(
      name,
      async (job) => {
        if (job.delivery === 1) {
          firstFailAt = Date.now();
          throw new Error('once');
        }
        secondStartAt = Date.now();
        return 'ok';
      },
      {
        backoff: (attempt, err) => {
          calls.push([attempt, err.message]);
          return 250;
        },
      },
    );
    const s = await suite.queue.waitFor(id, 5000);
    expect(s!.state).to.equal('completed');
    expect(calls).to.deep.equal([[1, 'once']]);
    expect(secondStartAt - firstFailAt).to.be.within(200, 2000);
  });

  it('exponentialBackoff is capped and jittered', () => {
    const f = exponentialBackoff({ base: 100, max: 1000, jitter: 0.5, random: () => 0.5 });
    expect([1, 2, 3, 4, 5, 10].map((a) => f(a, new Error()))).to.deep.equal([75, 150, 300, 600, 750, 750]);
    const plain = exponentialBackoff({ base: 100, max: 1000, jitter: 0 });
    expect(plain(3, new Error())).to.equal(400);
  });

  it('NoRetryError fails the job for good (NACK ... NORETRY): dead with retries left', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'x', { retries: 5 });
    const w = worker(name, async () => {
      throw new NoRetryError('bad input');
    });
    const [job, err, state] = await nextEvent<[Job, Error, NackState]>(w, 'failed');
    expect(job.id).to.equal(id);
    expect(err).to.be.instanceOf(NoRetryError);
    expect(state).to.equal('dead');
    const s = await suite.queue.status(id);
    expect(s!.state).to.equal('dead');
    expect(s!.deliveries).to.equal(1);
    expect(s!.lastError).to.equal('bad input');
  });

  it('heartbeats keep a job whose handler runs longer than its lease', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'long');
    const touches: number[] = [];
    let runs = 0;
    const w = worker(
      name,
      async (job) => {
        runs++;
        await new Promise((r) => setTimeout(r, 1500));
        touches.push(await job.touch()); // a manual heartbeat too
        return 'survived';
      },
      { lease: 400 },
    );
    expect(w.heartbeat).to.equal(200);
    // a second worker on the queue would get the job if its lease ran out
    // (started once the first one holds the job, or it could win the first claim)
    const other: string[] = [];
    await until(() => runs === 1, 5000, 'the first worker started the job');
    worker(name, async (job) => {
      other.push(job.id);
    });
    const s = await suite.queue.waitFor(id, 8000);
    expect(s!.state).to.equal('completed');
    expect(s!.deliveries).to.equal(1);
    expect(s!.result).to.equal('survived');
    expect(runs).to.equal(1);
    expect(other).to.deep.equal([]);
    expect(touches[0]).to.be.within(Date.now() - 1000, Date.now() + 1000);
    expect((await suite.queue.stats(name)).expiredLeases).to.equal(0);
  });

  it('a lost lease (no heartbeats) gives -STALE on ACK: stalled event, result dropped, no crash', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'slow', { retries: 3 });
    const release = gate();
    const w = worker(
      name,
      async (job) => {
        if (job.delivery === 1) await release.promise;
        return `delivery ${job.delivery}`;
      },
      { lease: 200, heartbeat: false },
    );
    const stalled: [string, StalledDuring, boolean][] = [];
    w.on('stalled', (job, during) => stalled.push([job.id, during, job.signal.aborted]));
    const completed: [number, boolean][] = [];
    w.on('completed', (job, _r, acked) => completed.push([job.delivery, acked]));
    await until(async () => (await suite.queue.stats(name)).expiredLeases >= 1, 5000, 'lease expired');
    expect((await suite.queue.status(id))!.state).to.equal('ready');
    release.open(); // the handler of delivery 1 finishes: ACK ... DELIVERY 1 gets -STALE
    await until(() => stalled.length === 1, 5000, 'stalled event');
    expect(stalled[0]).to.deep.equal([id, 'ack', true]);
    // the worker goes on working: it claims delivery 2 and completes it
    const s = await suite.queue.waitFor(id, 5000);
    expect(s!.state).to.equal('completed');
    expect(s!.result).to.equal('delivery 2');
    expect(completed).to.deep.equal([[2, true]]);
    expect(errors).to.deep.equal([]);
  });

  it('a job completed elsewhere after the lease ran out: ACK :0, completed with acked=false', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, 'slow', { retries: 3 });
    const release = gate();
    const slow = worker(
      name,
      async () => {
        await release.promise;
        return 'slow';
      },
      { lease: 200, heartbeat: false },
    );
    const slowDone: boolean[] = [];
    slow.on('completed', (_job, _r, acked) => slowDone.push(acked));
    await until(async () => (await suite.queue.stats(name)).expiredLeases >= 1, 5000, 'lease expired');
    const fast = worker(name, async () => 'fast');
    expect((await suite.queue.waitFor(id, 5000))!.result).to.equal('fast');
    await fast.close();
    release.open();
    await until(() => slowDone.length === 1, 5000, 'slow ACK');
    expect(slowDone).to.deep.equal([false]);
    expect((await suite.queue.status(id))!.result).to.equal('fast');
  });

  it('a lost lease found by a heartbeat: stalled during touch, signal aborted, no ACK', async () => {
    const name = qname();
    // TTL ends the job (and its lease) while the handler runs; the next TOUCH gets -STALE
    const id = await suite.queue.enqueue(name, 'x', { ttl: 300 });
    const release = gate();
    let signalled = false;
    const w = worker(
      name,
      async (job) => {
        job.signal.addEventListener('abort', () => {
          signalled = true;
        });
        await release.promise;
        return 'late';
      },
      { lease: 5000, heartbeat: 100 },
    );
    const completed: string[] = [];
    w.on('completed', (job) => completed.push(job.id));
    const [job, during] = await nextEvent<[Job, StalledDuring]>(w, 'stalled', 5000);
    expect(job.id).to.equal(id);
    expect(during).to.equal('touch');
    expect(signalled).to.equal(true);
    release.open();
    await until(() => w.activeCount === 0, 3000, 'handler finished');
    expect(completed).to.deep.equal([]);
    const s = await suite.queue.status(id);
    expect(s!.state).to.equal('dead');
    expect(s!.lastError).to.match(/expired/);
    expect(s!.result).to.equal(null);
  });

  it('payload and result codecs: msgpack on both sides', async () => {
    const name = qname();
    const mq = new Queue<{ n: number }, { twice: number }>(suite.url, { codec: 'msgpack' });
    try {
      const id = await mq.enqueue(name, { n: 21 });
      worker<{ n: number }, { twice: number }>(name, async (job) => ({ twice: job.data.n * 2 }), { codec: 'msgpack' });
      const s = await mq.waitFor(id, 5000);
      expect(s!.result).to.deep.equal({ twice: 42 });
      const raw = (await suite.queue.redis.callBuffer('STATUS', id)) as Buffer[];
      const i = raw.findIndex((b) => b && b.toString() === 'result');
      expect(new Packr({ useRecords: false }).unpack(raw[i + 1])).to.deep.equal({ twice: 42 });
    } finally {
      await mq.close();
    }
  });

  it('a payload the codec cannot decode fails the job for good', async () => {
    const name = qname();
    const id = await suite.queue.enqueue(name, Buffer.from([0x92, 0x01])); // an array of 2 with one element: truncated MessagePack
    const w = worker(name, async (job) => job.data, { codec: 'msgpack' });
    const [, err, state] = await nextEvent<[Job, Error, NackState]>(w, 'failed');
    expect(err.name).to.equal('DecodeError');
    expect(state).to.equal('dead');
    expect((await suite.queue.status(id))!.lastError).to.match(/MessagePack/);
  });

  it('binary payloads reach the handler intact (raw codec)', async () => {
    const name = qname();
    const bytes = Buffer.from([0, 255, 13, 10, 36, 42]);
    const id = await suite.queue.enqueue(name, bytes);
    const seen: Buffer[] = [];
    worker<Buffer>(
      name,
      async (job) => {
        seen.push(job.data);
      },
      { codec: 'raw' },
    );
    await suite.queue.waitFor(id, 5000);
    expect(seen).to.deep.equal([bytes]);
  });

  describe('close()', () => {
    it('stops claiming and waits for running handlers', async () => {
      const name = qname();
      const id = await suite.queue.enqueue(name, 'x');
      let finished = false;
      const w = worker(name, async () => {
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
        return 'done';
      });
      await until(() => w.activeCount === 1, 3000, 'job active');
      const closed = nextEvent(w, 'closed');
      await w.close(5000);
      await closed;
      expect(finished).to.equal(true);
      expect((await suite.queue.status(id))!.state).to.equal('completed');
      const later = await suite.queue.enqueue(name, 'after close');
      // a closed worker claims nothing: it has no connection left to claim on
      await until(async () => !/ name=resq-worker/.test(String(await suite.queue.redis.call('CLIENT', 'LIST'))), 3000, 'the worker connections closed');
      expect((await suite.queue.status(later))!.state).to.equal('ready');
    });

    it('with requeueOnClose (the default), a graceful close still lets running handlers finish: the job completes in its first delivery', async () => {
      const name = qname();
      const id = await suite.queue.enqueue(name, 'x');
      const w = worker(name, async () => {
        await new Promise((r) => setTimeout(r, 300));
        return 'done';
      });
      expect(w.requeueOnClose).to.equal(true);
      await until(() => w.activeCount === 1, 3000, 'job active');
      await w.close(5000);
      const s = await suite.queue.status(id);
      expect(s!.state).to.equal('completed');
      expect(s!.deliveries).to.equal(1);
      expect((await suite.queue.stats(name)).failed).to.equal(0);
    });

    it('after the timeout gives running jobs back (NACK DELAY 0) and aborts their signal', async () => {
      const name = qname();
      const id = await suite.queue.enqueue(name, 'stuck', { retries: 3, backoff: { base: 60000 } });
      let aborted = false;
      const w = worker(name, async (job) => {
        job.signal.addEventListener('abort', () => {
          aborted = true;
        });
        await new Promise((r) => setTimeout(r, 3000));
        return 'too late';
      });
      const failed: NackState[] = [];
      w.on('failed', (_j, _e, state) => failed.push(state));
      await until(() => w.activeCount === 1, 3000, 'job active');
      const t0 = Date.now();
      await w.close(200);
      expect(Date.now() - t0).to.be.below(2000);
      expect(aborted).to.equal(true);
      expect(failed).to.deep.equal(['ready']);
      const s = await suite.queue.status(id);
      expect(s!.state).to.equal('ready'); // at once, not after the job's one-minute backoff
      expect(s!.lastError).to.match(/worker closed/);
      // another worker finishes it
      worker(name, async () => 'finished elsewhere');
      expect((await suite.queue.waitFor(id, 5000))!.result).to.equal('finished elsewhere');
    });

    it('runs the jobs a claim in flight brings back while closing', async () => {
      const name = qname();
      const done: string[] = [];
      const w = worker(
        name,
        async (job) => {
          done.push(job.id);
        },
        { block: 10000 },
      );
      await claimsParked(1);
      const closing = w.close(15000);
      // close() waits for the parked CLAIM, which the broker hands this job to: the worker must run it, not strand it active
      const id = await suite.queue.enqueue(name, 'during close');
      await closing;
      expect((await suite.queue.status(id))!.state).to.equal('completed');
      expect(done).to.deep.equal([id]);
    });
  });

  describe('reconnect', () => {
    it('keeps working when its connections are killed (CLIENT KILL) mid-job and mid-CLAIM (requeueOnClose false: the lease keeps the job)', async () => {
      const name = qname();
      const release = gate();
      const completed: [string, boolean][] = [];
      const w = worker(
        name,
        async (job) => {
          if (job.data === 'in flight') await release.promise;
          return job.data;
        },
        { concurrency: 2, block: 1000, requeueOnClose: false },
      );
      w.on('completed', (job, _r, acked) => completed.push([job.id, acked]));
      const inFlight = await suite.queue.enqueue(name, 'in flight');
      await until(() => w.activeCount === 1, 3000, 'in-flight job active');
      await claimsParked(1); // the next CLAIM blocks on the broker
      const list = String(await suite.queue.redis.call('CLIENT', 'LIST'));
      const ids = [...list.matchAll(/^id=(\d+) .*name=resq-worker(-claim)? /gm)].map((m) => m[1]);
      expect(ids).to.have.length(2);
      for (const id of ids) await suite.queue.redis.call('CLIENT', 'KILL', 'ID', id);
      release.open();
      const after = await suite.queue.enqueue(name, 'after');
      await until(() => completed.length === 2, 10000, 'two completions');
      expect(completed.map(([id]) => id).sort()).to.deep.equal([inFlight, after].sort());
      expect(completed.every(([, acked]) => acked)).to.equal(true);
      const s = await suite.queue.status(inFlight);
      expect(s!.deliveries).to.equal(1);
      expect(s!.result).to.equal('in flight');
      expect((await suite.queue.stats(name)).acked).to.equal(2);
    });

    it('with requeueOnClose (the default), a killed claim connection gives its in-flight job back: it runs again, the first ACK is stale', async () => {
      const name = qname();
      const release = gate();
      const stalled: Array<[number, StalledDuring]> = [];
      const completed: Array<[number, boolean]> = [];
      const w = worker(
        name,
        async (job) => {
          if (job.data === 'in flight') await release.promise;
          return job.data;
        },
        { concurrency: 2, block: 1000 },
      );
      w.on('stalled', (job, during) => stalled.push([job.delivery, during]));
      w.on('completed', (job, _r, acked) => completed.push([job.delivery, acked]));
      const inFlight = await suite.queue.enqueue(name, 'in flight');
      await until(() => w.activeCount === 1, 3000, 'in-flight job active');
      await claimsParked(1);
      const list = String(await suite.queue.redis.call('CLIENT', 'LIST'));
      const [claimId] = [...list.matchAll(/^id=(\d+) .*name=resq-worker-claim /gm)].map((m) => m[1]);
      await suite.queue.redis.call('CLIENT', 'KILL', 'ID', claimId);
      await until(async () => (await suite.queue.status(inFlight))!.deliveries === 2, 3000, 'the job handed out again');
      release.open();
      await until(async () => (await suite.queue.status(inFlight))!.state === 'completed', 5000, 'job completed');
      await until(() => stalled.length === 1, 3000, 'the first delivery reported stalled');
      expect(stalled).to.deep.equal([[1, 'ack']]);
      expect(completed).to.deep.equal([[2, true]]);
      expect(await suite.queue.stats(name)).to.include({ acked: 1, failed: 1 });
    });

    it('keeps working across a broker restart, completing an in-flight job once', async () => {
      const name = qname();
      const release = gate();
      const completed: [string, boolean][] = [];
      const w = worker(
        name,
        async (job) => {
          if (job.data === 'in flight') await release.promise;
          return job.data;
        },
        { concurrency: 2, lease: 20000 },
      );
      w.on('completed', (job, _r, acked) => completed.push([job.id, acked]));
      const before = await suite.queue.enqueue(name, 'before');
      await until(() => completed.length === 1, 5000, 'first job');
      const inFlight = await suite.queue.enqueue(name, 'in flight');
      await until(() => w.activeCount === 1, 3000, 'in-flight job active');

      expect(await suite.broker.stop()).to.equal(0);
      await suite.broker.restart();
      release.open();
      const after = await suite.queue.enqueue(name, 'after');
      await until(() => completed.length === 3, 10000, 'three completions');
      expect(completed.map(([id]) => id).sort()).to.deep.equal([before, inFlight, after].sort());
      expect(completed.every(([, acked]) => acked)).to.equal(true);
      const s = await suite.queue.status(inFlight);
      expect(s!.state).to.equal('completed');
      expect(s!.deliveries).to.equal(1); // its lease survived the restart: no redelivery
      const more = await suite.queue.enqueueMany(
        name,
        [1, 2, 3].map((i) => ({ payload: i })),
      );
      for (const id of more) expect((await suite.queue.waitFor(id, 5000))!.state).to.equal('completed');
    });

    it('keeps claiming after the broker was down for a while (SIGKILL)', async () => {
      const name = qname();
      const done: string[] = [];
      const w = worker(
        name,
        async (job) => {
          done.push(job.id);
        },
        { retryDelay: 50 },
      );
      await claimsParked(1);
      await suite.broker.kill();
      await until(() => errors.length > 0, 5000, 'the worker saw its CLAIM fail while the broker is down');
      await suite.broker.restart();
      const id = await suite.queue.enqueue(name, 'x');
      await until(() => done.includes(id), 10000, 'job after restart');
      expect(w.isRunning).to.equal(true);
    });
  });
});
