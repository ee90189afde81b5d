import { expect } from 'chai';
import Redis from 'ioredis';
import type { Broker } from '../server/broker';
import { startInProcessBroker } from './helpers/in-process-broker';
import { ScriptedLog } from './helpers/scripted-log';
import { BrokerProcess, startBroker } from './helpers/broker';
import { expectError, fields, waitFor } from './helpers/util';
import { sleep } from './helpers/persistence-fs';

/**
 * When RESP replies go out (lease-durability): through ioredis against an
 * in-process broker whose log a test writes and syncs by hand, so "written
 * but not durable" can be held as long as the test likes.
 */

/** resolves to the reply; `settled` says whether it came yet */
function track<T>(p: Promise<T>): { settled: () => boolean; value: Promise<T> } {
  let done = false;
  const value = p.then(
    (v) => ((done = true), v),
    (e: unknown) => {
      done = true;
      throw e;
    },
  );
  return { settled: () => done, value };
}

/** long enough for a reply that is free to go to arrive over loopback */
const settle = () => sleep(50);

for (const mode of ['written', 'fsync'] as const)
  describe(`reply durability: lease-durability ${mode} (ioredis, scripted log)`, function () {
    this.timeout(10000);
    let broker: Broker;
    let stop: () => Promise<void>;
    let producer: Redis;
    let worker: Redis;
    let log: ScriptedLog;

    beforeEach(async () => {
      ({ broker, stop } = await startInProcessBroker(['--lease-durability', mode]));
      log = new ScriptedLog();
      broker.attachPersistence(log);
      broker.finishLoading();
      producer = new Redis({ port: broker.port, lazyConnect: true, maxRetriesPerRequest: 0 });
      worker = new Redis({ port: broker.port, lazyConnect: true, maxRetriesPerRequest: 0 });
      await Promise.all([producer.connect(), worker.connect()]);
    });
    afterEach(async () => {
      producer.disconnect();
      worker.disconnect();
      log.sync();
      await stop();
    });

    const enqueueDurably = async (queue: string, n: number): Promise<string[]> => {
      const ids = Array.from({ length: n }, () => track(producer.call('ENQUEUE', queue, 'p') as Promise<string>));
      await waitFor(() => log.lastLsn >= n, 'the enqueues appended');
      log.sync();
      return Promise.all(ids.map((t) => t.value));
    };

    it('ENQUEUE waits for the fsync even once its record is written', async () => {
      const reply = track(producer.call('ENQUEUE', 'q', 'p'));
      await waitFor(() => log.lastLsn === 1, 'the enqueue appended');
      log.write();
      await settle();
      expect(reply.settled(), 'ENQUEUE answered before its record was durable').to.equal(false);
      expect(log.wanted, 'the held reply asks the log for an fsync').to.equal(1);
      log.sync();
      expect(await reply.value).to.be.a('string');
    });

    it(
      mode === 'written' ? 'CLAIM, TOUCH, NACK and ACK are answered once written, before the fsync' : 'CLAIM, TOUCH, NACK and ACK wait for the fsync',
      async () => {
        const [a, b] = await enqueueDurably('q', 2);
        const steps: Array<() => Promise<unknown>> = [
          () => worker.call('CLAIM', 'q', 'COUNT', '2'),
          () => worker.call('TOUCH', a, 'LEASE', '60000'),
          () => worker.call('NACK', b, 'DELAY', '60000'),
          () => worker.call('ACK', a),
        ];
        for (const step of steps) {
          const before = log.lastLsn;
          const reply = track(step());
          await waitFor(() => log.lastLsn > before, 'the request appended its record');
          await settle();
          expect(reply.settled(), 'answered before the record was written').to.equal(false);
          log.write();
          await settle();
          expect(reply.settled()).to.equal(mode === 'written');
          // written: nobody asks for an fsync of a lease record (the log syncs it within its interval)
          if (mode === 'written') expect(log.wanted).to.be.lessThan(log.lastLsn);
          else expect(log.wanted).to.equal(log.lastLsn);
          log.sync();
          await reply.value;
        }
        expect(await producer.call('STATUS', a)).to.include('completed');
      },
    );

    it('a read after a lease operation waits for the fsync: replies never pass each other', async () => {
      const [id] = await enqueueDurably('q', 1);
      const claim = track(worker.call('CLAIM', 'q'));
      await waitFor(() => log.lastLsn === 2, 'the claim appended');
      const status = track(worker.call('STATUS', id));
      await settle();
      log.write();
      await settle();
      expect(claim.settled()).to.equal(mode === 'written');
      expect(status.settled(), 'STATUS shows the claim before it is durable').to.equal(false);
      log.sync();
      await Promise.all([claim.value, status.value]);
    });

    it('a pipeline of ACK then CLAIM (what the SDK worker sends) goes out together once written', async () => {
      const [a] = await enqueueDurably('q', 2);
      const first = worker.call('CLAIM', 'q');
      await waitFor(() => log.lastLsn === 3, 'the first claim appended');
      log.sync();
      await first;
      const results = track(worker.pipeline().call('ACK', a).call('CLAIM', 'q').exec());
      await waitFor(() => log.lastLsn === 5, 'the ACK and the CLAIM appended');
      log.write();
      await settle();
      expect(results.settled()).to.equal(mode === 'written');
      log.sync();
      const replies = (await results.value)!;
      expect(replies[0][1]).to.equal(1);
      expect(replies[1][1]).to.have.length(1);
    });

    it('a blocked CLAIM woken by an ENQUEUE: the delivery needs the enqueue written, the ENQUEUE reply needs it durable', async () => {
      const claim = track(worker.call('CLAIM', 'q', 'BLOCK', '5000'));
      await waitFor(() => [...broker.clients.all()].some((c) => c.isBlocked), 'the CLAIM parked');
      const enqueue = track(producer.call('ENQUEUE', 'q', 'p'));
      await waitFor(() => log.lastLsn === 2, 'the enqueue and the claim appended');
      await settle();
      expect(claim.settled(), 'delivered before its records were written').to.equal(false);
      log.write();
      await settle();
      expect(claim.settled()).to.equal(mode === 'written');
      expect(enqueue.settled(), 'ENQUEUE answered before it was durable').to.equal(false);
      log.sync();
      const [reply, id] = await Promise.all([claim.value, enqueue.value]);
      expect((reply as unknown[][])[0][0]).to.equal(id);
    });

    it('CONFIG SET lease-durability switches at once; a bad value is -ERR naming the choices', async () => {
      const other = mode === 'written' ? 'fsync' : 'written';
      await expectError(producer.call('CONFIG', 'SET', 'lease-durability', 'sometimes'), 'ERR', /expected one of written, fsync/);
      expect(await producer.call('CONFIG', 'SET', 'lease-durability', other)).to.equal('OK');
      await enqueueDurably('q', 1);
      const claim = track(worker.call('CLAIM', 'q'));
      await waitFor(() => log.lastLsn === 2, 'the claim appended');
      log.write();
      await settle();
      expect(claim.settled()).to.equal(other === 'written');
      log.sync();
      await claim.value;
    });
  });

