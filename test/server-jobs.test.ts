import { expect } from 'chai';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { brokerForSuite, Clients, cmd, expectError, fields, sleep, waitFor } from './helpers/util';

/**
 * Job commands of the contract, through ioredis (RESP2) over TCP against a
 * real broker process: every option and every error code.
 */

type Entry = [string, string, string, number];

let qn = 0;
const newQueue = (tag = 'q') => `jobs-${tag}-${++qn}`;

async function enqueue(r: Redis, queue: string, payload: string, ...opts: Array<string | number>): Promise<string> {
  const id = await cmd(r, 'ENQUEUE', queue, payload, ...opts);
  expect(id).to.be.a('string');
  return id as string;
}

async function claim(r: Redis, queue: string, ...opts: Array<string | number>): Promise<Entry[]> {
  const jobs = await cmd(r, 'CLAIM', queue, ...opts);
  expect(jobs).to.be.an('array');
  return jobs as Entry[];
}

async function claimOne(r: Redis, queue: string, ...opts: Array<string | number>): Promise<Entry> {
  const jobs = await claim(r, queue, ...opts);
  expect(jobs, `one job claimed from ${queue}`).to.have.length(1);
  return jobs[0];
}

async function status(r: Redis, id: string, ...opts: string[]): Promise<Record<string, unknown>> {
  const s = await cmd(r, 'STATUS', id, ...opts);
  expect(s, `STATUS ${id}`).to.not.equal(null);
  return fields(s);
}

async function qstats(r: Redis, queue: string): Promise<Record<string, number>> {
  return fields(await cmd(r, 'QSTATS', queue)) as Record<string, number>;
}

const STATUS_KEYS = ['id', 'queue', 'state', 'priority', 'deliveries', 'retries', 'created-at', 'updated-at', 'run-at', 'lease-until', 'last-error', 'result'];

