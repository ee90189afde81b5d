/** ENQUEUE's batch form, `ENQUEUE queue PAYLOADS numjobs payload [payload ...] [options]`: ioredis, redis-cli, ACL, kill -9. */
import { expect } from 'chai';
import { execFileSync } from 'child_process';
import Redis from 'ioredis';
import { startBroker } from './helpers/broker';
import { brokerForSuite, cmd, expectError, fields, skipWithoutRedisCli } from './helpers/util';

/** the batch reply with each error element as its message */
const batch = async (r: Redis, queue: string, ...rest: Array<string | number>): Promise<string[]> =>
  ((await cmd(r, 'ENQUEUE', queue, 'PAYLOADS', ...rest)) as unknown[]).map((x) => (x instanceof Error ? x.message : String(x)));

describe('ENQUEUE PAYLOADS: the batch form (ioredis)', function () {
  this.timeout(20000);
  const { clients } = brokerForSuite(() => startBroker({ 'max-payload': '1024' }));
  let r: Redis;

  before(() => {
    r = clients.make();
  });

  it('creates one job per payload, in order, all with the options given; one id per payload', async () => {
    const ids = await batch(r, 'eb1', 3, 'a', 'b', 'c', 'PRIORITY', 'high', 'RETRIES', 7, 'GROUP', 'tenant-1');
    expect(ids).to.have.length(3);
    expect(new Set(ids).size).to.equal(3);
    for (const [i, id] of ids.entries()) {
      const s = fields(await cmd(r, 'STATUS', id, 'WITHPAYLOAD'));
      expect(s.payload).to.equal('abc'[i]);
      expect(s.priority).to.equal('high');
      expect(s.retries).to.equal(7);
      expect(s.group).to.equal('tenant-1');
    }
    const jobs = (await cmd(r, 'CLAIM', 'eb1', 'COUNT', 3)) as unknown[][];
    expect(jobs.map((j) => String(j[0]))).to.deep.equal(ids);
  });

  it('a payload that fails does not stop the others: -TOOBIG and -FULL in place', async () => {
    await cmd(r, 'QCONFIG', 'eb2', 'MAXLEN', 3);
    const reply = await batch(r, 'eb2', 4, 'x', 'y'.repeat(2000), 'z', 'w');
    expect(reply[0]).to.match(/^\d+$/);
    expect(reply[1]).to.match(/^TOOBIG /);
    expect(reply[2]).to.match(/^\d+$/);
    expect(reply[3]).to.match(/^\d+$/);
    expect(await batch(r, 'eb2', 2, 'v', 'u')).to.deep.equal(['FULL queue is at its max length', 'FULL queue is at its max length']);
    expect(fields(await cmd(r, 'QSTATS', 'eb2')).ready).to.equal(3);
  });

  it('a malformed batch is -ERR and enqueues nothing', async () => {
    await expectError(cmd(r, 'ENQUEUE', 'eb3', 'PAYLOADS', 3, 'a', 'b'), 'ERR', /PAYLOADS 3 needs 3 payloads, got 2/);
    await expectError(cmd(r, 'ENQUEUE', 'eb3', 'PAYLOADS', 2, 'a', 'b', 'PRIORITY', 'urgent'), 'ERR', /PRIORITY/);
    await expectError(cmd(r, 'ENQUEUE', 'eb3', 'PAYLOADS', 1, 'a', 'ID', 'k'), 'ERR', /ID is not allowed with PAYLOADS/);
    await expectError(cmd(r, 'ENQUEUE', 'eb3', 'PAYLOADS', 1, 'a', 'BLOCK', 100), 'ERR', /BLOCK is not allowed with PAYLOADS/);
    await expectError(cmd(r, 'ENQUEUE', 'eb3', 'PAYLOADS', 0, 'a'), 'ERR');
    expect(fields(await cmd(r, 'QSTATS', 'eb3')).ready).to.equal(0);
  });

  it('the single form is unchanged for a payload that is "PAYLOADS"', async () => {
    const id = (await cmd(r, 'ENQUEUE', 'eb4', 'PAYLOADS')) as string;
    const id2 = (await cmd(r, 'ENQUEUE', 'eb4', 'PAYLOADS', 'PRIORITY', 'low')) as string;
    expect(fields(await cmd(r, 'STATUS', id, 'WITHPAYLOAD')).payload).to.equal('PAYLOADS');
    expect(fields(await cmd(r, 'STATUS', id2)).priority).to.equal('low');
  });

  it('COMMAND DOCS shows the batch form', async () => {
    const docs = (await cmd(r, 'COMMAND', 'DOCS', 'ENQUEUE')) as unknown[];
    expect(JSON.stringify(docs)).to.include('PAYLOADS numjobs payload [payload ...]');
  });
});

describe('ENQUEUE PAYLOADS: ACL, redis-cli and kill -9', function () {
  this.timeout(30000);
  const suite = brokerForSuite(() => startBroker());
  const { clients } = suite;
  const broker = () => suite.broker;

  it('a user without access to the queue gets NOPERM and nothing is enqueued', async () => {
    const admin = clients.make();
    await cmd(admin, 'ACL', 'SETUSER', 'producer', 'on', '>p-pass', '+@produce', '~sms:*');
    const p = clients.make({ username: 'producer', password: 'p-pass', enableReadyCheck: false });
    expect((await cmd(p, 'ENQUEUE', 'sms:eu', 'PAYLOADS', 2, 'a', 'b')) as unknown[]).to.have.length(2);
    await expectError(cmd(p, 'ENQUEUE', 'payments', 'PAYLOADS', 2, 'a', 'b'), 'NOPERM', /'payments' queue/);
    expect(fields(await cmd(admin, 'QSTATS', 'payments')).ready).to.equal(0);
  });

  it('redis-cli prints one id per line', function () {
    skipWithoutRedisCli(this);
    const out = execFileSync('redis-cli', ['-p', String(broker().port), 'ENQUEUE', 'cli', 'PAYLOADS', '2', 'a', 'b'], { encoding: 'latin1' }).trimEnd();
    expect(out.split('\n')).to.have.length(2);
    for (const line of out.split('\n')) expect(line).to.match(/^\d+$/);
  });

  it('every id a batch reply gave is there after kill -9 (the reply waited for the fsync)', async () => {
    const r = clients.make();
    const payloads = Array.from({ length: 500 }, (_, i) => `job-${i}`);
    const ids = (await cmd(r, 'ENQUEUE', 'crash', 'PAYLOADS', payloads.length, ...payloads)) as string[];
    await broker().kill();
    await broker().restart();
    const after = clients.make();
    expect(fields(await cmd(after, 'QSTATS', 'crash')).ready).to.equal(500);
    expect(fields(await cmd(after, 'STATUS', ids[499], 'WITHPAYLOAD')).payload).to.equal('job-499');
  });
});
