import { expect } from 'chai';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, expectError } from './helpers/util';

/** SLOWLOG GET/LEN/RESET through ioredis, in Redis's reply shapes. */

type Entry = [number, number, number, string[], string, string];

describe('SLOWLOG', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;

  const slowlog = async (...args: Array<string | number>) => (await cmd(r, 'SLOWLOG', 'GET', ...args)) as Entry[];

  before(async () => {
    broker = await startBroker({ 'http-port': '0' });
    r = clients.make();
    expect(await cmd(r, 'CONFIG', 'GET', 'slowlog-slower-than')).to.deep.equal(['slowlog-slower-than', '10000']);
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });
  beforeEach(async () => {
    await cmd(r, 'CONFIG', 'SET', 'slowlog-slower-than', 0);
    await cmd(r, 'CONFIG', 'SET', 'slowlog-max-len', 128);
    await cmd(r, 'SLOWLOG', 'RESET');
  });

  it('with slowlog-slower-than 0 every command is logged: [id, unix-time, usec, args, addr, name], newest first', async () => {
    await cmd(r, 'CLIENT', 'SETNAME', 'slow-tester');
    await cmd(r, 'ENQUEUE', 'slow-q', 'payload-1', 'PRIORITY', 'high');
    await cmd(r, 'QLEN', 'slow-q');
    const entries = await slowlog();
    expect(entries.length).to.be.at.least(3);
    const [qlen, enq] = entries;
    expect(qlen[3]).to.deep.equal(['QLEN', 'slow-q']);
    expect(enq[3]).to.deep.equal(['ENQUEUE', 'slow-q', 'payload-1', 'PRIORITY', 'high']);
    for (const e of [qlen, enq]) {
      expect(e).to.have.length(6);
      expect(e[0]).to.be.a('number');
      expect(Math.abs(e[1] - Date.now() / 1000)).to.be.lessThan(30);
      expect(e[2]).to.be.a('number').and.at.least(0);
      expect(e[4]).to.match(/^127\.0\.0\.1:\d+$/);
      expect(e[5]).to.equal('slow-tester');
    }
    expect(qlen[0]).to.be.greaterThan(enq[0]);
  });

  it('GET count: default 10, -1 = all; LEN; RESET', async () => {
    for (let i = 0; i < 15; i++) await cmd(r, 'PING');
    expect(await slowlog()).to.have.length(10);
    expect(await slowlog(3)).to.have.length(3);
    expect((await slowlog(-1)).length).to.be.at.least(16);
    expect(await cmd(r, 'SLOWLOG', 'LEN')).to.be.at.least(16);
    expect(await cmd(r, 'SLOWLOG', 'RESET')).to.equal('OK');
    // RESET itself is the one entry after the reset
    expect(await cmd(r, 'SLOWLOG', 'LEN')).to.equal(1);
    await expectError(cmd(r, 'SLOWLOG', 'GET', 'abc'), 'ERR');
    await expectError(cmd(r, 'SLOWLOG', 'GET', -2), 'ERR');
    await expectError(cmd(r, 'SLOWLOG', 'NOPE'), 'ERR', /unknown subcommand/);
  });

  it('slowlog-max-len bounds the entries, oldest dropped', async () => {
    await cmd(r, 'CONFIG', 'SET', 'slowlog-max-len', 5);
    for (let i = 0; i < 20; i++) await cmd(r, 'ECHO', `m${i}`);
    expect(await cmd(r, 'SLOWLOG', 'LEN')).to.equal(5);
    const entries = await slowlog(-1);
    expect(entries).to.have.length(5);
    expect(entries[0][3]).to.deep.equal(['SLOWLOG', 'LEN']);
    expect(entries[1][3]).to.deep.equal(['ECHO', 'm19']);
  });

  it('slowlog-slower-than -1 logs nothing; a high threshold logs only slow commands', async () => {
    await cmd(r, 'CONFIG', 'SET', 'slowlog-slower-than', -1);
    await cmd(r, 'SLOWLOG', 'RESET');
    for (let i = 0; i < 5; i++) await cmd(r, 'PING');
    expect(await cmd(r, 'SLOWLOG', 'LEN')).to.equal(0);
    await cmd(r, 'CONFIG', 'SET', 'slowlog-slower-than', 1_000_000);
    for (let i = 0; i < 5; i++) await cmd(r, 'PING');
    expect(await cmd(r, 'SLOWLOG', 'LEN')).to.equal(0);
  });

  it('long arguments and long argument lists are trimmed as Redis does', async () => {
    await cmd(r, 'ENQUEUE', 'slow-q', 'p'.repeat(300));
    const [entry] = await slowlog(1);
    expect(entry[3][2]).to.equal(`${'p'.repeat(128)}... (172 more bytes)`);
    const many = Array.from({ length: 40 }, (_, i) => `a${i}`);
    await cmd(r, 'INFO', ...many);
    const [e2] = await slowlog(1);
    expect(e2[3]).to.have.length(32);
    expect(e2[3].slice(0, 3)).to.deep.equal(['INFO', 'a0', 'a1']);
    expect(e2[3][31]).to.equal('... (10 more arguments)');
  });

  it('passwords are redacted (AUTH, HELLO AUTH, CONFIG SET requirepass)', async () => {
    await cmd(r, 'AUTH', 'hunter2').catch(() => {});
    await cmd(r, 'HELLO', 2, 'AUTH', 'default', 'hunter2').catch(() => {});
    const entries = await slowlog(2);
    expect(entries[0][3]).to.deep.equal(['HELLO', '2', 'AUTH', '(redacted)', '(redacted)']);
    expect(entries[1][3]).to.deep.equal(['AUTH', '(redacted)']);
    await cmd(r, 'CONFIG', 'SET', 'slowlog-max-len', 128, 'requirepass', 'hunter2');
    await cmd(r, 'CONFIG', 'SET', 'requirepass', '');
    const [, set] = await slowlog(2);
    expect(set[3]).to.deep.equal(['CONFIG', 'SET', 'slowlog-max-len', '128', 'requirepass', '(redacted)']);
    for (const e of await slowlog(-1)) expect(e[3].join(' ')).to.not.include('hunter2');
  });

  it('SLOWLOG is in the command table (COMMAND DOCS)', async () => {
    const docs = (await cmd(r, 'COMMAND', 'DOCS', 'slowlog')) as unknown[];
    expect(docs[0]).to.equal('slowlog');
  });
});