describe('server: job commands (ioredis, RESP2)', function () {
  this.timeout(10000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;

  before(async () => {
    broker = await startBroker({ 'max-payload': '1000' });
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  describe('ENQUEUE', () => {
    it('returns a new id for each job; the job is ready with the defaults', async () => {
      const q = newQueue();
      const a = await enqueue(r, q, 'a');
      const b = await enqueue(r, q, 'b');
      expect(a).to.not.equal(b);
      const s = await status(r, a, 'WITHPAYLOAD');
      expect(s).to.include({ id: a, queue: q, state: 'ready', priority: 'normal', deliveries: 0, retries: 3, payload: 'a' });
      expect(await cmd(r, 'QLEN', q)).to.equal(2);
    });

    it('PRIORITY high|normal|low (case-insensitive) is stored and claimed highest first', async () => {
      const q = newQueue();
      const low = await enqueue(r, q, 'l', 'PRIORITY', 'low');
      const normal = await enqueue(r, q, 'n', 'priority', 'NORMAL');
      const high = await enqueue(r, q, 'h', 'PRIORITY', 'High');
      expect((await status(r, low)).priority).to.equal('low');
      expect((await status(r, high)).priority).to.equal('high');
      const got = await claim(r, q, 'COUNT', 3);
      expect(got.map((j) => j[0])).to.deep.equal([high, normal, low]);
      await expectError(cmd(r, 'ENQUEUE', q, 'x', 'PRIORITY', 'urgent'), 'ERR', /PRIORITY/);
    });

    it('DELAY ms: scheduled with run-at, claimable only once the delay has passed', async () => {
      const q = newQueue();
      const t0 = Date.now();
      const id = await enqueue(r, q, 'later', 'DELAY', 150);
      const s = await status(r, id);
      expect(s.state).to.equal('scheduled');
      expect((s['run-at'] as number) - (s['created-at'] as number)).to.equal(150);
      expect(await claim(r, q)).to.deep.equal([]);
      const job = await claimOne(r, q, 'BLOCK', 3000);
      expect(job[0]).to.equal(id);
      expect(Date.now() - t0).to.be.at.least(140);
    });

    it('AT unix-ms: scheduled until then; a time in the past is ready at once', async () => {
      const q = newQueue();
      const t0 = Date.now();
      const at = t0 + 150;
      const id = await enqueue(r, q, 'at', 'AT', at);
      const s = await status(r, id);
      expect(s.state).to.equal('scheduled');
      expect(s['run-at']).to.equal(at);
      const past = await enqueue(r, q, 'past', 'AT', t0 - 60_000);
      expect((await status(r, past)).state).to.equal('ready');
      expect((await claimOne(r, q))[0]).to.equal(past);
      expect((await claimOne(r, q, 'BLOCK', 3000))[0]).to.equal(id);
      expect(Date.now()).to.be.at.least(at - 10);
      await expectError(cmd(r, 'ENQUEUE', q, 'x', 'DELAY', 10, 'AT', at), 'ERR');
    });

    it('RETRIES n is the allowance shown by STATUS; RETRIES 0 dies on the first failure', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'once', 'RETRIES', 0);
      expect((await status(r, id)).retries).to.equal(0);
      await claimOne(r, q);
      expect(await cmd(r, 'NACK', id)).to.equal('dead');
    });

    it('LEASE ms sets the lease of each delivery; CLAIM LEASE overrides it for that delivery', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'p', 'LEASE', 5000);
      await claimOne(r, q);
      let s = await status(r, id);
      expect((s['lease-until'] as number) - (s['updated-at'] as number)).to.equal(5000);
      await cmd(r, 'NACK', id, 'DELAY', 0);
      await claimOne(r, q, 'LEASE', 777);
      s = await status(r, id);
      expect((s['lease-until'] as number) - (s['updated-at'] as number)).to.equal(777);
    });

    it('ID id: idempotent (same id back, no second job, not counted); reusable once the job is gone', async () => {
      const q = newQueue();
      expect(await enqueue(r, q, 'first', 'ID', 'order-42')).to.equal('order-42');
      expect(await enqueue(r, q, 'second', 'ID', 'order-42', 'PRIORITY', 'high')).to.equal('order-42');
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
      const s = await status(r, 'order-42', 'WITHPAYLOAD');
      expect(s).to.include({ payload: 'first', priority: 'normal' });
      expect((await qstats(r, q)).enqueued).to.equal(1);
      // still idempotent once completed
      await claimOne(r, q);
      expect(await cmd(r, 'ACK', 'order-42')).to.equal(1);
      expect(await enqueue(r, q, 'third', 'ID', 'order-42')).to.equal('order-42');
      expect((await status(r, 'order-42')).state).to.equal('completed');
      // once purged, the id names a new job
      expect(await cmd(r, 'PURGE', q, 'COMPLETED')).to.equal(1);
      expect(await cmd(r, 'STATUS', 'order-42')).to.equal(null);
      expect(await enqueue(r, q, 'fourth', 'ID', 'order-42')).to.equal('order-42');
      expect(await status(r, 'order-42', 'WITHPAYLOAD')).to.include({ state: 'ready', payload: 'fourth', deliveries: 0 });
      await expectError(cmd(r, 'ENQUEUE', q, 'x', 'ID', ''), 'ERR');
    });

    it('server-made ids never collide with client-chosen ones', async () => {
      const q = newQueue();
      const next = Number(await enqueue(r, q, 'probe')) + 1;
      expect(await enqueue(r, q, 'taken', 'ID', String(next))).to.equal(String(next));
      const id = await enqueue(r, q, 'server-made');
      expect(id).to.not.equal(String(next));
      expect(await status(r, id, 'WITHPAYLOAD')).to.include({ payload: 'server-made' });
      expect(await status(r, String(next), 'WITHPAYLOAD')).to.include({ payload: 'taken' });
    });

    it('-FULL at MAXLEN; an idempotent repeat of an existing id is still accepted', async () => {
      const q = newQueue();
      expect(await cmd(r, 'QCONFIG', q, 'MAXLEN', 2)).to.equal('OK');
      await enqueue(r, q, 'a', 'ID', 'full-a');
      await enqueue(r, q, 'b');
      await expectError(cmd(r, 'ENQUEUE', q, 'c'), 'FULL');
      expect(await enqueue(r, q, 'a again', 'ID', 'full-a')).to.equal('full-a');
      expect(await cmd(r, 'QLEN', q)).to.equal(2);
      // active jobs count toward MAXLEN, final ones do not
      const [id] = await claimOne(r, q);
      await expectError(cmd(r, 'ENQUEUE', q, 'c'), 'FULL');
      await cmd(r, 'ACK', id);
      await enqueue(r, q, 'c');
    });

    it('BLOCK on a full queue waits and gets room when a job is acked', async () => {
      const q = newQueue();
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 1);
      const first = await enqueue(r, q, 'first');
      const producer = clients.make();
      let settled = false;
      const pending = (cmd(producer, 'ENQUEUE', q, 'second', 'BLOCK', 5000) as Promise<string>).finally(() => (settled = true));
      await waitFor(async () => /blocked_enqueues:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'producer parked');
      expect(settled).to.equal(false);
      await claimOne(r, q);
      expect(await cmd(r, 'ACK', first)).to.equal(1);
      const id = await pending;
      expect(await status(r, id, 'WITHPAYLOAD')).to.include({ state: 'ready', payload: 'second' });
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
    });

    it('BLOCK also gets room from a NACK to dead, a CANCEL, a PURGE and a bigger MAXLEN', async () => {
      const q = newQueue();
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 1);
      const producer = clients.make();
      const waitRoom = async (free: () => Promise<unknown>) => {
        const pending = cmd(producer, 'ENQUEUE', q, 'next', 'BLOCK', 5000) as Promise<string>;
        await waitFor(async () => /blocked_enqueues:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'producer parked');
        await free();
        return pending;
      };
      const a = await enqueue(r, q, 'a', 'RETRIES', 0);
      await claimOne(r, q);
      const b = await waitRoom(() => cmd(r, 'NACK', a));
      const c = await waitRoom(() => cmd(r, 'CANCEL', b));
      const d = await waitRoom(() => cmd(r, 'PURGE', q, 'WAITING'));
      expect(await cmd(r, 'STATUS', c)).to.equal(null);
      await waitRoom(() => cmd(r, 'QCONFIG', q, 'MAXLEN', 2));
      expect(await cmd(r, 'QLEN', q)).to.equal(2);
      expect((await status(r, d)).state).to.equal('ready');
    });

    it('BLOCK: waiting producers get room in arrival order; one that disconnects gives up its turn', async () => {
      const q = newQueue();
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 1);
      const first = await enqueue(r, q, 'first');
      const parked = (n: number) =>
        waitFor(async () => new RegExp(`blocked_enqueues:${n}\\r?\\n`).test((await cmd(r, 'INFO', 'clients')) as string), `${n} producers parked`);
      const [p1, gone, p2] = [clients.make(), clients.make(), clients.make()];
      const a = cmd(p1, 'ENQUEUE', q, 'from p1', 'BLOCK', 5000) as Promise<string>;
      await parked(1);
      void cmd(gone, 'ENQUEUE', q, 'from gone', 'BLOCK', 0).catch(() => {});
      await parked(2);
      const b = cmd(p2, 'ENQUEUE', q, 'from p2', 'BLOCK', 5000) as Promise<string>;
      await parked(3);
      gone.disconnect();
      await parked(2);
      await claimOne(r, q);
      await cmd(r, 'ACK', first);
      const idA = await a;
      expect(await status(r, idA, 'WITHPAYLOAD')).to.include({ payload: 'from p1' });
      await parked(1);
      await claimOne(r, q);
      await cmd(r, 'ACK', idA);
      const idB = await b;
      expect(await status(r, idB, 'WITHPAYLOAD')).to.include({ payload: 'from p2' });
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
    });

    it('BLOCK times out with -FULL', async () => {
      const q = newQueue();
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 1);
      await enqueue(r, q, 'only');
      const t0 = Date.now();
      await expectError(cmd(r, 'ENQUEUE', q, 'more', 'BLOCK', 150), 'FULL');
      expect(Date.now() - t0).to.be.at.least(140);
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
      // the connection is usable afterwards
      expect(await cmd(r, 'PING')).to.equal('PONG');
    });

    it('-TOOBIG past max-payload (1000 here); exactly the limit is accepted', async () => {
      const q = newQueue();
      const msg = await expectError(cmd(r, 'ENQUEUE', q, 'x'.repeat(1001)), 'TOOBIG');
      expect(msg).to.match(/1001/);
      await enqueue(r, q, 'x'.repeat(1000));
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
      // ACK RESULT has the same limit
      const [id] = await claimOne(r, q);
      await expectError(cmd(r, 'ACK', id, 'RESULT', 'y'.repeat(1001)), 'TOOBIG');
      expect(await cmd(r, 'ACK', id, 'RESULT', 'y'.repeat(1000))).to.equal(1);
    });

    it('syntax errors: unknown option, missing value, bad numbers, wrong arity', async () => {
      const q = newQueue();
      await expectError(cmd(r, 'ENQUEUE', q, 'p', 'COLOR', 'red'), 'ERR', /unknown option/i);
      await expectError(cmd(r, 'ENQUEUE', q, 'p', 'DELAY'), 'ERR');
      for (const bad of ['12abc', '-1', '1.5', '99999999999999999999', '']) {
        await expectError(cmd(r, 'ENQUEUE', q, 'p', 'DELAY', bad), 'ERR');
        await expectError(cmd(r, 'ENQUEUE', q, 'p', 'RETRIES', bad), 'ERR');
      }
      await expectError(cmd(r, 'ENQUEUE', q, 'p', 'LEASE', 0), 'ERR');
      await expectError(cmd(r, 'ENQUEUE', q, 'p', 'TTL', 0), 'ERR');
      await expectError(cmd(r, 'ENQUEUE', q), 'ERR', /wrong number of arguments/);
      expect(await cmd(r, 'QLEN', q)).to.equal(0);
    });
  });

  describe('CLAIM', () => {
    it('hands jobs in FIFO order as [id, queue, payload, deliveries]; COUNT n', async () => {
      const q = newQueue();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await enqueue(r, q, `p${i}`));
      const got = await claim(r, q, 'COUNT', 3);
      expect(got).to.deep.equal([0, 1, 2].map((i) => [ids[i], q, `p${i}`, 1]));
      expect(await claim(r, q, 'count', 10)).to.deep.equal([3, 4].map((i) => [ids[i], q, `p${i}`, 1]));
      expect(await claim(r, q)).to.deep.equal([]);
      expect(await claim(r, newQueue('never'))).to.deep.equal([]);
      for (const id of ids) expect((await status(r, id)).state).to.equal('active');
      await expectError(cmd(r, 'CLAIM', q, 'COUNT', 0), 'ERR');
      await expectError(cmd(r, 'CLAIM', q, 'COUNT', 'x'), 'ERR');
      await expectError(cmd(r, 'CLAIM', q, 'HURRY'), 'ERR', /unknown option/i);
    });

    it('BLOCK: a job enqueued while two clients wait goes to the longest waiter', async () => {
      const q = newQueue();
      const w1 = clients.make();
      const w2 = clients.make();
      const parked = (n: number) =>
        waitFor(async () => new RegExp(`blocked_claims:${n}\\r?\\n`).test((await cmd(r, 'INFO', 'clients')) as string), `${n} claimers parked`);
      const p1 = claim(w1, q, 'BLOCK', 5000);
      await parked(1);
      const p2 = claim(w2, q, 'BLOCK', 5000);
      await parked(2);
      const a = await enqueue(r, q, 'for the first');
      expect(await p1).to.deep.equal([[a, q, 'for the first', 1]]);
      await parked(1);
      const b = await enqueue(r, q, 'for the second');
      expect(await p2).to.deep.equal([[b, q, 'for the second', 1]]);
    });

    it('BLOCK times out with an empty array; BLOCK 0 waits until a job comes', async () => {
      const q = newQueue();
      const blockedClaims = async () => Number(/blocked_claims:(\d+)\r?\n/.exec((await cmd(r, 'INFO', 'clients')) as string)![1]);
      const w = clients.make();
      const pending = claim(w, q, 'BLOCK', 0);
      await waitFor(async () => (await blockedClaims()) === 1, 'the BLOCK 0 claim parked');
      // a BLOCK 150 on the same queue times out while the BLOCK 0 claim stays parked
      const t0 = Date.now();
      expect(await claim(clients.make(), q, 'BLOCK', 150)).to.deep.equal([]);
      expect(Date.now() - t0).to.be.at.least(140);
      expect(await blockedClaims(), 'BLOCK 0 still parked after the BLOCK 150 timed out').to.equal(1);
      const id = await enqueue(r, q, 'finally');
      expect((await pending)[0][0]).to.equal(id);
      expect(await blockedClaims()).to.equal(0);
    });

    it('BLOCK with COUNT hands at most COUNT jobs; a ready job returns at once', async () => {
      const q = newQueue();
      await enqueue(r, q, 'a');
      const t0 = Date.now();
      expect(await claim(r, q, 'BLOCK', 3000, 'COUNT', 5)).to.have.length(1);
      expect(Date.now() - t0).to.be.below(1000);
    });

    it('a blocked claimer that disconnects is not handed jobs', async () => {
      const q = newQueue();
      const gone = clients.make();
      void claim(gone, q, 'BLOCK', 0).catch(() => {});
      await waitFor(async () => /blocked_claims:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'claimer parked');
      gone.disconnect();
      await waitFor(async () => /blocked_claims:0\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'claimer gone');
      const id = await enqueue(r, q, 'x');
      expect((await status(r, id)).state).to.equal('ready');
    });

    it("LEASE ms sets this delivery's lease", async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'p');
      await claimOne(r, q, 'LEASE', 300);
      const s = await status(r, id);
      expect((s['lease-until'] as number) - (s['updated-at'] as number)).to.equal(300);
    });
  });

  describe('ACK', () => {
    it('completes an active job with RESULT; a second ACK replies 0 whatever DELIVERY says', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'work');
      await claimOne(r, q);
      expect(await cmd(r, 'ACK', id, 'RESULT', 'answer')).to.equal(1);
      const s = await status(r, id);
      expect(s).to.include({ state: 'completed', result: 'answer', 'lease-until': null });
      expect(await cmd(r, 'ACK', id)).to.equal(0);
      expect(await cmd(r, 'ACK', id, 'DELIVERY', 1)).to.equal(0);
      expect(await cmd(r, 'ACK', id, 'DELIVERY', 99)).to.equal(0);
      expect((await status(r, id)).result).to.equal('answer');
    });

    it('DELIVERY d: acknowledges the matching delivery', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'w');
      const [, , , d] = await claimOne(r, q);
      expect(await cmd(r, 'ACK', id, 'DELIVERY', d)).to.equal(1);
    });

    it('-NOJOB for an unknown id', async () => {
      await expectError(cmd(r, 'ACK', 'no-such-job'), 'NOJOB');
      await expectError(cmd(r, 'ACK', 'no-such-job', 'DELIVERY', 1), 'NOJOB');
    });

    it('-STATE without DELIVERY for ready, scheduled, dead and cancelled jobs', async () => {
      const q = newQueue();
      const ready = await enqueue(r, q, 'r');
      await expectError(cmd(r, 'ACK', ready), 'STATE', /ready/);
      const scheduled = await enqueue(r, q, 's', 'DELAY', 60_000);
      await expectError(cmd(r, 'ACK', scheduled), 'STATE', /scheduled/);
      await cmd(r, 'CANCEL', scheduled);
      await expectError(cmd(r, 'ACK', scheduled), 'STATE', /cancelled/);
      await claimOne(r, q);
      await cmd(r, 'NACK', ready, 'NORETRY');
      await expectError(cmd(r, 'ACK', ready), 'STATE', /dead/);
      // with DELIVERY the same jobs get -STALE
      await expectError(cmd(r, 'ACK', ready, 'DELIVERY', 1), 'STALE');
    });

    it('-STALE when the delivery is no longer the active one (lease ran out, redelivered)', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'slow', 'LEASE', 100);
      expect((await claimOne(r, q))[3]).to.equal(1);
      const again = await claimOne(r, q, 'BLOCK', 3000); // handed out again once the lease ran out
      expect(again).to.deep.equal([id, q, 'slow', 2]);
      await expectError(cmd(r, 'ACK', id, 'DELIVERY', 1), 'STALE');
      await expectError(cmd(r, 'ACK', id, 'DELIVERY', 3), 'STALE');
      expect(await cmd(r, 'ACK', id, 'DELIVERY', 2)).to.equal(1);
    });

    it('an ACK from another connection than the claim works (one-shot clients)', async () => {
      const q = newQueue();
      const a = clients.make();
      const b = clients.make();
      const id = await enqueue(a, q, 'x');
      await claimOne(a, q);
      a.disconnect();
      expect(await cmd(b, 'ACK', id)).to.equal(1);
    });
  });

  describe('NACK', () => {
    it('DELAY ms: +scheduled, redelivered after the delay with deliveries 2', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'flaky');
      await claimOne(r, q);
      const t0 = Date.now();
      expect(await cmd(r, 'NACK', id, 'DELAY', 150)).to.equal('scheduled');
      const s = await status(r, id);
      expect(s.state).to.equal('scheduled');
      expect((s['run-at'] as number) - (s['updated-at'] as number)).to.equal(150);
      expect(await claim(r, q)).to.deep.equal([]);
      expect(await claimOne(r, q, 'BLOCK', 3000)).to.deep.equal([id, q, 'flaky', 2]);
      expect(Date.now() - t0).to.be.at.least(140);
    });

    it('DELAY 0: +ready, claimable at once', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x');
      await claimOne(r, q);
      expect(await cmd(r, 'NACK', id, 'DELAY', 0)).to.equal('ready');
      expect((await status(r, id)).state).to.equal('ready');
      expect(await claimOne(r, q)).to.deep.equal([id, q, 'x', 2]);
    });

    it('ERROR message is kept as last-error; NORETRY sends it to the DLQ at once', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'bad input', 'RETRIES', 5);
      await claimOne(r, q);
      expect(await cmd(r, 'NACK', id, 'ERROR', 'cannot parse', 'NORETRY')).to.equal('dead');
      expect(await status(r, id)).to.include({ state: 'dead', 'last-error': 'cannot parse', deliveries: 1 });
      expect(await cmd(r, 'DLQ', q)).to.deep.equal([[id, q, 'bad input', 1, 'cannot parse']]);
    });

    it('DELIVERY d: -STALE for another delivery, accepted for the current one', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x');
      await claimOne(r, q);
      await expectError(cmd(r, 'NACK', id, 'DELIVERY', 2), 'STALE');
      expect(await cmd(r, 'NACK', id, 'DELIVERY', 1, 'DELAY', 0)).to.equal('ready');
      await expectError(cmd(r, 'NACK', id, 'DELIVERY', 1), 'STALE');
    });

    it("errors in ACK's order: -NOJOB, then -STALE with DELIVERY / -STATE without (completed included)", async () => {
      const q = newQueue();
      await expectError(cmd(r, 'NACK', 'nope'), 'NOJOB');
      const id = await enqueue(r, q, 'x');
      await expectError(cmd(r, 'NACK', id), 'STATE');
      await expectError(cmd(r, 'NACK', id, 'DELIVERY', 0), 'STALE');
      await claimOne(r, q);
      await cmd(r, 'ACK', id);
      await expectError(cmd(r, 'NACK', id), 'STATE', /completed/);
      await expectError(cmd(r, 'NACK', id, 'DELIVERY', 1), 'STALE');
      await expectError(cmd(r, 'NACK', id, 'BOGUS'), 'ERR');
    });

    it('retries exhausted: dead after retries + 1 deliveries', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x', 'RETRIES', 2);
      for (let d = 1; d <= 2; d++) {
        expect((await claimOne(r, q))[3]).to.equal(d);
        expect(await cmd(r, 'NACK', id, 'DELAY', 0, 'ERROR', `fail ${d}`)).to.equal('ready');
      }
      expect((await claimOne(r, q))[3]).to.equal(3);
      expect(await cmd(r, 'NACK', id, 'DELAY', 0, 'ERROR', 'fail 3')).to.equal('dead');
      expect(await status(r, id)).to.include({ state: 'dead', deliveries: 3, 'last-error': 'fail 3' });
      const st = await qstats(r, q);
      expect(st).to.include({ failed: 3, retried: 2, dead: 1 });
    });

    it('without DELAY waits the backoff: min(max, base * 2^(k-1)) plus up to 10% jitter', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x', 'RETRIES', 5, 'BACKOFF', 20, 'MAX', 70);
      const s0 = await status(r, id);
      expect(s0).to.include({ backoff: 20, 'backoff-max': 70 });
      const expected = [20, 40, 70, 70];
      for (let k = 1; k <= expected.length; k++) {
        await claimOne(r, q, 'BLOCK', 3000);
        expect(await cmd(r, 'NACK', id)).to.equal('scheduled');
        const s = await status(r, id);
        const waited = (s['run-at'] as number) - (s['updated-at'] as number);
        expect(waited, `backoff after failure ${k}`).to.be.within(expected[k - 1], Math.round(expected[k - 1] * 1.1));
      }
    });

    it('the default backoff comes from the config (default-backoff 1000)', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x');
      await claimOne(r, q);
      await cmd(r, 'NACK', id);
      const s = await status(r, id);
      expect((s['run-at'] as number) - (s['updated-at'] as number)).to.be.within(1000, 1100);
    });
  });

  describe('TOUCH', () => {
    it('extends the lease to now + LEASE ms and replies the new deadline', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'long work');
      await claimOne(r, q, 'LEASE', 300);
      const before = Date.now();
      const until = (await cmd(r, 'TOUCH', id, 'LEASE', 3000)) as number;
      const after = Date.now();
      expect(until).to.be.within(before + 3000 - 20, after + 3000 + 20);
      expect((await status(r, id))['lease-until']).to.equal(until);
      // nothing to observe but time: the job must still be the same delivery once the first lease would have run out
      await sleep(450);
      expect(await status(r, id)).to.include({ state: 'active', deliveries: 1 });
      expect(await cmd(r, 'ACK', id, 'DELIVERY', 1)).to.equal(1);
    });

    it("default: CLAIM LEASE of this delivery, else the job's LEASE, else default-lease; TOUCH LEASE does not change it", async () => {
      const q = newQueue();
      const near = async (id: string, ms: number) => {
        const before = Date.now();
        const until = (await cmd(r, 'TOUCH', id)) as number;
        const after = Date.now();
        expect(until, `TOUCH ${id} default lease ${ms}`).to.be.within(before + ms - 20, after + ms + 20);
      };
      const a = await enqueue(r, q, 'a', 'LEASE', 10_000);
      await claimOne(r, q, 'LEASE', 4000);
      await near(a, 4000);
      await cmd(r, 'TOUCH', a, 'LEASE', 60_000);
      await near(a, 4000);
      const b = await enqueue(r, q, 'b', 'LEASE', 7000);
      await claimOne(r, q);
      await near(b, 7000);
      const c = await enqueue(r, q, 'c');
      await claimOne(r, q);
      await near(c, 30_000);
    });

    it('errors as ACK: -NOJOB, -STATE, -STALE', async () => {
      const q = newQueue();
      await expectError(cmd(r, 'TOUCH', 'ghost'), 'NOJOB');
      const id = await enqueue(r, q, 'x');
      await expectError(cmd(r, 'TOUCH', id), 'STATE');
      await claimOne(r, q);
      await expectError(cmd(r, 'TOUCH', id, 'DELIVERY', 2), 'STALE');
      expect(await cmd(r, 'TOUCH', id, 'DELIVERY', 1)).to.be.a('number');
      await cmd(r, 'ACK', id);
      await expectError(cmd(r, 'TOUCH', id), 'STATE', /completed/);
      await expectError(cmd(r, 'TOUCH', id, 'DELIVERY', 1), 'STALE');
      await expectError(cmd(r, 'TOUCH', id, 'LEASE', 'soon'), 'ERR');
    });
  });

  describe('STATUS', () => {
    it('RESP2: a flat field/value array with every key, absent values nil; WITHPAYLOAD adds payload', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'the payload', 'PRIORITY', 'high', 'RETRIES', 7);
      const flat = (await cmd(r, 'STATUS', id)) as unknown[];
      const keys = flat.filter((_, i) => i % 2 === 0);
      expect(keys).to.include.members(STATUS_KEYS);
      expect(keys).to.not.include('payload');
      const s = fields(flat);
      expect(s).to.include({ id, queue: q, state: 'ready', priority: 'high', deliveries: 0, retries: 7 });
      expect(s['created-at'])
        .to.be.a('number')
        .within(Date.now() - 5000, Date.now() + 5000);
      expect(s['updated-at']).to.equal(s['created-at']);
      for (const k of ['run-at', 'lease-until', 'last-error', 'result']) expect(s[k], k).to.equal(null);
      const withPayload = fields(await cmd(r, 'STATUS', id, 'withpayload'));
      expect(Object.keys(withPayload)).to.include.members([...STATUS_KEYS, 'payload']);
      expect(withPayload.payload).to.equal('the payload');
    });

    it('run-at only while scheduled, lease-until only while active', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x', 'DELAY', 50);
      expect((await status(r, id))['run-at']).to.be.a('number');
      await claimOne(r, q, 'BLOCK', 3000);
      const s = await status(r, id);
      expect(s['run-at']).to.equal(null);
      expect(s['lease-until']).to.be.a('number');
      await cmd(r, 'ACK', id);
      expect((await status(r, id))['lease-until']).to.equal(null);
    });

    it('nil for an unknown id; -ERR for an unknown option', async () => {
      expect(await cmd(r, 'STATUS', 'unknown-id')).to.equal(null);
      const id = await enqueue(r, newQueue(), 'x');
      await expectError(cmd(r, 'STATUS', id, 'WITHRESULT'), 'ERR');
      await expectError(cmd(r, 'STATUS', id, 'WITHPAYLOAD', 'WITHPAYLOAD'), 'ERR');
    });
  });

  describe('CANCEL', () => {
    it('cancels ready and scheduled jobs (:1); :0 for active and final jobs; -NOJOB if unknown', async () => {
      const q = newQueue();
      const ready = await enqueue(r, q, 'r');
      const scheduled = await enqueue(r, q, 's', 'DELAY', 60_000);
      expect(await cmd(r, 'CANCEL', ready)).to.equal(1);
      expect(await cmd(r, 'CANCEL', scheduled)).to.equal(1);
      expect((await status(r, ready)).state).to.equal('cancelled');
      expect((await status(r, scheduled)).state).to.equal('cancelled');
      expect(await cmd(r, 'CANCEL', ready)).to.equal(0);
      expect(await claim(r, q)).to.deep.equal([]);
      const active = await enqueue(r, q, 'a');
      await claimOne(r, q);
      expect(await cmd(r, 'CANCEL', active)).to.equal(0);
      expect((await status(r, active)).state).to.equal('active');
      await cmd(r, 'ACK', active);
      expect(await cmd(r, 'CANCEL', active)).to.equal(0);
      await expectError(cmd(r, 'CANCEL', 'missing'), 'NOJOB');
      const st = await qstats(r, q);
      expect(st).to.include({ cancelled: 2, completed: 1, ready: 0, scheduled: 0 });
    });
  });

  describe('WAITJOB', () => {
    it('blocks until the job is acked, then replies its STATUS', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'request');
      const waiter = clients.make();
      let done = false;
      const pending = cmd(waiter, 'WAITJOB', id).finally(() => (done = true));
      await waitFor(async () => /blocked_waitjobs:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'waiter parked');
      await claimOne(r, q);
      // the claim is handled before this INFO: had it woken the waiter, it would no longer count as blocked
      expect((await cmd(r, 'INFO', 'clients')) as string).to.match(/blocked_waitjobs:1\r?\n/);
      expect(done).to.equal(false);
      await cmd(r, 'ACK', id, 'RESULT', 'reply');
      const s = fields(await pending);
      expect(s).to.include({ id, state: 'completed', result: 'reply' });
    });

    it('also wakes on dead and cancelled; a final job replies at once', async () => {
      const q = newQueue();
      const a = await enqueue(r, q, 'a', 'RETRIES', 0);
      const b = await enqueue(r, q, 'b', 'DELAY', 60_000);
      const w1 = clients.make();
      const w2 = clients.make();
      const pa = cmd(w1, 'WAITJOB', a, 'BLOCK', 5000);
      const pb = cmd(w2, 'WAITJOB', b, 'BLOCK', 5000);
      await waitFor(async () => /blocked_waitjobs:2\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'waiters parked');
      await claimOne(r, q);
      await cmd(r, 'NACK', a, 'ERROR', 'boom');
      await cmd(r, 'CANCEL', b);
      expect(fields(await pa)).to.include({ state: 'dead', 'last-error': 'boom' });
      expect(fields(await pb)).to.include({ state: 'cancelled' });
      const t0 = Date.now();
      expect(fields(await cmd(r, 'WAITJOB', a))).to.include({ state: 'dead' });
      expect(Date.now() - t0).to.be.below(1000);
    });

    it('BLOCK ms times out with nil; an unknown id is nil at once; a purged job wakes its waiter with nil', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x');
      const t0 = Date.now();
      expect(await cmd(r, 'WAITJOB', id, 'BLOCK', 150)).to.equal(null);
      expect(Date.now() - t0).to.be.at.least(140);
      expect(await cmd(r, 'WAITJOB', 'never-was')).to.equal(null);
      const waiter = clients.make();
      const pending = cmd(waiter, 'WAITJOB', id, 'BLOCK', 0);
      await waitFor(async () => /blocked_waitjobs:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'waiter parked');
      expect(await cmd(r, 'PURGE', q, 'WAITING')).to.equal(1);
      expect(await pending).to.equal(null);
      await expectError(cmd(r, 'WAITJOB', id, 'BLOCK', 'x'), 'ERR');
    });
  });

  describe('leases, poison jobs and TTL', () => {
    it('a lease that runs out makes the job ready again at once and redelivers it', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x', 'LEASE', 200);
      await claimOne(r, q);
      const t0 = Date.now();
      await waitFor(async () => (await status(r, id)).state === 'ready', 'job ready after its lease ran out');
      expect(Date.now() - t0).to.be.at.least(150);
      expect(await status(r, id)).to.include({ deliveries: 1, 'last-error': 'lease expired' });
      expect(await claimOne(r, q)).to.deep.equal([id, q, 'x', 2]);
      const st = await qstats(r, q);
      expect(st).to.include({ 'expired-leases': 1, failed: 1, retried: 1, active: 1 });
    });

    it('a poison job (its lease always runs out) is dead after retries + 1 deliveries', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'crashes workers', 'RETRIES', 2, 'LEASE', 100);
      for (let d = 1; d <= 3; d++) expect((await claimOne(r, q, 'BLOCK', 3000))[3]).to.equal(d);
      await waitFor(async () => (await status(r, id)).state === 'dead', 'poison job dead');
      expect(await status(r, id)).to.include({ deliveries: 3, 'last-error': 'lease expired' });
      expect(await claim(r, q, 'BLOCK', 150)).to.deep.equal([]);
      expect(await cmd(r, 'DLQ', q)).to.deep.equal([[id, q, 'crashes workers', 3, 'lease expired']]);
      expect(await qstats(r, q)).to.include({ 'expired-leases': 3, failed: 3, retried: 2, dead: 1 });
    });

    it('TTL: an active job not completed in time is dead with last-error expired; late ACK -STALE with DELIVERY, -STATE without', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x', 'TTL', 300);
      await claimOne(r, q);
      await waitFor(async () => (await status(r, id)).state === 'dead', 'job dead by TTL');
      const s = await status(r, id);
      expect(s).to.include({ 'last-error': 'expired', 'lease-until': null });
      await expectError(cmd(r, 'ACK', id, 'DELIVERY', 1), 'STALE');
      await expectError(cmd(r, 'ACK', id), 'STATE', /dead/);
      // a TTL expiry counts as none of failed, retried, expired-leases
      expect(await qstats(r, q)).to.include({ failed: 0, retried: 0, 'expired-leases': 0, dead: 1, active: 0 });
    });

    it('TTL applies in every state: ready and scheduled jobs expire too', async () => {
      const q = newQueue();
      const ready = await enqueue(r, q, 'r', 'TTL', 100);
      const scheduled = await enqueue(r, q, 's', 'TTL', 100, 'DELAY', 60_000);
      await waitFor(async () => (await status(r, ready)).state === 'dead' && (await status(r, scheduled)).state === 'dead', 'both dead');
      expect((await status(r, scheduled))['last-error']).to.equal('expired');
      expect(await claim(r, q)).to.deep.equal([]);
    });

    it('a job completed before its TTL stays completed', async () => {
      const q = newQueue();
      const id = await enqueue(r, q, 'x', 'TTL', 300);
      await claimOne(r, q);
      expect(await cmd(r, 'ACK', id)).to.equal(1);
      await sleep(400); // nothing to observe but time: the job must still be completed after its TTL would have passed
      expect((await status(r, id)).state).to.equal('completed');
    });

    it('requeue-on-disconnect no (default): a closed claiming connection keeps its jobs active', async () => {
      const q = newQueue();
      const worker = clients.make();
      const id = await enqueue(r, q, 'x');
      const wid = await cmd(worker, 'CLIENT', 'ID');
      await claimOne(worker, q);
      worker.disconnect();
      // the broker releases (or, with yes, requeues) a closed connection's jobs in the step that drops it from CLIENT LIST
      await waitFor(async () => !new RegExp(`^id=${wid} `, 'm').test((await cmd(r, 'CLIENT', 'LIST')) as string), 'worker gone');
      expect(await status(r, id)).to.include({ state: 'active', deliveries: 1 });
      expect(await cmd(r, 'ACK', id, 'DELIVERY', 1)).to.equal(1);
    });
  });
});

