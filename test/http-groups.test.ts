import { expect } from 'chai';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, fields } from './helpers/util';

/**
 * Flow control over the /v1 JSON API (real HTTP against a real broker),
 * checked against what RESP says: ENQUEUE's group, the queue config route's
 * rate and group defaults, and the group routes (GROUP LIST, STATS, CONFIG,
 * RESET).
 */

interface Res {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let qn = 0;
const newQueue = () => `http-flow-${++qn}`;

describe('http: flow control routes (/v1 groups, rate, group defaults)', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  let base = '';
  const clients = new Clients(() => broker.port);
  let r: Redis;

  async function call(method: string, path: string, body?: unknown): Promise<Res> {
    const init: RequestInit = { method, headers: method === 'POST' ? { 'Content-Type': 'application/json' } : {} };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(base + path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
  }
  const post = (path: string, body?: unknown) => call('POST', path, body);
  const get = (path: string) => call('GET', path);

  before(async () => {
    broker = await startBroker({}, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('POST /v1/queues/{q}/jobs with group: STATUS (RESP and JSON) shows it; a non-string group is 400', async () => {
    const q = newQueue();
    const res = await post(`/v1/queues/${q}/jobs`, { payload: 'x', group: 'tenant-ä' });
    expect(res.status).to.equal(201);
    expect(fields(await cmd(r, 'STATUS', res.body.id)).group).to.equal('tenant-ä');
    expect((await get(`/v1/jobs/${res.body.id}`)).body.group).to.equal('tenant-ä');
    const plain = await post(`/v1/queues/${q}/jobs`, { payload: 'y' });
    expect((await get(`/v1/jobs/${plain.body.id}`)).body.group).to.equal(null);
    const bad = await post(`/v1/queues/${q}/jobs`, { payload: 'x', group: 7 });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.message).to.equal('group must be a string');
  });

  it('POST /v1/queues/{q}/config sets rate and the group defaults as QCONFIG does, all in one request', async () => {
    const q = newQueue();
    const body = { rate: 50, ratePer: 2000, groupConcurrency: 1, groupRate: 5, groupRatePer: 500, groupMaxlen: 10, concurrency: 8 };
    const res = await post(`/v1/queues/${q}/config`, body);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ queue: q, ...body });
    expect(fields(await cmd(r, 'QSTATS', q))).to.include({
      rate: 50,
      'rate-per': 2000,
      concurrency: 8,
      'group-concurrency': 1,
      'group-rate': 5,
      'group-rate-per': 500,
      'group-maxlen': 10,
    });
    // GET /v1/queues/{q} carries the same fields
    expect((await get(`/v1/queues/${q}`)).body).to.include({ rate: 50, 'rate-per': 2000, 'group-maxlen': 10, groups: 0 });
    // a patch: the rest is kept; rate without ratePer is per second; 0 removes a limit
    expect((await post(`/v1/queues/${q}/config`, { rate: 7, groupMaxlen: 0 })).status).to.equal(200);
    expect(fields(await cmd(r, 'QSTATS', q))).to.include({ rate: 7, 'rate-per': 1000, 'group-concurrency': 1, 'group-rate': 5, 'group-maxlen': 0 });
  });

  it('POST /v1/queues/{q}/config refuses what QCONFIG refuses, and JSON-only mistakes, changing nothing', async () => {
    const q = newQueue();
    await cmd(r, 'QCONFIG', q, 'RATE', 3);
    const cases: Array<[unknown, RegExp]> = [
      [{}, /give at least one of maxlen, concurrency, rate, ratePer/],
      [{ ratePer: 100 }, /ratePer belongs to rate/],
      [{ groupRatePer: 100 }, /groupRatePer belongs to groupRate/],
      [{ rate: 5, bogus: 1 }, /unknown field 'bogus'/],
      [{ rate: 5, concurrency: -1 }, /CONCURRENCY must be between 0 and 1000000/],
      [{ rate: null }, /value is not an integer or out of range \(RATE\)/],
      [[1, 2], /JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await post(`/v1/queues/${q}/config`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error.code).to.equal('ERR');
      expect(res.body.error.message).to.match(message);
    }
    expect(fields(await cmd(r, 'QSTATS', q))).to.include({ rate: 3, concurrency: 0 });
  });

  it('GET /v1/queues/{q}/groups is GROUP LIST (largest first, ?count=n); a bad count is RESP ERR text', async () => {
    const q = newQueue();
    for (const [g, n] of [
      ['small', 1],
      ['big', 4],
      ['mid', 2],
    ] as const)
      for (let i = 0; i < n; i++) await cmd(r, 'ENQUEUE', q, 'x', 'GROUP', g);
    await cmd(r, 'ENQUEUE', q, 'ungrouped');
    await cmd(r, 'CLAIM', q, 'COUNT', 1); // one job of some group becomes active
    const res = await get(`/v1/queues/${q}/groups`);
    expect(res.status).to.equal(200);
    const resp = (await cmd(r, 'GROUP', 'LIST', q)) as Array<[string, number, number, number, number]>;
    expect(res.body.queue).to.equal(q);
    expect(res.body.groups).to.deep.equal(
      resp.map(([key, waiting, ready, active, inProgress]) => ({ key, waiting, ready, active, 'in-progress': inProgress })),
    );
    expect(res.body.groups.map((g: { key: string }) => g.key)).to.deep.equal(['big', 'mid', 'small']);
    expect((await get(`/v1/queues/${q}/groups?count=2`)).body.groups.map((g: { key: string }) => g.key)).to.deep.equal(['big', 'mid']);
    const bad = await get(`/v1/queues/${q}/groups?count=0`);
    expect(bad.status).to.equal(400);
    let respText = '';
    await cmd(r, 'GROUP', 'LIST', q, 'COUNT', 0).catch((e: Error) => (respText = e.message));
    expect(`${bad.body.error.code} ${bad.body.error.message}`).to.equal(respText);
    expect((await get('/v1/queues/no-such-queue/groups')).body).to.deep.equal({ queue: 'no-such-queue', groups: [] });
  });

  it('GET /v1/queues/{q}/groups/{key} is GROUP STATS, field for field (percent-encoded keys too)', async () => {
    const q = newQueue();
    await cmd(r, 'QCONFIG', q, 'GROUP-CONCURRENCY', 2, 'GROUP-RATE', 10, 'PER', 500);
    for (let i = 0; i < 3; i++) await cmd(r, 'ENQUEUE', q, 'x', 'GROUP', 'a/b c');
    await cmd(r, 'ENQUEUE', q, 'x', 'GROUP', 'a/b c', 'DELAY', 60000);
    await cmd(r, 'CLAIM', q, 'COUNT', 5);
    const res = await get(`/v1/queues/${q}/groups/${encodeURIComponent('a/b c')}`);
    expect(res.status).to.equal(200);
    const resp = fields(await cmd(r, 'GROUP', 'STATS', q, 'a/b c'));
    expect(res.body).to.deep.equal({ queue: q, group: 'a/b c', ...resp });
    expect(res.body).to.include({
      waiting: 4,
      active: 2,
      ready: 1,
      scheduled: 1,
      'in-progress': 2,
      concurrency: 2,
      rate: 10,
      'rate-per': 500,
      'own-limits': 0,
    });
  });

  it('POST /v1/queues/{q}/groups/{key}/config is GROUP CONFIG (a patch, 0 lifts the default), replying GROUP STATS; /reset is GROUP RESET', async () => {
    const q = newQueue();
    await cmd(r, 'QCONFIG', q, 'GROUP-CONCURRENCY', 1, 'GROUP-MAXLEN', 100);
    const set = await post(`/v1/queues/${q}/groups/vip/config`, { concurrency: 5, rate: 20, ratePer: 100 });
    expect(set.status).to.equal(200);
    expect(set.body).to.include({ queue: q, group: 'vip', concurrency: 5, rate: 20, 'rate-per': 100, maxlen: 100, 'own-limits': 1 });
    expect(fields(await cmd(r, 'GROUP', 'STATS', q, 'vip'))).to.include({ concurrency: 5, rate: 20, 'rate-per': 100, maxlen: 100, 'own-limits': 1 });
    // a second call patches: concurrency is kept, maxlen 0 lifts the queue's GROUP-MAXLEN for this group
    const patched = await post(`/v1/queues/${q}/groups/vip/config`, { maxlen: 0 });
    expect(patched.body).to.include({ concurrency: 5, rate: 20, maxlen: 0, 'own-limits': 1 });
    expect((await post(`/v1/queues/${q}/groups/vip/config`, { bogus: 1 })).status).to.equal(400);
    expect((await post(`/v1/queues/${q}/groups/vip/config`, {})).body.error.message).to.match(/give at least one of concurrency, rate, ratePer, maxlen/);
    const reset = await post(`/v1/queues/${q}/groups/vip/reset`);
    expect(reset.status).to.equal(200);
    expect(reset.body).to.include({ reset: true, concurrency: 1, rate: 0, maxlen: 100, 'own-limits': 0 });
    expect((await post(`/v1/queues/${q}/groups/vip/reset`)).body.reset).to.equal(false);
    expect(await cmd(r, 'GROUP', 'RESET', q, 'vip')).to.equal(0);
  });

  it('the limits set over HTTP hold: a group MAXLEN refuses the enqueue with 429 FULL, a group concurrency of 1 hands out one job of the key', async () => {
    const q = newQueue();
    expect((await post(`/v1/queues/${q}/config`, { groupConcurrency: 1 })).status).to.equal(200);
    expect((await post(`/v1/queues/${q}/groups/acme/config`, { maxlen: 2 })).status).to.equal(200);
    for (let i = 0; i < 2; i++) expect((await post(`/v1/queues/${q}/jobs`, { payload: `a${i}`, group: 'acme' })).status).to.equal(201);
    const full = await post(`/v1/queues/${q}/jobs`, { payload: 'a2', group: 'acme' });
    expect(full.status).to.equal(429);
    expect(full.body.error).to.deep.equal({ code: 'FULL', message: 'group is at its max length' });
    expect((await post(`/v1/queues/${q}/jobs`, { payload: 'b0', group: 'beta' })).status).to.equal(201);
    const claimed = (await cmd(r, 'CLAIM', q, 'COUNT', 10)) as Array<[string, string, string, number]>;
    expect(claimed.map((j) => j[2]).sort()).to.deep.equal(['a0', 'b0']);
  });
});
