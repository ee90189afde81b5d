import { expect } from 'chai';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, expectError, fields, waitFor } from './helpers/util';

/** Queue commands of the contract, through ioredis (RESP2) against a real broker. */

type Entry = [string, string, string, number];

let qn = 0;
const newQueue = (tag = 'q') => `queues-${tag}-${++qn}`;

async function enqueue(r: Redis, queue: string, payload: string, ...opts: Array<string | number>): Promise<string> {
  return (await cmd(r, 'ENQUEUE', queue, payload, ...opts)) as string;
}

async function claim(r: Redis, queue: string, ...opts: Array<string | number>): Promise<Entry[]> {
  return (await cmd(r, 'CLAIM', queue, ...opts)) as Entry[];
}

async function state(r: Redis, id: string): Promise<unknown> {
  const s = await cmd(r, 'STATUS', id);
  return s === null ? null : fields(s).state;
}

async function qstats(r: Redis, queue: string): Promise<Record<string, number>> {
  return fields(await cmd(r, 'QSTATS', queue)) as Record<string, number>;
}

const QSTATS_KEYS = [
  'ready',
  'scheduled',
  'active',
  'completed',
  'dead',
  'cancelled',
  'ready-high',
  'ready-normal',
  'ready-low',
  'paused',
  'maxlen',
  'concurrency',
  'enqueued',
  'acked',
  'failed',
  'retried',
  'expired-leases',
];

