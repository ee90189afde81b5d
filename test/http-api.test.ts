import { expect } from 'chai';
import * as net from 'net';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, expectError, fields } from './helpers/util';

/** The /v1 JSON API with real HTTP requests (global fetch) against a real broker, checked against RESP. */

interface Res {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let qn = 0;
const newQueue = (tag = 'q') => `http-${tag}-${++qn}`;

describe('http: /v1 API', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  let base = '';
  const clients = new Clients(() => broker.port);
  let r: Redis;

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    // every POST says it is JSON (bodyless ones too): the API refuses others as cross-site requests
    const init: RequestInit = { method, headers: method === 'POST' ? { 'Content-Type': 'application/json', ...headers } : { ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(base + path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
  }
  const post = (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers);
  const get = (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers);

  /** the RESP error for the same ENQUEUE, to compare codes and messages */
  async function respError(...args: Array<string | number>): Promise<[string, string]> {
    try {
      await cmd(r, 'ENQUEUE', ...args);
    } catch (e) {
      const msg = (e as Error).message;
      const sp = msg.indexOf(' ');
      return [msg.slice(0, sp), msg.slice(sp + 1)];
    }
    throw new Error('expected an error reply');
  }

  function expectApiError(res: Res, status: number, code: string, message?: string | RegExp): void {
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    expect(res.body.error.code).to.equal(code);
    expect(res.body.error.message).to.be.a('string');
    if (typeof message === 'string') expect(res.body.error.message).to.equal(message);
    else if (message) expect(res.body.error.message).to.match(message);
  }

  before(async () => {
    broker = await startBroker({ 'max-payload': '1024' }, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  describe('POST /v1/queues/{queue}/jobs', () => {
    it('creates a job: 201, {id}, Location; RESP sees the same job and payload', async () => {
      const q = newQueue();
      const res = await post(`/v1/queues/${q}/jobs`, { payload: 'hello wörld' });
      expect(res.status).to.equal(201);
      expect(res.body.id).to.be.a('string');
      expect(res.headers.get('location')).to.equal(`/v1/jobs/${res.body.id}`);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      const claimed = (await r.callBuffer('CLAIM', q)) as Buffer[][];
      expect(claimed).to.have.length(1);
      expect(claimed[0][0].toString()).to.equal(res.body.id);
      expect(claimed[0][2].equals(Buffer.from('hello wörld', 'utf8'))).to.equal(true);
    });

    it('payload_base64 carries arbitrary bytes exactly', async () => {
      const q = newQueue();
      const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 13, 10]);
      const res = await post(`/v1/queues/${q}/jobs`, { payload_base64: bytes.toString('base64') });
      expect(res.status).to.equal(201);
      const claimed = (await r.callBuffer('CLAIM', q)) as Buffer[][];
      expect(claimed[0][2].equals(bytes)).to.equal(true);
      const st = await get(`/v1/jobs/${res.body.id}?withpayload=1`);
      expect(st.body.payload_base64).to.equal(bytes.toString('base64'));
    });

    it('an empty payload is allowed', async () => {
      const res = await post(`/v1/queues/${newQueue()}/jobs`, { payload: '' });
      expect(res.status).to.equal(201);
    });

    it('takes every ENQUEUE option and STATUS shows them', async () => {
      const q = newQueue();
      const res = await post(`/v1/queues/${q}/jobs`, {
        payload: 'x',
        priority: 'high',
        delay: 60_000,
        retries: 7,
        backoff: { base: 250, max: 9000 },
        lease: 1234,
        ttl: 3_600_000,
        id: 'http-job-opts',
      });
      expect(res.status).to.equal(201);
      expect(res.body).to.deep.equal({ id: 'http-job-opts' });
      const st = fields(await cmd(r, 'STATUS', 'http-job-opts'));
      expect(st.state).to.equal('scheduled');
      expect(st.priority).to.equal('high');
      expect(st.retries).to.equal(7);
      expect(st.lease).to.equal(1234);
      expect(st.backoff).to.equal(250);
      expect(st['backoff-max']).to.equal(9000);
      expect(st['run-at']).to.be.a('number');
      expect(st['expires-at']).to.be.a('number');
    });

    it('AT and a plain-number backoff', async () => {
      const at = Date.now() + 3_600_000;
      const res = await post(`/v1/queues/${newQueue()}/jobs`, { payload: 'x', at, backoff: 500 });
      const st = (await get(`/v1/jobs/${res.body.id}`)).body;
      expect(st.state).to.equal('scheduled');
      expect(st['run-at']).to.equal(at);
      expect(st.backoff).to.equal(500);
    });

    it('a second ENQUEUE with an existing id returns it with 200 and creates nothing', async () => {
      const q = newQueue();
      const first = await post(`/v1/queues/${q}/jobs`, { payload: 'a', id: 'http-idem' });
      const again = await post(`/v1/queues/${q}/jobs`, { payload: 'b', id: 'http-idem' });
      expect(first.status).to.equal(201);
      expect(again.status).to.equal(200);
      expect(again.body.id).to.equal('http-idem');
      expect(fields(await cmd(r, 'QSTATS', q)).enqueued).to.equal(1);
    });

    it('ids and queue names are UTF-8 text: the same as RESP sends them', async () => {
      const q = `${newQueue()}-café/ü b`;
      const res = await post(`/v1/queues/${encodeURIComponent(q)}/jobs`, { payload: 'x', id: 'jöb-1' });
      expect(res.status).to.equal(201);
      expect(res.body.id).to.equal('jöb-1');
      const st = fields(await cmd(r, 'STATUS', 'jöb-1'));
      expect(st.queue).to.equal(q);
      expect((await get(`/v1/jobs/${encodeURIComponent('jöb-1')}`)).body.queue).to.equal(q);
      expect((await get(`/v1/queues`)).body.queues).to.include(q);
    });

    it('percent-escapes name raw bytes (%FF) the way RESP sends them', async () => {
      const res = await post('/v1/queues/http-raw-%FF%00/jobs', { payload: 'x' });
      expect(res.status).to.equal(201);
      const names = (await r.callBuffer('QUEUES')) as Buffer[];
      expect(names.some((n) => n.equals(Buffer.from([...Buffer.from('http-raw-'), 0xff, 0])))).to.equal(true);
    });

    it('validation errors are the RESP ones: same code, same message, 400', async () => {
      const q = newQueue();
      const cases: Array<[Record<string, unknown>, Array<string | number>]> = [
        [{ priority: 'urgent' }, ['PRIORITY', 'urgent']],
        [{ delay: -5 }, ['DELAY', -5]],
        [{ retries: 1e21 }, ['RETRIES', '1e+21']],
        [{ lease: 0 }, ['LEASE', 0]],
        [{ delay: 5, at: 5 }, ['DELAY', 5, 'AT', 5]],
        [{ id: '' }, ['ID', '']],
        [{ backoff: { base: 10, max: -1 } }, ['BACKOFF', 10, 'MAX', -1]],
      ];
      for (const [opts, words] of cases) {
        const res = await post(`/v1/queues/${q}/jobs`, { payload: 'x', ...opts });
        const [code, message] = await respError(q, 'x', ...words);
        expectApiError(res, 400, code, message);
      }
    });

    it('rejects bad JSON shapes with 400 ERR', async () => {
      const q = newQueue();
      const bad: unknown[] = [
        '{"payload": "x"',
        [1, 2],
        'null',
        {},
        { payload: 'x', payload_base64: 'eA==' },
        { payload: 42 },
        { payload_base64: 'not base64!' },
        { payload: 'x', delay: '100' },
        { payload: 'x', delay: 1.5 },
        { payload: 'x', colour: 'blue' },
        { payload: 'x', backoff: { max: 5 } },
        { payload: 'x', backoff: { base: 5, min: 1 } },
        { payload: 'x', backoff: 'fast' },
        { payload: 'x', id: 7 },
        { payload: 'x', block: 100 },
      ];
      for (const body of bad) {
        const res = await post(`/v1/queues/${q}/jobs`, body);
        expectApiError(res, 400, 'ERR');
      }
      expect(fields(await cmd(r, 'QSTATS', q)).enqueued).to.equal(0);
    });

    it('a payload over max-payload is 413 TOOBIG with the RESP message', async () => {
      const q = newQueue();
      const big = 'y'.repeat(1025);
      const res = await post(`/v1/queues/${q}/jobs`, { payload: big });
      const [code, message] = await respError(q, big);
      expect(code).to.equal('TOOBIG');
      expectApiError(res, 413, 'TOOBIG', message);
      // bytes count, not characters: 513 two-byte characters are 1026 bytes
      expectApiError(await post(`/v1/queues/${q}/jobs`, { payload: 'é'.repeat(513) }), 413, 'TOOBIG');
      expect((await post(`/v1/queues/${q}/jobs`, { payload: 'é'.repeat(512) })).status).to.equal(201);
    });

    it('a body over the limit (max-payload x 4/3 + 64 KiB) is 413 before it is read', async () => {
      const q = newQueue();
      const body = JSON.stringify({ payload: 'z'.repeat(200_000) });
      const res = await post(`/v1/queues/${q}/jobs`, body);
      expectApiError(res, 413, 'TOOBIG', /request body exceeds \d+ bytes/);
      // the broker is fine afterwards
      expect((await post(`/v1/queues/${q}/jobs`, { payload: 'ok' })).status).to.equal(201);
    });

    it('a full queue is 429 FULL with Retry-After', async () => {
      const q = newQueue();
      await cmd(r, 'QCONFIG', q, 'MAXLEN', 1);
      expect((await post(`/v1/queues/${q}/jobs`, { payload: '1' })).status).to.equal(201);
      const res = await post(`/v1/queues/${q}/jobs`, { payload: '2' });
      expectApiError(res, 429, 'FULL');
      expect(res.headers.get('retry-after')).to.equal('1');
      await expectError(cmd(r, 'ENQUEUE', q, '2'), 'FULL');
    });
  });

  describe('GET /v1/jobs/{id}', () => {
    it('is STATUS as JSON: every STATUS key, nulls for absent values', async () => {
      const q = newQueue();
      const { body } = await post(`/v1/queues/${q}/jobs`, { payload: 'p' });
      await cmd(r, 'CLAIM', q);
      await cmd(r, 'ACK', body.id, 'RESULT', 'done');
      const st = (await get(`/v1/jobs/${body.id}`)).body;
      const resp = fields(await cmd(r, 'STATUS', body.id));
      for (const key of Object.keys(resp)) expect(st, key).to.have.property(key);
      expect(st.state).to.equal('completed');
      expect(st.deliveries).to.equal(1);
      expect(st.result).to.equal('done');
      expect(st.result_base64).to.equal(Buffer.from('done').toString('base64'));
      expect(st['lease-until']).to.equal(null);
      expect(st['run-at']).to.equal(null);
      expect(st['last-error']).to.equal(null);
      expect(st['created-at']).to.equal(resp['created-at']);
      expect(st).to.not.have.property('payload');
      const withPayload = (await get(`/v1/jobs/${body.id}?withpayload=1`)).body;
      expect(withPayload.payload).to.equal('p');
    });

    it('an unknown id is 404 NOJOB', async () => {
      expectApiError(await get('/v1/jobs/no-such-job'), 404, 'NOJOB', 'no such job');
    });

    it('a malformed percent-escape is 400', async () => {
      expectApiError(await get('/v1/jobs/%ZZ'), 400, 'ERR');
    });
  });

  describe('GET /v1/queues and /v1/queues/{queue}', () => {
    it('lists queue names as QUEUES does', async () => {
      const q = newQueue();
      await post(`/v1/queues/${q}/jobs`, { payload: 'x' });
      const res = await get('/v1/queues');
      expect(res.status).to.equal(200);
      expect(res.body.queues).to.deep.equal(await cmd(r, 'QUEUES'));
    });

    it('QSTATS as JSON, equal to RESP QSTATS', async () => {
      const q = newQueue();
      await post(`/v1/queues/${q}/jobs`, { payload: 'x', priority: 'low' });
      await post(`/v1/queues/${q}/jobs`, { payload: 'y' });
      await cmd(r, 'CLAIM', q);
      const res = await get(`/v1/queues/${q}`);
      expect(res.status).to.equal(200);
      const { queue, ...rest } = res.body;
      expect(queue).to.equal(q);
      expect(rest).to.deep.equal({ ...fields(await cmd(r, 'QSTATS', q)) });
      expect(rest['ready-low']).to.equal(1);
      expect(rest.active).to.equal(1);
    });

    it('an unknown queue has zero counts, as QSTATS', async () => {
      const res = await get('/v1/queues/never-used-queue');
      expect(res.status).to.equal(200);
      expect(res.body.ready).to.equal(0);
      expect(res.body.enqueued).to.equal(0);
    });
  });

  describe('POST /v1/jobs/{id}/cancel and /requeue', () => {
    it('cancel: true for a ready job, false in another state, 404 when unknown', async () => {
      const q = newQueue();
      const { body } = await post(`/v1/queues/${q}/jobs`, { payload: 'x' });
      const first = await post(`/v1/jobs/${body.id}/cancel`);
      expect(first.status).to.equal(200);
      expect(first.body).to.deep.equal({ cancelled: true, state: 'cancelled' });
      expect((await post(`/v1/jobs/${body.id}/cancel`)).body).to.deep.equal({ cancelled: false, state: 'cancelled' });
      expect(await cmd(r, 'CANCEL', body.id)).to.equal(0);
      expectApiError(await post('/v1/jobs/nope/cancel'), 404, 'NOJOB');
    });

    it('requeue: a cancelled or dead job goes back to ready; false otherwise; 404 when unknown', async () => {
      const q = newQueue();
      const { body } = await post(`/v1/queues/${q}/jobs`, { payload: 'x', retries: 0 });
      expect((await post(`/v1/jobs/${body.id}/requeue`)).body).to.deep.equal({ requeued: false, state: 'ready' });
      await cmd(r, 'CLAIM', q);
      expect(await cmd(r, 'NACK', body.id)).to.equal('dead');
      const res = await post(`/v1/jobs/${body.id}/requeue`);
      expect(res.body).to.deep.equal({ requeued: true, state: 'ready' });
      const st = fields(await cmd(r, 'STATUS', body.id));
      expect(st.state).to.equal('ready');
      expect(st.deliveries).to.equal(0);
      expectApiError(await post('/v1/jobs/nope/requeue'), 404, 'NOJOB');
    });
  });

  describe('routing', () => {
    it('unknown paths are 404 NOTFOUND, wrong methods 405 with Allow', async () => {
      expectApiError(await get('/v1/nothing'), 404, 'NOTFOUND');
      expectApiError(await get('/v1/queues/a/jobs/b/c'), 404, 'NOTFOUND');
      const res = await get('/v1/jobs/1/cancel');
      expectApiError(res, 405, 'METHOD');
      expect(res.headers.get('allow')).to.equal('POST');
      expectApiError(await call('DELETE', '/v1/jobs/1'), 405, 'METHOD');
      expectApiError(await post('/health'), 405, 'METHOD');
    });

    it('an empty queue name segment matches no route', async () => {
      expectApiError(await post('/v1/queues//jobs', { payload: 'x' }), 404, 'NOTFOUND');
    });

    it('keeps serving after a client aborts mid-body', async () => {
      const port = Number(new URL(base).port);
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.write('POST /v1/queues/x/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"payl');
          // a moment for the server to start reading the body (nothing to observe from outside), then the client goes away
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 50);
        });
      });
      expect((await get('/v1/queues')).status).to.equal(200);
    });
  });
});

