/** ACK's batch form, `ACK IDS numids id [id ...] [DELIVERY d [d ...]]`, against a real broker: ioredis, redis-cli, ACL, a crash. */
import { expect } from 'chai';
import { execFileSync } from 'child_process';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, brokerForSuite, cmd, expectError, fields, skipWithoutRedisCli } from './helpers/util';

/** enqueues n jobs into queue and claims them; their ids in claim order */
async function claimed(r: Redis, queue: string, n: number): Promise<string[]> {
  for (let i = 0; i < n; i++) await cmd(r, 'ENQUEUE', queue, `p${i}`);
  const jobs = (await cmd(r, 'CLAIM', queue, 'COUNT', n)) as unknown[][];
  expect(jobs).to.have.length(n);
  return jobs.map((j) => String(j[0]));
}

const state = async (r: Redis, id: string) => fields(await cmd(r, 'STATUS', id)).state;

/** the batch reply with each error element as its message */
const batch = async (r: Redis, ...args: Array<string | number>): Promise<Array<number | string>> =>
  ((await cmd(r, 'ACK', ...args)) as unknown[]).map((x) => (x instanceof Error ? x.message : (x as number)));

describe('ACK IDS: the batch form (ioredis)', function () {
  this.timeout(20000);
  const { clients } = brokerForSuite(() => startBroker());
  let r: Redis;

  before(() => {
    r = clients.make();
  });

  it('acknowledges several jobs in one command, one :1 per id; the jobs are completed and counted', async () => {
    const ids = await claimed(r, 'b1', 5);
    expect(await batch(r, 'IDS', 5, ...ids)).to.deep.equal([1, 1, 1, 1, 1]);
    for (const id of ids) expect(await state(r, id)).to.equal('completed');
    expect(fields(await cmd(r, 'QSTATS', 'b1')).acked).to.equal(5);
    // again: every one is already completed
    expect(await batch(r, 'ids', 2, ids[0], ids[1])).to.deep.equal([0, 0]);
  });

  it('an id that fails does not stop the others: each element is what the single ACK would reply', async () => {
    const [a, b, c] = await claimed(r, 'b2', 3);
    const ready = (await cmd(r, 'ENQUEUE', 'b2', 'still-ready')) as string;
    expect(await cmd(r, 'ACK', c)).to.equal(1);
    const reply = await batch(r, 'IDS', 6, a, 'no-such-job', ready, c, b, a);
    expect(reply.map(String)).to.deep.equal(['1', 'NOJOB no such job', 'STATE job is ready, not active', '0', '1', '0']);
    expect(await state(r, a)).to.equal('completed');
    expect(await state(r, b)).to.equal('completed');
    expect(await state(r, ready)).to.equal('ready');
    expect(fields(await cmd(r, 'QSTATS', 'b2')).acked).to.equal(3);
  });

  it('DELIVERY gives one token per id: a stale delivery gets -STALE in its place, the rest are acknowledged', async () => {
    const [a, b] = await claimed(r, 'b3', 2);
    // b's lease is lost: given back and claimed again, now in delivery 2
    expect(await cmd(r, 'NACK', b, 'DELAY', 0, 'DELIVERY', 1)).to.equal('ready');
    expect(((await cmd(r, 'CLAIM', 'b3')) as unknown[][])[0]).to.deep.equal([b, 'b3', 'p1', 2]);
    const reply = await batch(r, 'IDS', 2, a, b, 'DELIVERY', 1, 1);
    expect(reply[0]).to.equal(1);
    expect(String(reply[1])).to.match(/^STALE /);
    expect(await state(r, b)).to.equal('active');
    expect(await batch(r, 'IDS', 1, b, 'DELIVERY', 2)).to.deep.equal([1]);
  });

  it('a malformed batch is -ERR and acknowledges nothing', async () => {
    const [a, b] = await claimed(r, 'b4', 2);
    await expectError(cmd(r, 'ACK', 'IDS', 3, a, b), 'ERR', /IDS 3 needs 3 ids, got 2/);
    await expectError(cmd(r, 'ACK', 'IDS', 0, a), 'ERR', /numids/);
    await expectError(cmd(r, 'ACK', 'IDS', 'x', a), 'ERR', /not an integer/);
    await expectError(cmd(r, 'ACK', 'IDS', 2, a, b, 'RESULT', 'v'), 'ERR', /unknown option 'RESULT'/);
    await expectError(cmd(r, 'ACK', 'IDS', 2, a, b, 'DELIVERY', 1), 'ERR', /one delivery per id/);
    await expectError(cmd(r, 'ACK', 'IDS', 2, a, b, 'DELIVERY', 1, 'one'), 'ERR', /not an integer/);
    expect(await state(r, a)).to.equal('active');
    expect(await state(r, b)).to.equal('active');
  });

  it('the single form is unchanged, for a job whose id is "IDS" too', async () => {
    const [a] = await claimed(r, 'b5', 1);
    expect(await cmd(r, 'ACK', a, 'RESULT', 'r', 'DELIVERY', 1)).to.equal(1);
    expect(await cmd(r, 'ACK', a)).to.equal(0);
    await expectError(cmd(r, 'ACK', 'no-such-job'), 'NOJOB', /^NOJOB no such job$/);
    await expectError(cmd(r, 'ACK', a, 'NOPE'), 'ERR', /unknown option 'NOPE'/);
    for (const id of ['IDS', 'ids']) {
      expect(await cmd(r, 'ENQUEUE', 'b5', 'x', 'ID', id)).to.equal(id);
      expect(((await cmd(r, 'CLAIM', 'b5')) as unknown[][])[0][0]).to.equal(id);
    }
    expect(await cmd(r, 'ACK', 'IDS', 'RESULT', 'kept', 'DELIVERY', 1)).to.equal(1);
    expect(fields(await cmd(r, 'STATUS', 'IDS')).result).to.equal('kept');
    expect(await cmd(r, 'ACK', 'ids', 'delivery', 1)).to.equal(1);
    expect(await cmd(r, 'ACK', 'IDS')).to.equal(0);
  });

  it('pipelined batches and single ACKs answer in order', async () => {
    const ids = await claimed(r, 'b6', 6);
    const p = r.pipeline();
    p.call('ACK', 'IDS', 2, ids[0], ids[1]);
    p.call('ACK', ids[2]);
    p.call('ACK', 'IDS', 3, ids[3], ids[4], ids[5], 'DELIVERY', 1, 1, 1);
    p.call('ACK', ids[2]);
    const out = (await p.exec())!.map(([err, v]) => err ?? v);
    expect(out).to.deep.equal([[1, 1], 1, [1, 1, 1], 0]);
  });

  it('COMMAND DOCS shows the batch form', async () => {
    const docs = (await cmd(r, 'COMMAND', 'DOCS', 'ACK')) as unknown[];
    expect(JSON.stringify(docs)).to.include('IDS numids id [id ...]');
  });
});