describe('server: requeue-on-disconnect yes', function () {
  this.timeout(10000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;

  before(async () => {
    broker = await startBroker({ 'requeue-on-disconnect': 'yes' });
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  it('jobs claimed by a connection that closes are ready again at once (delivery counted)', async () => {
    const q = newQueue('rod');
    const worker = clients.make();
    const a = await enqueue(r, q, 'a');
    const b = await enqueue(r, q, 'b');
    expect(await claim(worker, q, 'COUNT', 2)).to.have.length(2);
    worker.disconnect();
    await waitFor(async () => (await status(r, a)).state === 'ready' && (await status(r, b)).state === 'ready', 'both ready again');
    expect(await status(r, a)).to.include({ deliveries: 1, 'last-error': 'connection closed' });
    expect((await claim(r, q, 'COUNT', 2)).map((j) => [j[0], j[3]])).to.deep.equal([
      [a, 2],
      [b, 2],
    ]);
    expect(await qstats(r, q)).to.include({ failed: 2, retried: 2, 'expired-leases': 0 });
  });

  it('a job acked before the close is not touched; the last allowed delivery goes dead', async () => {
    const q = newQueue('rod');
    const worker = clients.make();
    const done = await enqueue(r, q, 'done');
    const last = await enqueue(r, q, 'last', 'RETRIES', 0);
    await claim(worker, q, 'COUNT', 2);
    expect(await cmd(worker, 'ACK', done)).to.equal(1);
    worker.disconnect();
    await waitFor(async () => (await status(r, last)).state === 'dead', 'last delivery dead');
    expect((await status(r, done)).state).to.equal('completed');
  });

  it('the setting is visible and changeable with CONFIG', async () => {
    expect(await cmd(r, 'CONFIG', 'GET', 'requeue-on-disconnect')).to.deep.equal(['requeue-on-disconnect', 'yes']);
  });
});

describe('server: CLIENT REQUEUE-ON-CLOSE', function () {
  this.timeout(10000);
  const { clients } = brokerForSuite(() => startBroker());

  async function claimThenClose(flag: 'ON' | 'OFF' | null): Promise<string> {
    const admin = clients.make();
    const id = (await admin.call('ENQUEUE', 'roc', 'x', 'LEASE', '60000')) as string;
    const worker = clients.make();
    const workerId = (await worker.call('CLIENT', 'ID')) as number;
    if (flag) expect(await worker.call('CLIENT', 'REQUEUE-ON-CLOSE', flag)).to.equal('OK');
    await worker.call('CLAIM', 'roc');
    worker.disconnect();
    // the close has been handled once the connection is gone from CLIENT LIST
    await waitFor(async () => !((await admin.call('CLIENT', 'LIST')) as string).includes(`id=${workerId} `), 'the worker connection closed');
    return id;
  }

  it('ON: the jobs a closed connection held are ready again at once, as a failed delivery', async () => {
    const admin = clients.make();
    const id = await claimThenClose('ON');
    expect(fields(await admin.call('STATUS', id))).to.include({ state: 'ready', deliveries: 1 });
    const again = (await admin.call('CLAIM', 'roc')) as unknown[][];
    expect(again[0][0]).to.equal(id);
    expect(again[0][3]).to.equal(2);
  });

  it('OFF (the default): they stay active until their lease ends', async () => {
    const admin = clients.make();
    for (const flag of ['OFF', null] as const) {
      const id = await claimThenClose(flag);
      expect(fields(await admin.call('STATUS', id)).state).to.equal('active');
    }
  });

  it('takes only ON or OFF; RESET turns it off', async () => {
    const r = clients.make();
    await expectError(r.call('CLIENT', 'REQUEUE-ON-CLOSE', 'maybe'), 'ERR', /ON or OFF/);
    expect(await r.call('CLIENT', 'REQUEUE-ON-CLOSE', 'on')).to.equal('OK');
    expect(await r.call('RESET')).to.equal('RESET');
    const admin = clients.make();
    const id = (await admin.call('ENQUEUE', 'roc2', 'x')) as string;
    await r.call('CLAIM', 'roc2');
    const rid = (await r.call('CLIENT', 'ID')) as number;
    r.disconnect();
    await waitFor(async () => !((await admin.call('CLIENT', 'LIST')) as string).includes(`id=${rid} `), 'closed');
    expect(fields(await admin.call('STATUS', id)).state).to.equal('active');
  });
});
