import { expect } from 'chai';
import Redis from 'ioredis';
import type { Broker } from '../server/broker';
import { startInProcessBroker } from './helpers/in-process-broker';
import { ScriptedLog } from './helpers/scripted-log';

/**
 * RESP and the HTTP API go through one request gate and one option
 * validator: the same bad input gets the same error code (and text) from
 * both, and from CRON SET where it applies.
 */
describe('RESP and HTTP agree on refusals (one gate, one validator)', function () {
  this.timeout(15000);
  const PASSWORD = 'pw';
  const MAX = 1000;
  let broker: Broker;
  let base: string;
  let stop: () => Promise<void>;
  let resp: Redis;
  let anon: Redis;
  const log = new ScriptedLog();
  log.autoSync = true;

  /** the error of a RESP call as [code, text] */
  async function respError(client: Redis, ...args: string[]): Promise<[string, string]> {
    try {
      await client.call(args[0], ...args.slice(1));
    } catch (e) {
      const m = /^(\S+) (.*)$/s.exec((e as Error).message)!;
      return [m[1], m[2]];
    }
    throw new Error(`${args[0]} succeeded`);
  }

  async function httpError(pathname: string, body: unknown, auth = true): Promise<[string, string]> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (auth) headers.Authorization = `Bearer ${PASSWORD}`;
    const res = await fetch(`${base}${pathname}`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).to.be.at.least(400);
    const json = (await res.json()) as { error: { code: string; message: string } };
    return [json.error.code, json.error.message];
  }

  before(async () => {
    ({ broker, base, stop } = await startInProcessBroker(['--requirepass', PASSWORD, '--max-payload', String(MAX), '--log-level', 'error']));
    resp = new Redis({ port: broker.port, password: PASSWORD, enableReadyCheck: false, lazyConnect: true });
    anon = new Redis({ port: broker.port, enableReadyCheck: false, lazyConnect: true });
    await resp.connect();
    await anon.connect();
  });

  after(async () => {
    resp.disconnect();
    anon.disconnect();
    await stop();
  });

  it('NOAUTH: no credentials', async () => {
    const [code] = await respError(anon, 'ENQUEUE', 'q', 'x');
    expect(code).to.equal('NOAUTH');
    expect((await httpError('/v1/queues/q/jobs', { payload: 'x' }, false))[0]).to.equal(code);
  });

  it('LOADING: while the data directory loads', async () => {
    const r = await respError(resp, 'ENQUEUE', 'q', 'x');
    expect(r[0]).to.equal('LOADING');
    expect(await httpError('/v1/queues/q/jobs', { payload: 'x' })).to.deep.equal(r);
    expect((await respError(resp, 'CRON', 'SET', 'c', '* * * * *', 'q', 'x'))[0]).to.equal('LOADING');
    broker.attachPersistence(log);
    broker.finishLoading();
  });

  it('TOOBIG: a payload over max-payload (ENQUEUE, HTTP, CRON SET)', async () => {
    const big = 'x'.repeat(MAX + 1);
    const r = await respError(resp, 'ENQUEUE', 'q', big);
    expect(r[0]).to.equal('TOOBIG');
    expect(await httpError('/v1/queues/q/jobs', { payload: big })).to.deep.equal(r);
    expect(await respError(resp, 'CRON', 'SET', 'c', '* * * * *', 'q', big)).to.deep.equal(r);
  });

  const badOptions: Array<[string, string[], Record<string, unknown>]> = [
    ['DELAY below range', ['DELAY', '-5'], { delay: -5 }],
    ['RETRIES above range', ['RETRIES', '2000000'], { retries: 2_000_000 }],
    ['LEASE of 0', ['LEASE', '0'], { lease: 0 }],
    ['unknown priority', ['PRIORITY', 'urgent'], { priority: 'urgent' }],
    ['DELAY with AT', ['DELAY', '5', 'AT', '5'], { delay: 5, at: 5 }],
  ];
  for (const [what, words, json] of badOptions) {
    it(`ERR with the same text: ${what} (ENQUEUE, HTTP, CRON SET)`, async () => {
      const r = await respError(resp, 'ENQUEUE', 'q', 'x', ...words);
      expect(r[0]).to.equal('ERR');
      expect(await httpError('/v1/queues/q/jobs', { payload: 'x', ...json })).to.deep.equal(r);
      expect(await respError(resp, 'CRON', 'SET', 'c', '* * * * *', 'q', 'x', ...words)).to.deep.equal(r);
    });
  }

  // QCONFIG and GROUP CONFIG: the JSON bodies go through the same option parser as the words
  const badQueueSettings: Array<[string, string[], Record<string, unknown>]> = [
    ['RATE below range', ['RATE', '-1'], { rate: -1 }],
    ['RATE above range', ['RATE', '2000000'], { rate: 2_000_000 }],
    ['RATE not an integer', ['RATE', '1.5'], { rate: 1.5 }],
    ['RATE as text', ['RATE', 'many'], { rate: 'many' }],
    ['PER of 0', ['RATE', '5', 'PER', '0'], { rate: 5, ratePer: 0 }],
    ['CONCURRENCY below range', ['CONCURRENCY', '-1'], { concurrency: -1 }],
    ['MAXLEN below range', ['MAXLEN', '-3'], { maxlen: -3 }],
    ['GROUP-CONCURRENCY above range', ['GROUP-CONCURRENCY', '1000001'], { groupConcurrency: 1_000_001 }],
    ['GROUP-RATE PER above range', ['GROUP-RATE', '5', 'PER', '999999999999999'], { groupRate: 5, groupRatePer: 999_999_999_999_999 }],
    ['GROUP-MAXLEN below range', ['GROUP-MAXLEN', '-1'], { groupMaxlen: -1 }],
  ];
  for (const [what, words, json] of badQueueSettings) {
    it(`ERR with the same text: ${what} (QCONFIG, POST /v1/queues/{q}/config)`, async () => {
      const r = await respError(resp, 'QCONFIG', 'q', ...words);
      expect(r[0]).to.equal('ERR');
      expect(await httpError('/v1/queues/q/config', json)).to.deep.equal(r);
    });
  }

  const badGroupSettings: Array<[string, string[], Record<string, unknown>]> = [
    ['CONCURRENCY below range', ['CONCURRENCY', '-1'], { concurrency: -1 }],
    ['RATE above range', ['RATE', '2000000'], { rate: 2_000_000 }],
    ['PER of 0', ['RATE', '1', 'PER', '0'], { rate: 1, ratePer: 0 }],
    ['MAXLEN not an integer', ['MAXLEN', '2.5'], { maxlen: 2.5 }],
  ];
  for (const [what, words, json] of badGroupSettings) {
    it(`ERR with the same text: ${what} (GROUP CONFIG, POST /v1/queues/{q}/groups/{key}/config)`, async () => {
      const r = await respError(resp, 'GROUP', 'CONFIG', 'q', 'acme', ...words);
      expect(r[0]).to.equal('ERR');
      expect(await httpError('/v1/queues/q/groups/acme/config', json)).to.deep.equal(r);
    });
  }

  it('ERR with the same text: a GROUP key over 1024 bytes (ENQUEUE, HTTP enqueue, GROUP CONFIG, CRON SET)', async () => {
    const long = 'g'.repeat(1025);
    const r = await respError(resp, 'ENQUEUE', 'q', 'x', 'GROUP', long);
    expect(r[0]).to.equal('ERR');
    expect(await httpError('/v1/queues/q/jobs', { payload: 'x', group: long })).to.deep.equal(r);
    expect(await respError(resp, 'CRON', 'SET', 'c', '* * * * *', 'q', 'x', 'GROUP', long)).to.deep.equal(r);
    expect(await respError(resp, 'GROUP', 'CONFIG', 'q', long, 'CONCURRENCY', '1')).to.deep.equal(r);
    expect(await httpError(`/v1/queues/q/groups/${long}/config`, { concurrency: 1 })).to.deep.equal(r);
  });

  it('MISCONF: while the log cannot be written', async () => {
    log.writable = false;
    log.lastError = 'ENOSPC: no space left on device';
    try {
      const r = await respError(resp, 'ENQUEUE', 'q', 'x');
      expect(r[0]).to.equal('MISCONF');
      expect(await httpError('/v1/queues/q/jobs', { payload: 'x' })).to.deep.equal(r);
      expect((await respError(resp, 'CRON', 'SET', 'c', '* * * * *', 'q', 'x'))[0]).to.equal('MISCONF');
    } finally {
      log.writable = true;
      log.lastError = null;
    }
    expect(await resp.call('ENQUEUE', 'q', 'x')).to.be.a('string');
  });
});