describe('ACK IDS: ACL checks every id against its queue', function () {
  this.timeout(20000);
  const { clients } = brokerForSuite(() => startBroker());
  let admin: Redis;

  before(async () => {
    admin = clients.make();
    await cmd(admin, 'ACL', 'SETUSER', 'worker', 'on', '>w-pass', '+@consume', '~sms:*');
  });

  it('one id of a queue the user may not access refuses the whole batch with NOPERM; unknown ids pass the gate', async () => {
    const w = clients.make({ username: 'worker', password: 'w-pass', enableReadyCheck: false });
    const mine = await claimed(admin, 'sms:eu', 2);
    const [other] = await claimed(admin, 'payments', 1);
    await expectError(cmd(w, 'ACK', 'IDS', 3, mine[0], other, mine[1]), 'NOPERM', /access the 'payments' queue/);
    for (const id of [...mine, other]) expect(await state(admin, id)).to.equal('active'); // nothing acknowledged
    const log = (await cmd(admin, 'ACL', 'LOG', 1)) as unknown[][];
    expect(fields(log[0]).object).to.equal('payments');
    // the same user's batch of its own jobs (and an unknown id) goes through
    const reply = ((await cmd(w, 'ACK', 'IDS', 3, mine[0], 'gone', mine[1])) as unknown[]).map((x) => (x instanceof Error ? x.message : x));
    expect(reply).to.deep.equal([1, 'NOJOB no such job', 1]);
    // an id spelled IDS in the single form is checked as that job's id
    await cmd(admin, 'ENQUEUE', 'payments', 'x', 'ID', 'IDS');
    await expectError(cmd(w, 'ACK', 'IDS'), 'NOPERM', /'payments' queue/);
  });
});

describe('ACK IDS: in the log before the reply (written under lease-durability written, the default; fsynced under fsync)', function () {
  this.timeout(30000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);

  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  it('every job a batch reply acknowledged is still completed after kill -9', async () => {
    broker = await startBroker();
    const r = clients.make();
    const ids = await claimed(r, 'dur', 50);
    expect(await cmd(r, 'ACK', 'IDS', ids.length, ...ids)).to.deep.equal(ids.map(() => 1));
    await broker.kill();
    r.disconnect();
    await broker.restart();
    const r2 = clients.make();
    for (const id of ids) expect(await state(r2, id)).to.equal('completed');
  });
});

describe('ACK IDS with redis-cli', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const cli = (...args: Array<string | number>): string =>
    execFileSync('redis-cli', ['-p', String(broker.port), ...args.map(String)], { encoding: 'latin1', timeout: 10000 }).trimEnd();

  before(async function () {
    skipWithoutRedisCli(this);
    broker = await startBroker();
  });
  after(async () => {
    await broker?.cleanup();
  });

  it('prints one line per id, errors in place; the single form prints as before', () => {
    const a = cli('ENQUEUE', 'cli', 'x');
    const b = cli('ENQUEUE', 'cli', 'y');
    const c = cli('ENQUEUE', 'cli', 'z');
    expect(cli('CLAIM', 'cli', 'COUNT', 3).split('\n')).to.have.length(12);
    // (raw mode, as when piped: redis-cli prints an empty line after an error element)
    expect(cli('ACK', 'IDS', 3, a, 'nope', b).split('\n')).to.deep.equal(['1', 'NOJOB no such job', '', '1']);
    expect(cli('ACK', 'IDS', 2, a, c, 'DELIVERY', 1, 1).split('\n')).to.deep.equal(['0', '1']);
    expect(cli('ACK', 'IDS', 2, a)).to.match(/^(\(error\) )?ERR syntax error: IDS 2 needs 2 ids, got 1$/);
    expect(cli('ACK', a, 'RESULT', 'r')).to.equal('0');
    expect(cli('ACK', 'nope')).to.match(/^(\(error\) )?NOJOB/);
  });

  it('an interactive (tty-style) session shows the array with (integer) and (error) entries', () => {
    const a = cli('ENQUEUE', 'cli2', 'x');
    cli('CLAIM', 'cli2');
    // --no-raw: the formatting a person sees at the prompt
    const out = execFileSync('redis-cli', ['--no-raw', '-p', String(broker.port), 'ACK', 'IDS', '2', a, 'nope'], { encoding: 'latin1' });
    expect(out.trim().split('\n')).to.deep.equal(['1) (integer) 1', '2) (error) NOJOB no such job']);
  });
});