describe('server: queue commands (ioredis, RESP2)', function () {
  this.timeout(10000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;

  before(async () => {
    broker = await startBroker();
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  describe('QUEUES, QLEN, QSTATS', () => {
    it('QUEUES lists the queues that hold jobs', async () => {
      const a = newQueue('list');
      const b = newQueue('list');
      await enqueue(r, a, 'x');
      await enqueue(r, b, 'y');
      const names = (await cmd(r, 'QUEUES')) as string[];
      expect(names).to.include.members([a, b]);
      expect(new Set(names).size).to.equal(names.length);
      await expectError(cmd(r, 'QUEUES', 'extra'), 'ERR', /wrong number of arguments/);
    });

    it('QLEN is ready + scheduled + active; 0 for an unknown queue', async () => {
      const q = newQueue();
      expect(await cmd(r, 'QLEN', q)).to.equal(0);
      await enqueue(r, q, 'ready');
      await enqueue(r, q, 'scheduled', 'DELAY', 60_000);
      const act = await enqueue(r, q, 'to be active', 'PRIORITY', 'high');
      expect((await claim(r, q))[0][0]).to.equal(act);
      const done = await enqueue(r, q, 'to be done', 'PRIORITY', 'high');
      await claim(r, q);
      await cmd(r, 'ACK', done);
      expect(await cmd(r, 'QLEN', q)).to.equal(3);
    });

    it('QSTATS: every field, counts per state and priority, settings and totals', async () => {
      const q = newQueue('stats');
      // a: fails once with no retries -> dead
      const a = await enqueue(r, q, 'a', 'RETRIES', 0);
      await claim(r, q);
      await cmd(r, 'NACK', a);
      // b: completed
      const b = await enqueue(r, q, 'b');
      await claim(r, q);
      await cmd(r, 'ACK', b);
      // c: scheduled
      await enqueue(r, q, 'c', 'DELAY', 60_000);
      // d: cancelled
      await cmd(r, 'CANCEL', await enqueue(r, q, 'd'));
      // e: lease runs out once, then active again
      const e = await enqueue(r, q, 'e', 'LEASE', 100);
      await claim(r, q);
      expect((await claim(r, q, 'BLOCK', 3000))[0]).to.deep.equal([e, q, 'e', 2]);
      await cmd(r, 'TOUCH', e, 'LEASE', 60_000);
      // f: NACKed to ready
      const f = await enqueue(r, q, 'f');
      await claim(r, q);
      await cmd(r, 'NACK', f, 'DELAY', 0);
      // ready jobs of each priority
      await enqueue(r, q, 'h', 'PRIORITY', 'high');
      await enqueue(r, q, 'l', 'PRIORITY', 'low');
      await enqueue(r, q, 'n', 'PRIORITY', 'normal');
      // an idempotent repeat is not counted
      await enqueue(r, q, 'again', 'ID', a);

      const flat = (await cmd(r, 'QSTATS', q)) as unknown[];
      const st = fields(flat);
      expect(Object.keys(st)).to.include.members(QSTATS_KEYS);
      for (const v of Object.values(st)) expect(v).to.be.a('number');
      expect(st).to.include({
        ready: 4,
        scheduled: 1,
        active: 1,
        completed: 1,
        dead: 1,
        cancelled: 1,
        'ready-high': 1,
        'ready-normal': 2,
        'ready-low': 1,
        paused: 0,
        maxlen: 0,
        enqueued: 9,
        acked: 1,
        failed: 3,
        retried: 2,
        'expired-leases': 1,
      });
      expect(await cmd(r, 'QLEN', q)).to.equal(6);

      await cmd(r, 'PAUSE', q);
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 50);
      expect(await qstats(r, q)).to.include({ paused: 1, maxlen: 50 });
      await cmd(r, 'RESUME', q);
      expect((await qstats(r, q)).paused).to.equal(0);
    });

    it('QSTATS of an unknown queue: every field, all zero', async () => {
      const st = await qstats(r, newQueue('nothing'));
      expect(Object.keys(st)).to.include.members(QSTATS_KEYS);
      for (const k of QSTATS_KEYS) expect(st[k], k).to.equal(0);
    });
  });

  describe('PEEK', () => {
    it('shows the next jobs in exactly the order CLAIM then gives, without claiming them', async () => {
      const q = newQueue('peek');
      for (let i = 0; i < 8; i++) await enqueue(r, q, `h${i}`, 'PRIORITY', 'high');
      for (let i = 0; i < 8; i++) await enqueue(r, q, `n${i}`, 'PRIORITY', 'normal');
      for (let i = 0; i < 4; i++) await enqueue(r, q, `l${i}`, 'PRIORITY', 'low');
      const first = (await cmd(r, 'PEEK', q)) as Entry[];
      expect(first).to.have.length(1);
      // PEEK twice gives the same; nothing was claimed
      const peek7 = (await cmd(r, 'PEEK', q, 'COUNT', 7)) as Entry[];
      expect((await cmd(r, 'PEEK', q, 'COUNT', 7)) as Entry[]).to.deep.equal(peek7);
      expect(peek7[0]).to.deep.equal(first[0]);
      for (const j of peek7) expect(j[3]).to.equal(0);
      expect((await qstats(r, q)).ready).to.equal(20);
      // CLAIM gives that order, and the next PEEK continues the same rotation
      const claimed7 = await claim(r, q, 'COUNT', 7);
      expect(claimed7.map((j) => j[0])).to.deep.equal(peek7.map((j) => j[0]));
      const peekRest = (await cmd(r, 'PEEK', q, 'COUNT', 100)) as Entry[];
      expect(peekRest).to.have.length(13);
      const claimedRest: Entry[] = [];
      for (let i = 0; i < 13; i++) claimedRest.push(...(await claim(r, q)));
      expect(claimedRest.map((j) => j[2])).to.deep.equal(peekRest.map((j) => j[2]));
      expect(await cmd(r, 'PEEK', q)).to.deep.equal([]);
    });

    it('deliveries is the count so far; a paused queue peeks nothing; bad COUNT is -ERR', async () => {
      const q = newQueue('peek');
      const id = await enqueue(r, q, 'x');
      await claim(r, q);
      await cmd(r, 'NACK', id, 'DELAY', 0);
      expect(await cmd(r, 'PEEK', q)).to.deep.equal([[id, q, 'x', 1]]);
      await cmd(r, 'PAUSE', q);
      expect(await cmd(r, 'PEEK', q)).to.deep.equal([]);
      await cmd(r, 'RESUME', q);
      expect(await cmd(r, 'PEEK', newQueue('none'))).to.deep.equal([]);
      await expectError(cmd(r, 'PEEK', q, 'COUNT', '0'), 'ERR');
      await expectError(cmd(r, 'PEEK', q, 'COUNT', '3x'), 'ERR');
      await expectError(cmd(r, 'PEEK', q, 'LIMIT', '3'), 'ERR');
    });
  });

  describe('PAUSE / RESUME', () => {
    it('a paused queue accepts ENQUEUE and hands out nothing; RESUME hands out again', async () => {
      const q = newQueue('pause');
      expect(await cmd(r, 'PAUSE', q)).to.equal('OK');
      expect(await cmd(r, 'PAUSE', q)).to.equal('OK');
      const id = await enqueue(r, q, 'waits');
      expect(await state(r, id)).to.equal('ready');
      expect(await claim(r, q)).to.deep.equal([]);
      expect(await claim(r, q, 'BLOCK', 100)).to.deep.equal([]);
      expect(await cmd(r, 'QUEUES')).to.include(q);
      expect(await cmd(r, 'RESUME', q)).to.equal('OK');
      expect(await claim(r, q)).to.deep.equal([[id, q, 'waits', 1]]);
      expect(await cmd(r, 'RESUME', q)).to.equal('OK');
    });

    it('a claimer blocked on a paused queue is served on RESUME, the longest waiter first', async () => {
      const q = newQueue('pause');
      await cmd(r, 'PAUSE', q);
      const a = await enqueue(r, q, 'a');
      const w1 = clients.make();
      const w2 = clients.make();
      const p1 = claim(w1, q, 'BLOCK', 5000);
      await waitFor(async () => /blocked_claims:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'first parked');
      const p2 = claim(w2, q, 'BLOCK', 5000);
      await waitFor(async () => /blocked_claims:2\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'second parked');
      const b = await enqueue(r, q, 'b');
      expect(await state(r, b)).to.equal('ready');
      await cmd(r, 'RESUME', q);
      expect(await p1).to.deep.equal([[a, q, 'a', 1]]);
      expect(await p2).to.deep.equal([[b, q, 'b', 1]]);
    });

    it('active jobs of a paused queue can still be acked, nacked and touched', async () => {
      const q = newQueue('pause');
      const id = await enqueue(r, q, 'x');
      await claim(r, q);
      await cmd(r, 'PAUSE', q);
      expect(await cmd(r, 'TOUCH', id)).to.be.a('number');
      expect(await cmd(r, 'NACK', id, 'DELAY', 0)).to.equal('ready');
      expect(await claim(r, q)).to.deep.equal([]);
      await cmd(r, 'RESUME', q);
      await claim(r, q);
      expect(await cmd(r, 'ACK', id)).to.equal(1);
    });
  });

  describe('DLQ and REQUEUE', () => {
    it('DLQ lists dead jobs oldest first as [id, queue, payload, deliveries, last-error]; COUNT n', async () => {
      const q = newQueue('dlq');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = await enqueue(r, q, `p${i}`, 'RETRIES', 0);
        ids.push(id);
        await claim(r, q);
        if (i === 1) await cmd(r, 'NACK', id);
        else await cmd(r, 'NACK', id, 'ERROR', `e${i}`);
      }
      expect(await cmd(r, 'DLQ', q)).to.deep.equal([
        [ids[0], q, 'p0', 1, 'e0'],
        [ids[1], q, 'p1', 1, null],
        [ids[2], q, 'p2', 1, 'e2'],
      ]);
      expect(await cmd(r, 'DLQ', q, 'COUNT', 2)).to.deep.equal([
        [ids[0], q, 'p0', 1, 'e0'],
        [ids[1], q, 'p1', 1, null],
      ]);
      expect(await cmd(r, 'DLQ', newQueue('none'))).to.deep.equal([]);
      await expectError(cmd(r, 'DLQ', q, 'COUNT', -1), 'ERR');
    });

    it('REQUEUE id: dead or cancelled -> ready with deliveries reset (:1); :0 in other states; -NOJOB', async () => {
      const q = newQueue('requeue');
      const dead = await enqueue(r, q, 'dead', 'RETRIES', 0);
      await claim(r, q);
      await cmd(r, 'NACK', dead, 'ERROR', 'x');
      const cancelled = await enqueue(r, q, 'cancelled', 'DELAY', 60_000);
      await cmd(r, 'CANCEL', cancelled);
      expect(await cmd(r, 'REQUEUE', dead)).to.equal(1);
      expect(await cmd(r, 'REQUEUE', cancelled)).to.equal(1);
      const s = fields(await cmd(r, 'STATUS', dead));
      expect(s).to.include({ state: 'ready', deliveries: 0 });
      expect(await state(r, cancelled)).to.equal('ready');
      expect(await cmd(r, 'REQUEUE', dead)).to.equal(0); // ready
      const got = await claim(r, q, 'COUNT', 2);
      expect(got.map((j) => [j[0], j[3]])).to.deep.equal([
        [dead, 1],
        [cancelled, 1],
      ]);
      expect(await cmd(r, 'REQUEUE', dead)).to.equal(0); // active
      await cmd(r, 'ACK', dead);
      expect(await cmd(r, 'REQUEUE', dead)).to.equal(0); // completed
      await expectError(cmd(r, 'REQUEUE', 'nobody'), 'NOJOB');
      await expectError(cmd(r, 'REQUEUE', q, 'SOME'), 'ERR');
      // a requeued dead job gets its full allowance again
      await cmd(r, 'NACK', cancelled, 'NORETRY');
      await cmd(r, 'REQUEUE', cancelled);
      await claim(r, q);
      expect(await cmd(r, 'NACK', cancelled, 'DELAY', 0)).to.equal('ready');
    });

    it('REQUEUE queue ALL moves every dead job of the queue back and replies the count', async () => {
      const q = newQueue('requeue');
      const other = newQueue('requeue');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await enqueue(r, q, `p${i}`, 'RETRIES', 0));
        await claim(r, q);
        await cmd(r, 'NACK', ids[i]);
      }
      const keep = await enqueue(r, other, 'elsewhere', 'RETRIES', 0);
      await claim(r, other);
      await cmd(r, 'NACK', keep);
      const cancelled = await enqueue(r, q, 'c');
      await cmd(r, 'CANCEL', cancelled);
      expect(await cmd(r, 'REQUEUE', q, 'all')).to.equal(3);
      expect(await cmd(r, 'DLQ', q)).to.deep.equal([]);
      expect(await qstats(r, q)).to.include({ ready: 3, dead: 0, cancelled: 1 });
      expect((await claim(r, q, 'COUNT', 10)).map((j) => j[0])).to.deep.equal(ids);
      expect(await state(r, keep)).to.equal('dead');
      expect(await cmd(r, 'REQUEUE', q, 'ALL')).to.equal(0);
      expect(await cmd(r, 'REQUEUE', newQueue('none'), 'ALL')).to.equal(0);
    });
  });

  describe('PURGE', () => {
    /** a queue with 2 ready, 1 scheduled, 1 active, 1 completed, 1 dead, 1 cancelled */
    async function mixedQueue(): Promise<{ q: string; ids: Record<string, string> }> {
      const q = newQueue('purge');
      const ids: Record<string, string> = {};
      ids.completed = await enqueue(r, q, 'completed');
      await claim(r, q);
      await cmd(r, 'ACK', ids.completed);
      ids.dead = await enqueue(r, q, 'dead', 'RETRIES', 0);
      await claim(r, q);
      await cmd(r, 'NACK', ids.dead);
      ids.active = await enqueue(r, q, 'active');
      await claim(r, q);
      ids.cancelled = await enqueue(r, q, 'cancelled');
      await cmd(r, 'CANCEL', ids.cancelled);
      ids.ready1 = await enqueue(r, q, 'ready1');
      ids.ready2 = await enqueue(r, q, 'ready2', 'PRIORITY', 'low');
      ids.scheduled = await enqueue(r, q, 'scheduled', 'DELAY', 60_000);
      return { q, ids };
    }

    it('DEAD, COMPLETED, CANCELLED remove the jobs in that state only', async () => {
      const { q, ids } = await mixedQueue();
      expect(await cmd(r, 'PURGE', q, 'DEAD')).to.equal(1);
      expect(await state(r, ids.dead)).to.equal(null);
      expect(await cmd(r, 'PURGE', q, 'dead')).to.equal(0);
      expect(await cmd(r, 'PURGE', q, 'COMPLETED')).to.equal(1);
      expect(await state(r, ids.completed)).to.equal(null);
      expect(await cmd(r, 'PURGE', q, 'Cancelled')).to.equal(1);
      expect(await state(r, ids.cancelled)).to.equal(null);
      expect(await qstats(r, q)).to.include({ ready: 2, scheduled: 1, active: 1, completed: 0, dead: 0, cancelled: 0 });
    });

    it('ALL removes every final job; WAITING the ready and scheduled backlog; active jobs are never purged', async () => {
      const { q, ids } = await mixedQueue();
      expect(await cmd(r, 'PURGE', q, 'ALL')).to.equal(3);
      for (const k of ['completed', 'dead', 'cancelled']) expect(await state(r, ids[k]), k).to.equal(null);
      expect(await cmd(r, 'PURGE', q, 'WAITING')).to.equal(3);
      for (const k of ['ready1', 'ready2', 'scheduled']) expect(await state(r, ids[k]), k).to.equal(null);
      expect(await state(r, ids.active)).to.equal('active');
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
      expect(await cmd(r, 'PURGE', q, 'ALL')).to.equal(0);
      expect(await cmd(r, 'ACK', ids.active)).to.equal(1);
    });

    it('an unknown queue purges 0; an unknown target is -ERR', async () => {
      expect(await cmd(r, 'PURGE', newQueue('none'), 'ALL')).to.equal(0);
      await expectError(cmd(r, 'PURGE', newQueue('x'), 'ACTIVE'), 'ERR');
      await expectError(cmd(r, 'PURGE', newQueue('x')), 'ERR', /wrong number of arguments/);
    });
  });

  describe('QCONFIG', () => {
    it('MAXLEN n bounds ready + scheduled + active; 0 = unlimited', async () => {
      const q = newQueue('maxlen');
      expect(await cmd(r, 'QCONFIG', q, 'maxlen', 3)).to.equal('OK');
      expect((await qstats(r, q)).maxlen).to.equal(3);
      await enqueue(r, q, 'ready');
      await enqueue(r, q, 'scheduled', 'DELAY', 60_000);
      await enqueue(r, q, 'active');
      await claim(r, q);
      await expectError(cmd(r, 'ENQUEUE', q, 'one more'), 'FULL');
      // lowering below the backlog keeps the jobs and refuses new ones
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 1);
      expect(await cmd(r, 'QLEN', q)).to.equal(3);
      await expectError(cmd(r, 'ENQUEUE', q, 'one more'), 'FULL');
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 0);
      for (let i = 0; i < 5; i++) await enqueue(r, q, `more${i}`);
      expect(await cmd(r, 'QLEN', q)).to.equal(8);
    });

    it('default-maxlen applies to queues without QCONFIG', async () => {
      const q = newQueue('maxlen');
      await cmd(r, 'CONFIG', 'SET', 'default-maxlen', '2');
      try {
        expect((await qstats(r, q)).maxlen).to.equal(2);
        await enqueue(r, q, 'a');
        await enqueue(r, q, 'b');
        await expectError(cmd(r, 'ENQUEUE', q, 'c'), 'FULL');
        await cmd(r, 'QCONFIG', q, 'MAXLEN', 0);
        await enqueue(r, q, 'c');
      } finally {
        await cmd(r, 'CONFIG', 'SET', 'default-maxlen', '0');
      }
    });

    it('bad input is -ERR', async () => {
      const q = newQueue('maxlen');
      await expectError(cmd(r, 'QCONFIG', q, 'MAXLEN', -1), 'ERR');
      await expectError(cmd(r, 'QCONFIG', q, 'MAXLEN', '12abc'), 'ERR');
      await expectError(cmd(r, 'QCONFIG', q, 'MAXLEN', '99999999999999999999'), 'ERR');
      await expectError(cmd(r, 'QCONFIG', q, 'COLOR', 'red'), 'ERR');
      await expectError(cmd(r, 'QCONFIG', q, 'MAXLEN'), 'ERR', /wrong number of arguments/);
    });
  });

  describe('retention', () => {
    it('completed-max 0 / dead-max 0: jobs go as they finish; the server keeps running and the ids are reusable', async () => {
      const q = newQueue('retention');
      await cmd(r, 'CONFIG', 'SET', 'completed-max', '0', 'dead-max', '0', 'completed-retention', '100', 'dead-retention', '100');
      try {
        const a = await enqueue(r, q, 'a', 'ID', 'retained-a');
        await claim(r, q);
        expect(await cmd(r, 'ACK', a)).to.equal(1);
        expect(await cmd(r, 'STATUS', a)).to.equal(null);
        const d = await enqueue(r, q, 'd', 'RETRIES', 0);
        await claim(r, q);
        expect(await cmd(r, 'NACK', d)).to.equal('dead');
        expect(await cmd(r, 'STATUS', d)).to.equal(null);
        expect(await cmd(r, 'DLQ', q)).to.deep.equal([]);
        // the same id names a new job, which must outlive the old one's retention deadline
        expect(await enqueue(r, q, 'a again', 'ID', 'retained-a')).to.equal('retained-a');
        await new Promise((res) => setTimeout(res, 250)); // nothing to observe but time: past the old job's 100 ms retention
        expect(await cmd(r, 'PING')).to.equal('PONG');
        expect(fields(await cmd(r, 'STATUS', 'retained-a', 'WITHPAYLOAD'))).to.include({ state: 'ready', payload: 'a again' });
        expect(await cmd(r, 'QLEN', q)).to.equal(1);
      } finally {
        await cmd(r, 'CONFIG', 'SET', 'completed-max', '10000', 'dead-max', '100000', 'completed-retention', '3600000', 'dead-retention', '604800000');
      }
    });

    it('completed-retention: completed jobs are removed after the configured time', async () => {
      const q = newQueue('retention');
      await cmd(r, 'CONFIG', 'SET', 'completed-retention', '100');
      try {
        const id = await enqueue(r, q, 'x');
        await claim(r, q);
        await cmd(r, 'ACK', id);
        expect(await state(r, id)).to.equal('completed');
        await waitFor(async () => (await cmd(r, 'STATUS', id)) === null, 'completed job removed');
      } finally {
        await cmd(r, 'CONFIG', 'SET', 'completed-retention', '3600000');
      }
    });
  });

  describe('priorities', () => {
    it('high before normal before low, FIFO within a priority', async () => {
      const q = newQueue('prio');
      const l1 = await enqueue(r, q, 'l1', 'PRIORITY', 'low');
      const n1 = await enqueue(r, q, 'n1');
      const h1 = await enqueue(r, q, 'h1', 'PRIORITY', 'high');
      const h2 = await enqueue(r, q, 'h2', 'PRIORITY', 'high');
      expect((await claim(r, q)).map((j) => j[0])).to.deep.equal([h1]);
      expect((await claim(r, q)).map((j) => j[0])).to.deep.equal([h2]);
      expect((await claim(r, q)).map((j) => j[0])).to.deep.equal([n1]);
      expect((await claim(r, q)).map((j) => j[0])).to.deep.equal([l1]);
    });

    it('starvation bound (weights 6,3,1): with all three non-empty a low job is claimed within any 10 consecutive claims', async () => {
      const q = newQueue('prio');
      for (const p of ['high', 'normal', 'low']) for (let i = 0; i < 30; i++) await enqueue(r, q, `${p}-${i}`, 'PRIORITY', p);
      const order: string[] = [];
      for (let i = 0; i < 10; i++) order.push(...(await claim(r, q)).map((j) => j[2]));
      order.push(...(await claim(r, q, 'COUNT', 20)).map((j) => j[2]));
      expect(order).to.have.length(30);
      const prio = order.map((p) => p.split('-')[0]);
      for (let i = 0; i + 10 <= prio.length; i++) {
        const window = prio.slice(i, i + 10);
        expect(window, `claims ${i}..${i + 9}: ${window.join(',')}`).to.include('low');
        expect(window).to.include('normal');
      }
      const count = (p: string) => prio.filter((x) => x === p).length;
      expect([count('high'), count('normal'), count('low')]).to.deep.equal([18, 9, 3]);
      // FIFO inside each priority
      for (const p of ['high', 'normal', 'low']) {
        const seq = order.filter((x) => x.startsWith(p + '-')).map((x) => Number(x.split('-')[1]));
        expect(seq).to.deep.equal([...seq].sort((a, b) => a - b));
      }
    });

    it('without higher priorities waiting, low jobs flow at full rate', async () => {
      const q = newQueue('prio');
      for (let i = 0; i < 5; i++) await enqueue(r, q, `l${i}`, 'PRIORITY', 'low');
      expect((await claim(r, q, 'COUNT', 5)).map((j) => j[2])).to.deep.equal(['l0', 'l1', 'l2', 'l3', 'l4']);
    });
  });

  describe('names and ids are arbitrary bytes', () => {
    const call = (...args: Array<string | Buffer | number>) => r.callBuffer(String(args[0]), ...args.slice(1)) as Promise<unknown>;

    it('__proto__, constructor and other object keys as queue names and ids', async () => {
      for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
        const id = await enqueue(r, name, 'p', 'ID', name);
        expect(id).to.equal(name);
        expect(await cmd(r, 'QLEN', name)).to.equal(1);
        expect(fields(await cmd(r, 'STATUS', name))).to.include({ id: name, queue: name, state: 'ready' });
        expect(await cmd(r, 'QUEUES')).to.include(name);
        expect(await claim(r, name)).to.deep.equal([[name, name, 'p', 1]]);
        expect(await cmd(r, 'ACK', name)).to.equal(1);
        expect((await qstats(r, name)).completed).to.equal(1);
        expect(await cmd(r, 'PURGE', name, 'ALL')).to.equal(1);
      }
      expect(await cmd(r, 'STATUS', '__proto__')).to.equal(null);
      await expectError(cmd(r, 'ACK', '__proto__'), 'NOJOB');
    });

    it('binary queue names, ids and payloads (every byte value), and an empty payload', async () => {
      const queue = Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a, 0x20, 0x22, 0x27, 0xc3, 0x28]);
      const id = Buffer.from([0xfe, 0x00, 0x0d, 0x0a, 0x01]);
      const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(await call('ENQUEUE', queue, payload, 'ID', id)).to.deep.equal(id);
      const emptyId = (await call('ENQUEUE', queue, Buffer.alloc(0))) as Buffer;
      expect(await call('QLEN', queue)).to.equal(2);
      const names = (await call('QUEUES')) as Buffer[];
      expect(names.some((n) => n.equals(queue))).to.equal(true);
      const peeked = (await call('PEEK', queue, 'COUNT', 2)) as unknown[][];
      expect(peeked).to.deep.equal([
        [id, queue, payload, 0],
        [emptyId, queue, Buffer.alloc(0), 0],
      ]);
      const got = (await call('CLAIM', queue, 'COUNT', 2)) as unknown[][];
      expect(got).to.deep.equal([
        [id, queue, payload, 1],
        [emptyId, queue, Buffer.alloc(0), 1],
      ]);
      const st = (await call('STATUS', id, 'WITHPAYLOAD')) as Buffer[];
      const map = new Map<string, unknown>();
      for (let i = 0; i < st.length; i += 2) map.set(st[i].toString(), st[i + 1]);
      expect(map.get('id')).to.deep.equal(id);
      expect(map.get('queue')).to.deep.equal(queue);
      expect(map.get('payload')).to.deep.equal(payload);
      const result = Buffer.from([0x00, 0xff, 0x0d, 0x0a]);
      expect(await call('ACK', id, 'RESULT', result)).to.equal(1);
      const done = (await call('STATUS', id)) as Buffer[];
      expect(done[done.findIndex((b) => Buffer.isBuffer(b) && b.toString() === 'result') + 1]).to.deep.equal(result);
      const err = Buffer.from([0xe2, 0x9c, 0x97, 0x00, 0x0a]);
      expect(String(await call('NACK', emptyId, 'ERROR', err, 'NORETRY'))).to.equal('dead');
      expect(await call('DLQ', queue)).to.deep.equal([[emptyId, queue, Buffer.alloc(0), 1, err]]);
      expect(await call('REQUEUE', queue, 'ALL')).to.equal(1);
      expect(await call('PURGE', queue, 'WAITING')).to.equal(1);
      expect(await call('PURGE', queue, 'COMPLETED')).to.equal(1);
      expect(await call('QLEN', queue)).to.equal(0);
      // a name differing in one byte is another queue
      const near = Buffer.from(queue);
      near[0] = 0x01;
      expect(await call('QLEN', near)).to.equal(0);
      // INFO stays one line per queue whatever bytes the names hold
      await call('ENQUEUE', queue, 'x');
      const info = (await cmd(r, 'INFO', 'queues')) as string;
      for (const line of info.split('\r\n').filter((l) => l.startsWith('queue_'))) expect(line).to.match(/^queue_[^\r\n]*:ready=/);
    });

    it('empty payload through the string API round-trips as an empty string', async () => {
      const q = newQueue('empty');
      const id = await enqueue(r, q, '');
      expect(await claim(r, q)).to.deep.equal([[id, q, '', 1]]);
      expect(fields(await cmd(r, 'STATUS', id, 'WITHPAYLOAD')).payload).to.equal('');
    });
  });
});