describe('reply durability: answered lease operations survive kill -9 (real process, ioredis)', function () {
  this.timeout(30000);
  let broker: BrokerProcess;
  afterEach(async () => broker.cleanup());

  it('every CLAIM and ACK answered before the SIGKILL is still in effect after the restart: no delivery handed out twice', async () => {
    broker = await startBroker(); // lease-durability written, appendfsync always: the defaults
    const producer = new Redis({ port: broker.port });
    const worker = new Redis({ port: broker.port, maxRetriesPerRequest: 0 });
    worker.on('error', () => {}); // the SIGKILL resets the connection
    const pipeline = producer.pipeline();
    for (let i = 0; i < 300; i++) pipeline.call('ENQUEUE', 'k', `p${i}`);
    const ids = (await pipeline.exec())!.map(([err, id]) => {
      if (err) throw err;
      return id as string;
    });
    expect(ids).to.have.length(300);
    producer.disconnect();
    // claim and ack in a tight loop; the SIGKILL lands while replies are still coming
    const claimed = new Map<string, number>();
    const acked = new Set<string>();
    /** ACKs sent whose reply did not come: either outcome is right */
    const ackUnknown = new Set<string>();
    let running = true;
    const loop = (async () => {
      while (running) {
        let jobs: Array<[string, string, string, number]>;
        try {
          jobs = (await worker.call('CLAIM', 'k', 'COUNT', '3', 'LEASE', '600000')) as Array<[string, string, string, number]>;
        } catch {
          return;
        }
        if (jobs.length === 0) return;
        for (const [id, , , delivery] of jobs) claimed.set(id, delivery);
        const [first] = jobs[0];
        ackUnknown.add(first);
        try {
          if ((await worker.call('ACK', first)) === 1) acked.add(first);
        } catch {
          return;
        }
        ackUnknown.delete(first);
      }
    })();
    await waitFor(() => claimed.size >= 60, 'some claims answered');
    await broker.kill();
    running = false;
    await loop;
    worker.disconnect();
    await broker.restart();
    const check = new Redis({ port: broker.port });
    try {
      for (const [id, delivery] of claimed) {
        const status = fields((await check.call('STATUS', id)) as unknown[]);
        if (acked.has(id)) expect(status.state, `${id} was acknowledged`).to.equal('completed');
        else if (ackUnknown.has(id) && status.state === 'completed') continue;
        else {
          expect(status.state, `${id} was delivered`).to.equal('active');
          expect(Number(status.deliveries)).to.equal(delivery);
        }
      }
      // what is left to claim is exactly what was never handed out
      const rest = (await check.call('CLAIM', 'k', 'COUNT', '1000')) as Array<[string]>;
      const again = rest.map(([id]) => id).filter((id) => claimed.has(id));
      expect(again, 'handed out again after the restart').to.deep.equal([]);
      // the CLAIM in flight at the kill may have been logged without its reply arriving: its jobs
      // (at most one CLAIM's COUNT) are active under their lease, and were not handed out again
      const restIds = new Set(rest.map(([id]) => id));
      const unanswered = ids.filter((id) => !claimed.has(id) && !restIds.has(id));
      expect(unanswered.length, 'jobs neither answered nor claimable').to.be.at.most(3);
      for (const id of unanswered) expect(fields((await check.call('STATUS', id)) as unknown[]).state, `${id}: claimed, reply lost`).to.equal('active');
    } finally {
      check.disconnect();
    }
  });
});