describe('http: /v1 API with requirepass', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  let base = '';
  const clients = new Clients(() => broker.port);

  before(async () => {
    broker = await startBroker({ requirepass: 's3cret' }, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  const enqueue = (headers: Record<string, string>) =>
    fetch(`${base}/v1/queues/auth-q/jobs`, {
      method: 'POST',
      body: JSON.stringify({ payload: 'x' }),
      headers: { 'Content-Type': 'application/json', ...headers },
    });

  it('without Authorization: 401 NOAUTH with a Bearer challenge', async () => {
    const res = await enqueue({});
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('NOAUTH');
    expect((await fetch(`${base}/v1/queues`)).status).to.equal(401);
  });

  it('with a wrong password: 401 WRONGPASS', async () => {
    const res = await enqueue({ Authorization: 'Bearer nope' });
    expect(res.status).to.equal(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('WRONGPASS');
    expect((await enqueue({ Authorization: 'Basic czNjcmV0' })).status).to.equal(401);
  });

  it('with the password: served', async () => {
    const res = await enqueue({ Authorization: 'Bearer s3cret' });
    expect(res.status).to.equal(201);
    expect((await fetch(`${base}/v1/queues`, { headers: { Authorization: 'bearer s3cret' } })).status).to.equal(200);
  });

  it('/health, /ready and /metrics need no password', async () => {
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    expect((await fetch(`${base}/ready`)).status).to.equal(200);
    expect((await fetch(`${base}/metrics`)).status).to.equal(200);
  });

  it('follows CONFIG SET requirepass at runtime', async () => {
    const r = clients.make({ password: 's3cret' });
    await cmd(r, 'CONFIG', 'SET', 'requirepass', 'other');
    expect((await enqueue({ Authorization: 'Bearer s3cret' })).status).to.equal(401);
    expect((await enqueue({ Authorization: 'Bearer other' })).status).to.equal(201);
    await cmd(r, 'CONFIG', 'SET', 'requirepass', '');
    expect((await enqueue({})).status).to.equal(201);
  });
});