describe('server: QCONFIG CONCURRENCY (a cap on active jobs across all workers)', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);

  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('hands out at most n jobs at once; a blocked CLAIM wakes when a slot frees; it survives a restart', async () => {
    const admin = clients.make();
    expect(await admin.call('QCONFIG', 'capped', 'CONCURRENCY', '2')).to.equal('OK');
    for (let i = 0; i < 5; i++) await admin.call('ENQUEUE', 'capped', `j${i}`);
    const got = (await admin.call('CLAIM', 'capped', 'COUNT', '10')) as unknown[][];
    expect(got).to.have.length(2);
    expect(await admin.call('CLAIM', 'capped')).to.deep.equal([]);
    // a third worker blocks although jobs are ready: the cap is full
    const third = clients.make();
    const waiting = third.call('CLAIM', 'capped', 'BLOCK', '0') as Promise<unknown[][]>;
    await waitFor(async () => /blocked_claims:1/.test((await admin.call('INFO', 'clients')) as string), 'the third CLAIM parked');
    expect(await admin.call('ACK', got[0][0] as string)).to.equal(1);
    const woke = await waiting;
    expect(woke).to.have.length(1);
    expect(fields(await admin.call('QSTATS', 'capped'))).to.include({ active: 2, ready: 2, concurrency: 2 });
    // raising the cap serves waiting claimers at once
    const fourth = clients.make();
    const more = fourth.call('CLAIM', 'capped', 'COUNT', '5', 'BLOCK', '0') as Promise<unknown[][]>;
    await waitFor(async () => /blocked_claims:1/.test((await admin.call('INFO', 'clients')) as string), 'the fourth CLAIM parked');
    await admin.call('QCONFIG', 'capped', 'CONCURRENCY', '3');
    expect(await more).to.have.length(1);
    await broker.kill();
    await broker.restart();
    const after = clients.make();
    expect(fields(await after.call('QSTATS', 'capped')).concurrency).to.equal(3);
    await after.call('SAVE');
    await broker.kill();
    await broker.restart();
    const again = clients.make();
    expect(fields(await again.call('QSTATS', 'capped')).concurrency).to.equal(3);
    expect(await again.call('QCONFIG', 'capped', 'CONCURRENCY', '0')).to.equal('OK');
    expect(fields(await again.call('QSTATS', 'capped')).concurrency).to.equal(0);
    await expectError(again.call('QCONFIG', 'capped', 'SPEED', '3'), 'ERR', /unknown queue setting/);
    await expectError(again.call('QCONFIG', 'capped', 'CONCURRENCY', '-1'), 'ERR');
  });
});
