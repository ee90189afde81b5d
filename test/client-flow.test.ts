/** The SDK's flow-control calls (groups, rate limits, group limits) and the Worker's requeueOnClose default, against a real broker. */
import { expect } from 'chai';
import { CommandError, FullError, Job, NoPermError, Queue, Worker, WorkerOptions } from '../client';
import { BrokerProcess } from './helpers/broker';
import { brokerUrl, qname, startSdkBroker, until } from './helpers/sdk-util';

describe('client: flow control (Queue limits and groups, Worker requeueOnClose)', function () {
  this.timeout(20000);
  let broker: BrokerProcess;
  let url: string;
  let queue: Queue;
  const open: { close(): Promise<void> }[] = [];
  const errors: Error[] = [];

  function worker<T = unknown, R = unknown>(name: string, handler: (job: Job<T>) => Promise<R>, opts: WorkerOptions<T> = {}): Worker<T, R> {
    const w = new Worker<T, R>(name, handler, { connection: url, block: 100, ...opts });
    w.on('error', (err) => errors.push(err));
    open.push({ close: () => w.close(1000) });
    return w;
  }

  before(async () => {
    broker = await startSdkBroker({ 'default-retries': '3', 'default-backoff': '20', 'backoff-jitter': '0' });
    url = brokerUrl(broker);
  });
  beforeEach(() => {
    queue = new Queue(url);
    open.push(queue);
    errors.length = 0;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });
  after(async () => {
    await broker.cleanup();
  });

  it('enqueue and enqueueMany with a group: status() shows it, groups() lists the keys largest first', async () => {
    const name = qname();
    const id = await queue.enqueue(name, { n: 1 }, { group: 'acme' });
    await queue.enqueueMany(name, [{ payload: { n: 2 } }, { payload: { n: 3 }, options: { group: 'zeta' } }], { group: 'acme' });
    const plain = await queue.enqueue(name, { n: 4 });
    expect((await queue.status(id))!.group).to.equal('acme');
    expect((await queue.status(plain))!.group).to.equal(null);
    expect((await queue.status(id))!.extra).to.not.have.property('group');
    const groups = await queue.groups(name);
    expect(groups).to.deep.equal([
      { key: 'acme', waiting: 2, ready: 2, active: 0, inProgress: 0 },
      { key: 'zeta', waiting: 1, ready: 1, active: 0, inProgress: 0 },
    ]);
    expect(await queue.groups(name, { count: 1 })).to.have.length(1);
    await rejects(queue.groups(name, { count: 0 }), TypeError);
    await rejects(queue.enqueue(name, 'x', { group: '' }), TypeError, /group/);
    expect((await queue.stats(name)).groups).to.equal(2);
  });

  it('setLimits sets every QCONFIG setting at once; stats() reads them back; setRateLimit is RATE [PER]', async () => {
    const name = qname();
    await queue.setLimits(name, {
      maxLen: 500,
      concurrency: 8,
      rate: 100,
      ratePer: 2000,
      groupConcurrency: 1,
      groupRate: 5,
      groupRatePer: 500,
      groupMaxLen: 20,
    });
    const s = await queue.stats(name);
    expect(s).to.include({ maxLen: 500, concurrency: 8, rate: 100, ratePer: 2000, groupConcurrency: 1, groupRate: 5, groupRatePer: 500, groupMaxLen: 20 });
    expect(Object.keys(s.extra)).to.not.include.members(['rate', 'rate-per', 'group-maxlen']);
    await queue.setRateLimit(name, 10);
    expect(await queue.stats(name)).to.include({ rate: 10, ratePer: 1000, concurrency: 8, groupConcurrency: 1 });
    await queue.setRateLimit(name, 3, 250);
    expect(await queue.stats(name)).to.include({ rate: 3, ratePer: 250 });
    await queue.setLimits(name, { rate: 0, groupConcurrency: 0 });
    expect(await queue.stats(name)).to.include({ rate: 0, groupConcurrency: 0, groupRate: 5 });
    // client-side checks, and the broker's range check as a CommandError
    await rejects(queue.setLimits(name, {}), TypeError, /at least one/);
    await rejects(queue.setLimits(name, { ratePer: 100 }), TypeError, /ratePer needs rate/);
    await rejects(queue.setRateLimit(name, 1.5), TypeError);
    await rejects(queue.setLimits(name, { rate: 2_000_000 }), CommandError, /RATE must be between 0 and 1000000$/);
  });

  it('a rate limit holds back claims: 5 per 10 s hands out 5 jobs now, the rest stay ready', async () => {
    const name = qname();
    await queue.setRateLimit(name, 5, 10_000);
    await queue.enqueueMany(
      name,
      Array.from({ length: 8 }, (_, i) => ({ payload: i })),
    );
    const claimed = (await queue.redis.call('CLAIM', name, 'COUNT', 8)) as unknown[];
    expect(claimed).to.have.length(5);
    expect(await queue.stats(name)).to.include({ ready: 3, active: 5 });
  });

  it('configureGroup / groupStats / resetGroup: own limits replace the defaults, a patch keeps the rest, reset restores the defaults', async () => {
    const name = qname();
    await queue.setLimits(name, { groupConcurrency: 1, groupMaxLen: 50 });
    const before = await queue.groupStats(name, 'vip');
    expect(before).to.include({ concurrency: 1, maxLen: 50, rate: 0, ownLimits: false, waiting: 0 });
    const set = await queue.configureGroup(name, 'vip', { concurrency: 4, rate: 30, ratePer: 100 });
    expect(set).to.include({ concurrency: 4, rate: 30, ratePer: 100, maxLen: 50, ownLimits: true });
    expect(await queue.configureGroup(name, 'vip', { maxLen: 0 })).to.include({ concurrency: 4, rate: 30, maxLen: 0, ownLimits: true });
    expect(await queue.resetGroup(name, 'vip')).to.equal(true);
    expect(await queue.resetGroup(name, 'vip')).to.equal(false);
    expect(await queue.groupStats(name, 'vip')).to.include({ concurrency: 1, maxLen: 50, rate: 0, ownLimits: false });
    await rejects(queue.configureGroup(name, 'vip', {}), TypeError, /at least one/);
  });

  it('a group max length refuses the enqueue with FullError; groupStats counts waiting, active and in-progress', async () => {
    const name = qname();
    await queue.configureGroup(name, 'acme', { maxLen: 2 });
    await queue.enqueue(name, 'a', { group: 'acme' });
    await queue.enqueue(name, 'b', { group: 'acme' });
    await rejects(queue.enqueue(name, 'c', { group: 'acme' }), FullError, /group is at its max length$/);
    await queue.redis.call('CLAIM', name, 'COUNT', 1);
    expect(await queue.groupStats(name, 'acme')).to.include({ waiting: 2, ready: 1, active: 1, inProgress: 1, scheduled: 0 });
  });

  it('ordered groups: with a group concurrency of 1, a Worker runs the jobs of each key one at a time, in order, retries included', async () => {
    const name = qname();
    await queue.setLimits(name, { groupConcurrency: 1 });
    const keys = ['a', 'b', 'c'];
    for (let i = 0; i < 5; i++) for (const k of keys) await queue.enqueue(name, { k, i }, { group: k });
    const seen = new Map<string, number[]>(keys.map((k) => [k, []]));
    const running = new Set<string>();
    let overlap = false;
    let failedOnce = false;
    worker<{ k: string; i: number }>(
      name,
      async (job) => {
        const { k, i } = job.data;
        if (running.has(k)) overlap = true;
        running.add(k);
        await new Promise((r) => setTimeout(r, 5));
        running.delete(k);
        if (k === 'b' && i === 1 && !failedOnce) {
          failedOnce = true;
          throw new Error('flaky'); // retried after its backoff: b's next jobs wait for it
        }
        seen.get(k)!.push(i);
      },
      { concurrency: 6 },
    );
    await until(async () => (await queue.stats(name)).acked === 15, 10_000, 'all 15 jobs acked');
    expect(overlap, 'two jobs of one key ran at once').to.equal(false);
    for (const k of keys) expect(seen.get(k), k).to.deep.equal([0, 1, 2, 3, 4]);
    expect(failedOnce).to.equal(true);
  });

  it('Worker asks for requeue-on-close by default: its jobs are ready again as soon as its claim connection closes', async () => {
    const name = qname();
    const id = await queue.enqueue(name, 'x');
    const w = worker(name, () => new Promise(() => undefined), { lease: 60_000 });
    expect(w.requeueOnClose).to.equal(true);
    await until(async () => (await queue.status(id))!.state === 'active', 5000, 'job active');
    // the broker closes the worker's claim connection (as when its process dies): the job is given back
    // at once (its one slot is still held by the hung handler, so this worker does not take it again)
    const killedAt = Date.now();
    await queue.redis.call('CLIENT', 'KILL', 'ID', await claimConnectionId());
    await until(async () => (await queue.status(id))!.state === 'ready', 3000, 'job ready again well before its 60 s lease');
    expect(Date.now() - killedAt).to.be.below(2000);
    expect(await queue.status(id)).to.include({ deliveries: 1 });
    expect((await queue.stats(name)).failed).to.equal(1);
  });

  it('requeueOnClose: false keeps the jobs of a closed claim connection active until their leases end', async () => {
    const name = qname();
    const id = await queue.enqueue(name, 'x');
    const w = worker(name, () => new Promise(() => undefined), { lease: 60_000, requeueOnClose: false });
    expect(w.requeueOnClose).to.equal(false);
    await until(async () => (await queue.status(id))!.state === 'active', 5000, 'job active');
    await queue.redis.call('CLIENT', 'KILL', 'ID', await claimConnectionId());
    await new Promise((r) => setTimeout(r, 500));
    expect(await queue.status(id)).to.include({ state: 'active', deliveries: 1 });
  });

  it('a worker user without CLIENT REQUEUE-ON-CLOSE still works: the refusal is an error event, leases cover its jobs', async () => {
    const admin = queue.redis;
    const name = qname();
    await admin.call('ACL', 'SETUSER', 'narrow', 'on', '>npw', '+claim', '+ack', '+nack', '+touch', '+client|setname', '+ping', '+select', '+info', `~${name}`);
    const id = await queue.enqueue(name, 'x');
    const port = broker.port;
    worker(name, async () => 'ok', { connection: `redis://narrow:npw@127.0.0.1:${port}` });
    await until(async () => (await queue.status(id))!.state === 'completed', 5000, 'job completed');
    await new Promise((r) => setTimeout(r, 400)); // a few more claims (BLOCK 100): the refusal is not repeated at each
    expect(errors.filter((e) => e instanceof NoPermError)).to.have.length(1);
  });

  async function rejects(p: Promise<unknown>, type: new (...a: never[]) => Error, message?: RegExp): Promise<void> {
    const err = await p.then(
      () => null,
      (e: Error) => e,
    );
    expect(err, 'rejected').to.be.instanceOf(type);
    if (message) expect(err!.message).to.match(message);
  }

  /** the id of the one connection named resq-worker-claim (CLIENT LIST) */
  async function claimConnectionId(): Promise<string> {
    const list = String(await queue.redis.call('CLIENT', 'LIST'));
    const line = list.split('\n').find((l) => / name=resq-worker-claim /.test(l));
    if (!line) throw new Error(`no claim connection in CLIENT LIST:\n${list}`);
    return /\bid=(\d+)/.exec(line)![1];
  }
});
