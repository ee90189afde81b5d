/** The producer SDK (client/queue.ts) against a real broker. */
import { expect } from 'chai';
import Redis from 'ioredis';
import { Packr } from 'msgpackr';
import {
  BatchError,
  CommandError,
  ConnectionError,
  FullError,
  NoJobError,
  Queue,
  ResqError,
  StaleError,
  StateError,
  TooBigError,
  Worker,
  toResqError,
} from '../client';
import { BrokerProcess } from './helpers/broker';
import { brokerUrl, qname, startSdkBroker, until } from './helpers/sdk-util';

describe('client Queue (producer SDK)', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  let url: string;
  let queue: Queue;
  const open: { close(): Promise<void> }[] = [];

  function track<X extends { close(): Promise<void> }>(x: X): X {
    open.push(x);
    return x;
  }

  /** waits until INFO clients reports `field` (blocked_claims, blocked_waitjobs) at n */
  const blockedOnBroker = (field: string, n: number) =>
    until(async () => new RegExp(`${field}:${n}\\r?\\n`).test(String(await queue.redis.call('INFO', 'clients'))), 5000, `${field} ${n}`);

  before(async () => {
    broker = await startSdkBroker({ 'max-payload': '65536', 'default-retries': '2' });
    url = brokerUrl(broker);
  });
  beforeEach(() => {
    queue = track(new Queue(url));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });
  after(async () => {
    await broker.cleanup();
  });

  describe('connection', () => {
    it('defaults to RESQ_URL', async () => {
      const saved = process.env.RESQ_URL;
      process.env.RESQ_URL = url;
      try {
        const q = track(new Queue());
        expect(await q.length(qname())).to.equal(0);
      } finally {
        if (saved === undefined) delete process.env.RESQ_URL;
        else process.env.RESQ_URL = saved;
      }
    });

    it('uses a given ioredis instance and leaves it open on close()', async () => {
      const redis = new Redis(url);
      try {
        const q = new Queue(redis);
        await q.enqueue(qname(), 'x');
        await q.close();
        expect(await redis.ping()).to.equal('PONG');
      } finally {
        redis.disconnect();
      }
    });

    it('works on a connection that has auto-pipelining on', async () => {
      const q = track(new Queue({ port: broker.port, host: '127.0.0.1', enableAutoPipelining: true }));
      const name = qname();
      const [id, stats] = await Promise.all([q.enqueue(name, { a: 1 }), q.stats(name), q.length(name)]);
      expect(id).to.be.a('string');
      expect(stats.enqueued).to.equal(1);
    });
  });

  describe('enqueue and status', () => {
    it('returns the id and a typed status (numbers as numbers, nils as null)', async () => {
      const name = qname();
      const before = Date.now();
      const id = await queue.enqueue(name, { hello: 'world' });
      const s = await queue.status(id);
      expect(s).to.not.equal(null);
      expect(s!.id).to.equal(id);
      expect(s!.queue).to.equal(name);
      expect(s!.state).to.equal('ready');
      expect(s!.priority).to.equal('normal');
      expect(s!.deliveries).to.equal(0);
      expect(s!.retries).to.equal(2); // default-retries of this broker
      expect(s!.createdAt)
        .to.be.a('number')
        .within(before - 1000, Date.now() + 1000);
      expect(s!.updatedAt).to.be.a('number');
      expect(s!.runAt).to.equal(null);
      expect(s!.leaseUntil).to.equal(null);
      expect(s!.lastError).to.equal(null);
      expect(s!.result).to.equal(null);
      expect(s).to.not.have.property('payload');
      const withPayload = await queue.status(id, { withPayload: true });
      expect(withPayload!.payload).to.deep.equal({ hello: 'world' });
    });

    it('status of an unknown id is null', async () => {
      expect(await queue.status('no-such-job-' + Date.now())).to.equal(null);
    });

    it('sends every option: priority, retries, backoff, lease, ttl, id', async () => {
      const name = qname();
      const low = await queue.enqueue(name, 'low', { priority: 'low' });
      const high = await queue.enqueue(name, 'high', { priority: 'high', retries: 7, backoff: { base: 50, max: 500 }, lease: 1234, ttl: 60000 });
      const peeked = await queue.peek(name, 2);
      expect(peeked.map((j) => j.id)).to.deep.equal([high, low]);
      const s = await queue.status(high);
      expect(s!.priority).to.equal('high');
      expect(s!.retries).to.equal(7);
      const stats = await queue.stats(name);
      expect(stats.readyHigh).to.equal(1);
      expect(stats.readyLow).to.equal(1);
      // the option values round-trip through the broker; these extra STATUS
      // fields are not in the contract, so only check them when present
      if ('lease' in s!.extra) expect(s!.extra.lease).to.equal(1234);
      if ('backoff' in s!.extra) expect(s!.extra.backoff).to.equal(50);
    });

    it('delay and at schedule the job', async () => {
      const name = qname();
      const t0 = Date.now();
      const d = await queue.enqueue(name, 'd', { delay: 60000 });
      const a = await queue.enqueue(name, 'a', { at: new Date(t0 + 120000) });
      const n = await queue.enqueue(name, 'n', { at: t0 + 90000 });
      const [sd, sa, sn] = await Promise.all([queue.status(d), queue.status(a), queue.status(n)]);
      expect(sd!.state).to.equal('scheduled');
      expect(sd!.runAt).to.be.within(t0 + 59000, Date.now() + 61000);
      expect(sa!.state).to.equal('scheduled');
      expect(sa!.runAt).to.equal(t0 + 120000);
      expect(sn!.runAt).to.equal(t0 + 90000);
      expect((await queue.stats(name)).scheduled).to.equal(3);
    });

    it('a short delay becomes ready', async () => {
      const name = qname();
      const id = await queue.enqueue(name, 'soon', { delay: 100 });
      await until(async () => (await queue.status(id))!.state === 'ready', 3000, 'job ready');
    });

    it('ttl expires a job that is not completed: dead with last-error expired', async () => {
      const name = qname();
      const id = await queue.enqueue(name, 'x', { ttl: 150 });
      const s = await queue.waitFor(id, 5000);
      expect(s!.state).to.equal('dead');
      expect(s!.lastError).to.match(/expired/);
    });

    it('id makes enqueue idempotent', async () => {
      const name = qname();
      const myId = `order-${Date.now()}`;
      expect(await queue.enqueue(name, { n: 1 }, { id: myId })).to.equal(myId);
      expect(await queue.enqueue(name, { n: 2 }, { id: myId })).to.equal(myId);
      expect(await queue.length(name)).to.equal(1);
      expect((await queue.status(myId, { withPayload: true }))!.payload).to.deep.equal({ n: 1 });
    });

    it('rejects bad options before sending', async () => {
      const name = qname();
      for (const bad of [{ delay: -1 }, { delay: 1.5 }, { delay: 1, at: 2 }, { priority: 'urgent' }, { retries: NaN }, { id: '' }]) {
        let err: unknown;
        try {
          await queue.enqueue(name, 'x', bad as never);
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(bad)).to.be.instanceOf(TypeError);
      }
      expect(await queue.length(name)).to.equal(0);
    });

    it('TooBigError above max-payload', async () => {
      const err = await queue.enqueue(qname(), Buffer.alloc(70000)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(TooBigError);
      expect((err as TooBigError).code).to.equal('TOOBIG');
      expect((err as TooBigError).cause).to.be.instanceOf(Error);
    });

    it('FullError at maxlen; with block it waits for room', async () => {
      const name = qname();
      await queue.setMaxLen(name, 1);
      expect((await queue.stats(name)).maxLen).to.equal(1);
      await queue.enqueue(name, 'first');
      const err = await queue.enqueue(name, 'second').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(FullError);
      const timedOut = await queue.enqueue(name, 'second', { block: 100 }).catch((e: unknown) => e);
      expect(timedOut).to.be.instanceOf(FullError);
      // a blocked enqueue does not hold up the Queue's other calls
      const blocked = queue.enqueue(name, 'second', { block: 5000 });
      expect(await queue.length(name)).to.equal(1);
      const worker = track(new Worker(name, async () => 'done', { connection: url, block: 100 }));
      const id = await blocked;
      expect(id).to.be.a('string');
      await until(async () => (await queue.status(id))?.state === 'completed', 5000, 'second job completed');
      await worker.close();
      await queue.setMaxLen(name, 0);
    });
  });

  describe('enqueueMany', () => {
    it('items with the same options: one ENQUEUE ... PAYLOADS per batch, the ids in order', async () => {
      const name = qname();
      const q = track(new Queue(url, { batchSize: 1000 }));
      const sent: string[] = [];
      const seen = new Set<unknown>(); // a command sent before the connection is ready passes here twice (offline queue)
      const orig = q.redis.sendCommand.bind(q.redis);
      q.redis.sendCommand = ((cmd: Parameters<typeof orig>[0], ...rest: unknown[]) => {
        if (!seen.has(cmd)) sent.push(`${cmd.name} ${String(cmd.args[1])} ${String(cmd.args[2])}`);
        seen.add(cmd);
        return (orig as (...a: unknown[]) => unknown)(cmd, ...rest);
      }) as typeof q.redis.sendCommand;
      const items = Array.from({ length: 2500 }, (_, i) => ({ payload: { i } }));
      const ids = await q.enqueueMany(name, items, { priority: 'low' });
      expect(sent.filter((c) => c.startsWith('ENQUEUE') || c.startsWith('enqueue'))).to.deep.equal([
        'ENQUEUE PAYLOADS 1000',
        'ENQUEUE PAYLOADS 1000',
        'ENQUEUE PAYLOADS 500',
      ]);
      expect(ids).to.have.length(2500);
      expect(new Set(ids).size).to.equal(2500);
      expect((await q.status(ids[1234], { withPayload: true }))!.payload).to.deep.equal({ i: 1234 });
      const stats = await q.stats(name);
      expect(stats.readyLow).to.equal(2500);
    });

    it('per-item options override the defaults', async () => {
      const name = qname();
      const ids = await queue.enqueueMany(name, [{ payload: 'a' }, { payload: 'b', options: { priority: 'high', id: `many-${Date.now()}` } }], {
        delay: 60000,
      });
      const b = await queue.status(ids[1]);
      expect(b!.priority).to.equal('high');
      expect(b!.state).to.equal('scheduled');
    });

    it('BatchError carries the ids that were enqueued and the errors', async () => {
      const name = qname();
      const items = [{ payload: 'ok1' }, { payload: Buffer.alloc(70000) }, { payload: 'ok2' }];
      const err = await queue.enqueueMany(name, items).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BatchError);
      const b = err as BatchError;
      expect(b.ids[0]).to.be.a('string');
      expect(b.ids[1]).to.equal(null);
      expect(b.ids[2]).to.be.a('string');
      expect(b.errors[1]).to.be.instanceOf(TooBigError);
      expect(b.errors[0]).to.equal(null);
      expect(await queue.length(name)).to.equal(2);
    });
  });

  describe('payload codecs', () => {
    it('Buffers and strings pass as they are; other values as JSON', async () => {
      const name = qname();
      const raw = track(new Queue(url, { codec: 'raw' }));
      await queue.enqueue(name, Buffer.from([0, 1, 2, 255]));
      await queue.enqueue(name, 'plain text');
      await queue.enqueue(name, { a: [1, 2] });
      const jobs = await raw.peek(name, 3);
      expect(jobs.map((j) => j.payload as Buffer)).to.deep.equal([Buffer.from([0, 1, 2, 255]), Buffer.from('plain text'), Buffer.from('{"a":[1,2]}')]);
      const decoded = await queue.peek(name, 3);
      expect(decoded[1].payload).to.equal('plain text');
      expect(decoded[2].payload).to.deep.equal({ a: [1, 2] });
    });

    it('msgpack codec round-trips and stores MessagePack bytes', async () => {
      const name = qname();
      const mp = track(new Queue<{ n: number; s: string; list: number[] }>(url, { codec: 'msgpack' }));
      const value = { n: 42, s: 'héllo', list: [1, 2, 3] };
      const id = await mp.enqueue(name, value);
      expect((await mp.status(id, { withPayload: true }))!.payload).to.deep.equal(value);
      const raw = track(new Queue(url, { codec: 'raw' }));
      const [job] = await raw.peek(name, 1);
      expect(new Packr({ useRecords: false }).unpack(job.payload as Buffer)).to.deep.equal(value);
    });

    it('a custom codec', async () => {
      const name = qname();
      const upper = { name: 'upper', encode: (s: string) => s.toUpperCase(), decode: (b: Buffer) => b.toString().toLowerCase() };
      const q = track(new Queue<string>(url, { codec: upper }));
      const id = await q.enqueue(name, 'MiXeD');
      expect((await q.status(id, { withPayload: true }))!.payload).to.equal('mixed');
      const raw = track(new Queue(url, { codec: 'string' }));
      expect((await raw.peek(name))[0].payload).to.equal('MIXED');
    });
  });

  describe('cancel and waitFor', () => {
    it('cancel: true for ready/scheduled, false otherwise, NoJobError if unknown', async () => {
      const name = qname();
      const a = await queue.enqueue(name, 'a');
      const b = await queue.enqueue(name, 'b', { delay: 60000 });
      expect(await queue.cancel(a)).to.equal(true);
      expect(await queue.cancel(b)).to.equal(true);
      expect(await queue.cancel(a)).to.equal(false);
      expect((await queue.status(a))!.state).to.equal('cancelled');
      const err = await queue.cancel('nope-' + Date.now()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NoJobError);
      expect((err as NoJobError).code).to.equal('NOJOB');
    });

    it('waitFor resolves with the final status and the decoded result', async () => {
      const name = qname();
      const id = await queue.enqueue(name, { x: 2 });
      const waiting = queue.waitFor(id, 5000);
      // a blocked waitFor does not hold up other calls of the same Queue
      expect((await queue.status(id))!.state).to.equal('ready');
      const worker = track(new Worker<{ x: number }, { y: number }>(name, async (job) => ({ y: job.data.x * 2 }), { connection: url, block: 100 }));
      const s = await waiting;
      expect(s!.state).to.equal('completed');
      expect(s!.result).to.deep.equal({ y: 4 });
      expect(s!.deliveries).to.equal(1);
      await worker.close();
    });

    it('waitFor: a cancelled job at once, null on timeout and for an unknown id', async () => {
      const name = qname();
      const id = await queue.enqueue(name, 'x');
      const t0 = Date.now();
      expect(await queue.waitFor(id, 150)).to.equal(null);
      expect(Date.now() - t0).to.be.at.least(100);
      const several = await Promise.all([queue.waitFor(id, 3000), queue.waitFor(id, 3000), queue.cancel(id)]);
      expect(several[0]!.state).to.equal('cancelled');
      expect(several[1]!.state).to.equal('cancelled');
      expect(await queue.waitFor('unknown-' + Date.now(), 2000)).to.equal(null);
    });

    it('close() rejects a pending waitFor with ConnectionError', async () => {
      const q = new Queue(url);
      const id = await q.enqueue(qname(), 'x');
      const waiting = q.waitFor(id).catch((e: unknown) => e);
      await blockedOnBroker('blocked_waitjobs', 1);
      await q.close();
      expect(await waiting).to.be.instanceOf(ConnectionError);
      const after = await q.length('x').catch((e: unknown) => e);
      expect(after).to.be.instanceOf(ConnectionError);
    });
  });

  describe('queue admin', () => {
    it('stats, queues, length, peek', async () => {
      const name = qname();
      await queue.enqueue(name, 'a', { priority: 'high' });
      await queue.enqueue(name, 'b');
      await queue.enqueue(name, 'c', { delay: 60000 });
      const stats = await queue.stats(name);
      expect(stats).to.include({
        ready: 2,
        scheduled: 1,
        active: 0,
        completed: 0,
        dead: 0,
        cancelled: 0,
        readyHigh: 1,
        readyNormal: 1,
        readyLow: 0,
        paused: false,
        maxLen: 0,
        enqueued: 3,
        acked: 0,
        failed: 0,
        retried: 0,
        expiredLeases: 0,
      });
      expect(await queue.queues()).to.include(name);
      expect(await queue.length(name)).to.equal(3);
      const peeked = await queue.peek(name, 10);
      expect(peeked.map((j) => j.payload)).to.deep.equal(['a', 'b']);
      expect(peeked[0]).to.include({ queue: name, deliveries: 0 });
      expect(await queue.length(name)).to.equal(3); // peek claims nothing
    });

    it('setConcurrency caps active jobs across workers; stats shows it', async () => {
      const name = qname();
      await queue.setConcurrency(name, 1);
      await queue.enqueue(name, 'a');
      await queue.enqueue(name, 'b');
      expect((await queue.stats(name)).concurrency).to.equal(1);
      expect((await queue.redis.call('CLAIM', name, 'COUNT', '5')) as unknown[]).to.have.length(1);
      await queue.setConcurrency(name, 0);
      expect((await queue.redis.call('CLAIM', name, 'COUNT', '5')) as unknown[]).to.have.length(1);
      expect((await queue.stats(name)).concurrency).to.equal(0);
    });

    it('pause and resume', async () => {
      const name = qname();
      await queue.pause(name);
      expect((await queue.stats(name)).paused).to.equal(true);
      const id = await queue.enqueue(name, 'x');
      const done: string[] = [];
      const worker = track(
        new Worker(
          name,
          async (job) => {
            done.push(job.id);
          },
          { connection: url, block: 100 },
        ),
      );
      // a paused queue hands out nothing: the worker's CLAIM is parked although a job is ready
      await blockedOnBroker('blocked_claims', 1);
      expect(done).to.deep.equal([]);
      await queue.resume(name);
      expect((await queue.stats(name)).paused).to.equal(false);
      await until(() => done.length === 1, 5000, 'job done after resume');
      expect(done).to.deep.equal([id]);
      await worker.close();
    });

    it('dlq, requeue, requeueAll, purge', async () => {
      const name = qname();
      const worker = track(
        new Worker(
          name,
          async (job) => {
            if ((job.data as { fail: boolean }).fail) throw new Error('boom ' + job.id);
          },
          { connection: url, block: 100, concurrency: 5 },
        ),
      );
      worker.on('error', () => undefined);
      const ids = await queue.enqueueMany(
        name,
        [0, 1, 2].map(() => ({ payload: { fail: true }, options: { retries: 0 } })),
      );
      await queue.enqueue(name, { fail: false });
      await until(async () => (await queue.stats(name)).dead === 3, 5000, '3 dead');
      await worker.close();
      const dead = await queue.dlq(name);
      expect(dead.map((d) => d.id).sort()).to.deep.equal([...ids].sort());
      expect(dead[0].lastError).to.match(/^boom /);
      expect(dead[0].deliveries).to.equal(1);
      expect(dead[0].payload).to.deep.equal({ fail: true });
      expect(await queue.dlq(name, 1)).to.have.length(1);

      expect(await queue.requeue(ids[0])).to.equal(true);
      expect(await queue.requeue(ids[0])).to.equal(false);
      const s = await queue.status(ids[0]);
      expect(s!.state).to.equal('ready');
      expect(s!.deliveries).to.equal(0);
      expect(await queue.requeue('unknown-' + Date.now()).catch((e: unknown) => e)).to.be.instanceOf(NoJobError);
      expect(await queue.requeueAll(name)).to.equal(2);
      expect((await queue.stats(name)).ready).to.equal(3);

      expect(await queue.purge(name, 'waiting')).to.equal(3);
      expect(await queue.purge(name, 'completed')).to.equal(1);
      expect(await queue.purge(name, 'all')).to.equal(0);
      expect(await queue.length(name)).to.equal(0);
      expect(await queue.purge(name, 'everything' as never).catch((e: unknown) => e)).to.be.instanceOf(TypeError);
    });
  });

  describe('errors', () => {
    it('maps reply codes to classes, keeping the ReplyError as cause', async () => {
      const name = qname();
      const id = await queue.enqueue(name, 'x');
      const raw = new Redis(url);
      try {
        const state = toResqError(await raw.call('ACK', id).catch((e: unknown) => e), 'ACK');
        expect(state).to.be.instanceOf(StateError);
        expect(state.code).to.equal('STATE');
        expect(state.command).to.equal('ACK');
        expect(state.name).to.equal('StateError');
        const stale = toResqError(await raw.call('ACK', id, 'DELIVERY', 1).catch((e: unknown) => e));
        expect(stale).to.be.instanceOf(StaleError);
        const syntax = toResqError(await raw.call('ENQUEUE', name, 'x', 'BOGUS').catch((e: unknown) => e));
        expect(syntax).to.be.instanceOf(CommandError);
        expect(syntax.code).to.equal('ERR');
      } finally {
        raw.disconnect();
      }
      const unknown = toResqError(Object.assign(new Error('WEIRD something'), { name: 'ReplyError' }));
      expect(unknown).to.be.instanceOf(ResqError);
      expect(unknown.code).to.equal('WEIRD');
      expect(toResqError(new Error('Connection is closed.'))).to.be.instanceOf(ConnectionError);
    });
  });
});
