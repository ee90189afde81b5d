import { expect } from 'chai';
import Redis from 'ioredis';
import { QueueRates } from '../server/metrics/queue-rates';
import { QueueState } from '../server/engine/queue-state';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd } from './helpers/util';

/** What the dashboard reads and serves over HTTP: its files, /v1/overview, /v1/server, /v1/whoami, the cron routes. */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('dashboard: files and JSON routes', function () {
  this.timeout(30000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;
  let base = '';

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { headers, redirect: 'manual' });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: (res.headers.get('content-type') ?? '').startsWith('application/json') ? (JSON.parse(text) as Json) : null,
    };
  };
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };

  before(async () => {
    broker = await startBroker({}, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  it('serves the UI at /ui/ (/ redirects) with a strict content security policy; nothing outside its files', async () => {
    const root = await get('/');
    expect(root.status).to.equal(302);
    expect(root.headers.get('location')).to.equal('/ui/');
    const index = await get('/ui/');
    expect(index.status).to.equal(200);
    expect(index.headers.get('content-type')).to.match(/text\/html/);
    expect(index.headers.get('content-security-policy')).to.include("default-src 'self'").and.include("frame-ancestors 'none'");
    expect(index.text).to.include('<script type="module" src="app.js">');
    const js = await get('/ui/pages/queue.js');
    expect(js.headers.get('content-type')).to.match(/text\/javascript/);
    expect((await get('/ui/../package.json')).status).to.equal(404);
    expect((await get('/ui/%2e%2e/package.json')).status).to.equal(404);
    expect((await get('/ui/nope.js')).status).to.equal(404);
  });

  it('dashboard no: the files are not served (the API still is)', async () => {
    await cmd(r, 'CONFIG', 'SET', 'dashboard', 'no');
    try {
      expect((await get('/ui/')).status).to.equal(404);
      expect((await get('/v1/queues')).status).to.equal(200);
    } finally {
      await cmd(r, 'CONFIG', 'SET', 'dashboard', 'yes');
    }
  });

  it('POST /v1/queues/{queue}/config sets MAXLEN and CONCURRENCY as QCONFIG does', async () => {
    const set = await post('/v1/queues/http-capped/config', { maxlen: 50, concurrency: 4 });
    expect(set.status).to.equal(200);
    const stats = await get('/v1/queues/http-capped');
    expect(stats.body).to.include({ maxlen: 50, concurrency: 4 });
    expect((await post('/v1/queues/http-capped/config', { concurrency: -1 })).status).to.equal(400);
    expect((await post('/v1/queues/http-capped/config', {})).status).to.equal(400);
    expect((await post('/v1/queues/http-capped/config', { concurrency: 0 })).status).to.equal(200);
    expect((await get('/v1/queues/http-capped')).body).to.include({ concurrency: 0 });
  });

  it('/v1/overview: every queue with its counts, settings and recent rates; /v1/server; /v1/whoami', async () => {
    for (let i = 0; i < 5; i++) await cmd(r, 'ENQUEUE', 'ov', 'x');
    await cmd(r, 'CLAIM', 'ov', 'COUNT', 2);
    const [[id]] = (await cmd(r, 'CLAIM', 'ov')) as string[][];
    await cmd(r, 'ACK', id);
    await cmd(r, 'PAUSE', 'ov');
    const ov = (await get('/v1/overview')).body;
    expect(ov.bucketMs).to.equal(10_000);
    const q = ov.queues.find((x: Json) => x.name === 'ov');
    expect(q).to.include({ ready: 2, active: 2, completed: 1, paused: 1, maxlen: 0 });
    expect(q.rates.enqueued).to.have.length(61);
    expect(q.rates.enqueued.reduce((a: number, b: number) => a + b, 0)).to.equal(5);
    expect(q.rates.completed.reduce((a: number, b: number) => a + b, 0)).to.equal(1);
    const server = (await get('/v1/server')).body;
    expect(server).to.include({ appendfsync: 'always', logWritable: true, loading: false });
    expect(server.jobs).to.be.at.least(5);
    expect(server.connections).to.be.at.least(1);
    expect(server.uptimeSeconds).to.be.a('number');
    expect((await get('/v1/whoami')).body).to.deep.equal({ user: 'default', authRequired: false, canWrite: true });
  });

  it('/v1/whoami answers every authenticated user (a read-only one: canWrite false, no ACL LOG entry); NOAUTH without credentials', async () => {
    const locked = await startBroker({ requirepass: 'sesame' }, { http: true });
    const root = new Redis({ port: locked.port, password: 'sesame', maxRetriesPerRequest: 0, retryStrategy: () => null });
    root.on('error', () => {});
    try {
      await cmd(root, 'ACL', 'SETUSER', 'viewer', 'on', '>viewpw', '+@read', '~*');
      const whoami = async (authorization?: string) => {
        const res = await fetch(`http://127.0.0.1:${locked.httpPort}/v1/whoami`, { headers: authorization ? { Authorization: authorization } : {} });
        return { status: res.status, body: (await res.json()) as Json };
      };
      const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      const logBefore = ((await cmd(root, 'ACL', 'LOG')) as unknown[]).length;
      expect(await whoami(basic('viewer', 'viewpw'))).to.deep.equal({ status: 200, body: { user: 'viewer', authRequired: true, canWrite: false } });
      expect(((await cmd(root, 'ACL', 'LOG')) as unknown[]).length, 'the canWrite probe is not an ACL LOG refusal').to.equal(logBefore);
      expect(await whoami('Bearer sesame')).to.deep.equal({ status: 200, body: { user: 'default', authRequired: true, canWrite: true } });
      expect(await whoami(basic('default', 'sesame'))).to.deep.equal({ status: 200, body: { user: 'default', authRequired: true, canWrite: true } });
      expect((await whoami()).status).to.equal(401);
      expect((await whoami()).body.error.code).to.equal('NOAUTH');
      expect((await whoami(basic('viewer', 'nope'))).status).to.equal(401);
      // switched off: its credentials are refused
      await cmd(root, 'ACL', 'SETUSER', 'viewer', 'off');
      expect((await whoami(basic('viewer', 'viewpw'))).status).to.equal(401);
    } finally {
      root.disconnect();
      await locked.cleanup();
    }
  });

  it('cron routes: set (options through the shared validator), list with next and last run, delete', async () => {
    const set = await post('/v1/cron/nightly', {
      expression: '0 3 * * *',
      queue: 'reports',
      payload: '{"k":1}',
      timezone: 'Europe/Paris',
      priority: 'low',
      retries: 2,
    });
    expect(set).to.deep.equal({ status: 200, body: { name: 'nightly', set: true } });
    const list = (await get('/v1/cron')).body.entries;
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ name: 'nightly', expression: '0 3 * * *', timezone: 'Europe/Paris', queue: 'reports', payload: '{"k":1}', lastRunAt: null });
    expect(list[0].options).to.deep.equal({ priority: 2, retries: 2 });
    expect(list[0].nextRunAt).to.be.greaterThan(Date.now());
    expect(((await cmd(r, 'CRON', 'LIST')) as unknown[][])[0][0]).to.equal('nightly');
    // errors name the RESP option, as for ENQUEUE
    expect((await post('/v1/cron/bad', { expression: '0 3 * * *', queue: 'q', payload: 'x', retries: -1 })).body.error.message).to.match(/RETRIES/);
    expect((await post('/v1/cron/bad', { expression: 'nope', queue: 'q', payload: 'x' })).body.error.message).to.match(/cron expression/);
    expect((await post('/v1/cron/bad', { expression: '* * * * *', queue: 'q', payload: 'x', id: 'fixed' })).status).to.equal(400);
    expect((await post('/v1/cron/bad', { expression: '* * * * *', queue: 'q', payload: 'x', bogus: 1 })).body.error.message).to.match(/unknown field/);
    expect((await post('/v1/cron/nightly/delete')).body).to.deep.equal({ name: 'nightly', deleted: true });
    expect((await post('/v1/cron/nightly/delete')).body.deleted).to.equal(false);
    expect((await get('/v1/cron')).body.entries).to.deep.equal([]);
  });

  it('a cron run shows as the last run', async () => {
    await post('/v1/cron/every-second', { expression: '* * * * * *', queue: 'ticks', payload: 't' });
    const deadline = Date.now() + 5000;
    let entry: Json;
    do {
      entry = (await get('/v1/cron')).body.entries.find((e: Json) => e.name === 'every-second');
      if (entry?.lastRunAt) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < deadline);
    expect(entry.lastRunAt, 'lastRunAt after a run').to.be.a('number');
    await post('/v1/cron/every-second/delete');
  });
});

describe('QueueRates: bounded per-queue rate buckets', () => {
  it('keeps the last N buckets of growth, forgets removed queues, survives a counter reset', () => {
    const queues = new Map<string, QueueState>();
    const q = new QueueState('a');
    queues.set('a', q);
    const rates = new QueueRates(queues, 1000, 3);
    q.counters.enqueued = 5;
    rates.sample();
    q.counters.enqueued = 8;
    q.counters.acked = 2;
    rates.sample();
    q.counters.enqueued = 9;
    expect(rates.series(q)).to.deep.equal({ enqueued: [0, 5, 3, 1], completed: [0, 0, 2, 0] });
    rates.sample();
    rates.sample();
    expect(rates.series(q).enqueued).to.deep.equal([3, 1, 0, 0]);
    q.counters.enqueued = 2; // CONFIG RESETSTAT then two more
    expect(rates.series(q).enqueued.at(-1)).to.equal(2);
    queues.delete('a');
    rates.sample();
    expect(rates.series(q).enqueued).to.deep.equal([0, 0, 0, 2]);
  });
});
