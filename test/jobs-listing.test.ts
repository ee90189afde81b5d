import { expect } from 'chai';
import { execFile } from 'child_process';
import { promisify } from 'util';
import Redis from 'ioredis';
import { Queue } from '../client/index';
import { Engine, EngineConfig } from '../server/engine/engine';
import { Job, JobState } from '../server/engine/job';
import { ListPosition } from '../server/engine/job-listing';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, expectError, fields } from './helpers/util';

/**
 * JOBS (listing by state with a cursor), PROMOTE, and their JSON routes and
 * SDK methods. The paging guarantee is checked twice: in process against
 * random interleavings, and against a real broker with a concurrent writer.
 */

type Entry = [string, string, string, number, number, number, number | null, number, string, string | null];
type Page = [string, Entry[]];

const CONFIG: EngineConfig = {
  defaultRetries: 0,
  defaultBackoff: 0,
  defaultBackoffMax: 0,
  backoffJitter: 0,
  defaultLease: 30_000,
  defaultMaxlen: 0,
  requeueOnDisconnect: false,
  priorityWeights: [6, 3, 1],
};

function memoryEngine(): Engine {
  let now = 1_700_000_000_000;
  return new Engine({
    config: CONFIG,
    retention: { completedMs: 1e12, completedMax: 1e9, deadMs: 1e12, deadMax: 1e9, cancelledMs: 1e12 },
    journal: { append: () => {} },
    clock: { now: () => now++ },
    random: () => 0.5,
  });
}

/** a small deterministic PRNG so a failure can be replayed */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('JOBS: paging is exact under concurrent change (in process, random interleavings)', () => {
  for (const [state, order] of [
    ['ready', 'asc'],
    ['ready', 'desc'],
    ['dead', 'asc'],
    ['dead', 'desc'],
  ] as const) {
    it(`${state} ${order}: every job that stays in the state is listed exactly once`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const rnd = prng(seed);
        const engine = memoryEngine();
        const q = 'q';
        engine.setPaused(q, true); // no claims take ready jobs: only this test moves them
        const target = state === 'ready' ? JobState.Ready : JobState.Dead;
        /** puts a fresh job into the target state (dead: claims one ready job, which may be an earlier mover: then the new one waits) */
        const make = () => {
          const id = engine.enqueue(q, 'p', { priority: Math.floor(rnd() * 3) as 0 | 1 | 2 });
          if (target === JobState.Dead) {
            engine.setPaused(q, false);
            const [job] = engine.claim(q, { count: 1, owner: 1 });
            engine.nack(job.id, { noRetry: true });
            engine.setPaused(q, true);
          }
          return id;
        };
        // ready: claims pick the head of the highest list, so build the dead ones before the ready ones
        const initial = Array.from({ length: 200 }, make);
        const left = new Set<string>();
        const seen = new Map<string, number>();
        let cursor: ListPosition | null = null;
        let first = true;
        while (first || cursor !== null) {
          first = false;
          const page = engine.jobsInState(q, target, cursor, 1 + Math.floor(rnd() * 9), order);
          for (const j of page.jobs) {
            expect(j.state).to.equal(target);
            seen.set(j.id, (seen.get(j.id) ?? 0) + 1);
          }
          cursor = page.next;
          // between pages: jobs leave the state, come back (a new stay), and new ones arrive
          for (let k = 0; k < 6; k++) {
            const r = rnd();
            const victim = initial[Math.floor(rnd() * initial.length)];
            const job = engine.status(victim)!;
            if (r < 0.4 && job.state === target) {
              left.add(victim);
              if (target === JobState.Ready) engine.cancel(victim);
              else engine.requeue(victim);
            } else if (r < 0.7 && job.state !== target) {
              // back into the state: at its list's tail, with a new listSeq
              if (target === JobState.Ready) engine.requeue(victim);
              else {
                // the oldest requeued one (ready holds only those here) dies again
                engine.setPaused(q, false);
                for (const j of engine.claim(q, { count: 1, owner: 1 })) engine.nack(j.id, { noRetry: true });
                engine.setPaused(q, true);
              }
            } else {
              make();
            }
          }
        }
        for (const id of initial) {
          if (left.has(id)) continue;
          expect(seen.get(id), `seed ${seed}: job ${id} stayed ${state} and was listed`).to.equal(1);
        }
      }
    });
  }

  it('resumes after the last job shown even when that job has left its list', () => {
    const engine = memoryEngine();
    const ids = Array.from({ length: 10 }, (_, i) => engine.enqueue('q', String(i), {}));
    engine.setPaused('q', true);
    const p1 = engine.jobsInState('q', JobState.Ready, null, 3, 'asc');
    expect(p1.jobs.map((j: Job) => j.id)).to.deep.equal(ids.slice(0, 3));
    engine.cancel(ids[2]); // the cursor's job leaves
    engine.cancel(ids[3]);
    const p2 = engine.jobsInState('q', JobState.Ready, p1.next, 3, 'asc');
    expect(p2.jobs.map((j: Job) => j.id)).to.deep.equal(ids.slice(4, 7));
    engine.requeue(ids[2]); // back at the tail, with a new place
    const p3 = engine.jobsInState('q', JobState.Ready, p2.next, 10, 'asc');
    expect(p3.jobs.map((j: Job) => j.id)).to.deep.equal([...ids.slice(7), ids[2]]);
    expect(p3.next).to.equal(null);
  });
});

describe('JOBS, PROMOTE: RESP, redis-cli, HTTP and the SDK against a broker', function () {
  this.timeout(30000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let r: Redis;
  let base = '';
  let n = 0;
  const newQueue = () => `list-${++n}`;

  before(async () => {
    broker = await startBroker({}, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  const jobs = (...args: Array<string | number>) => cmd(r, 'JOBS', ...args) as Promise<Page>;

  async function enqueueMany(queue: string, count: number, ...opts: Array<string | number>): Promise<string[]> {
    const p = r.pipeline();
    for (let i = 0; i < count; i++) p.call('ENQUEUE', queue, `payload-${i}`, ...opts);
    return (await p.exec())!.map(([e, id]) => {
      if (e) throw e;
      return String(id);
    });
  }

  async function walk(queue: string, state: string, count: number, order = 'asc'): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, entries] = await jobs(queue, state, 'CURSOR', cursor, 'COUNT', count, 'ORDER', order);
      expect(entries.length).to.be.at.most(count);
      out.push(...entries.map((e) => e[0]));
      cursor = next;
    } while (cursor !== '0');
    return out;
  }

  it('pages a state oldest first or newest first; cursor 0 starts and ends; the entry shape', async () => {
    const q = newQueue();
    const ids = await enqueueMany(q, 25);
    expect(await walk(q, 'ready', 10)).to.deep.equal(ids);
    expect(await walk(q, 'ready', 7, 'desc')).to.deep.equal([...ids].reverse());
    const [cursor, entries] = await jobs(q, 'ready', 'COUNT', 2, 'PREVIEW', 4);
    expect(cursor).to.not.equal('0');
    const [id, queue, priority, deliveries, createdAt, updatedAt, dueAt, size, head, lastError] = entries[0];
    expect([id, queue, priority, deliveries, dueAt, size, head, lastError]).to.deep.equal([ids[0], q, 'normal', 0, null, 'payload-0'.length, 'payl', null]);
    expect(createdAt).to.be.a('number').and.to.equal(updatedAt);
    // a page that holds the last job says so with cursor 0
    expect((await jobs(q, 'ready', 'COUNT', 25))[0]).to.equal('0');
    expect(await jobs(newQueue(), 'dead')).to.deep.equal(['0', []]);
  });

  it('orders ready by priority (high first), then by arrival; desc is the exact reverse', async () => {
    const q = newQueue();
    const low = await enqueueMany(q, 3, 'PRIORITY', 'low');
    const high = await enqueueMany(q, 3, 'PRIORITY', 'high');
    const normal = await enqueueMany(q, 3);
    const asc = [...high, ...normal, ...low];
    expect(await walk(q, 'ready', 2)).to.deep.equal(asc);
    expect(await walk(q, 'ready', 4, 'desc')).to.deep.equal([...asc].reverse());
  });

  it('shows due-at for scheduled and active jobs, last-error for dead ones', async () => {
    const q = newQueue();
    const [sid] = await enqueueMany(q, 1, 'DELAY', 600000);
    const [, [[, , , , , , due]]] = await jobs(q, 'scheduled');
    expect(due).to.be.greaterThan(Date.now() + 500_000);
    const [aid] = await enqueueMany(q, 1, 'RETRIES', 0);
    await cmd(r, 'CLAIM', q, 'LEASE', 60000);
    const [, [active]] = await jobs(q, 'active');
    expect(active[0]).to.equal(aid);
    expect(active[3]).to.equal(1);
    expect(active[6]).to.be.greaterThan(Date.now() + 50_000);
    await cmd(r, 'NACK', aid, 'ERROR', 'boom');
    const [, [dead]] = await jobs(q, 'dead');
    expect([dead[0], dead[9]]).to.deep.equal([aid, 'boom']);
    expect(sid).to.be.a('string');
  });

  it('refuses a bad state, order, count or cursor', async () => {
    await expectError(jobs('q', 'sleeping'), 'ERR', /state must be one of/);
    await expectError(jobs('q', 'ready', 'ORDER', 'up'), 'ERR', /ORDER/);
    await expectError(jobs('q', 'ready', 'COUNT', 0), 'ERR', /COUNT/);
    await expectError(jobs('q', 'ready', 'COUNT', 1001), 'ERR', /COUNT/);
    await expectError(jobs('q', 'ready', 'CURSOR', 'garbage'), 'ERR', /invalid cursor/);
    await expectError(jobs('q', 'ready', 'NOPE', 1), 'ERR', /unknown option/);
    await expectError(jobs('q'), 'ERR', /wrong number of arguments/);
  });

  it('works from redis-cli', async function () {
    const q = newQueue();
    const ids = await enqueueMany(q, 3);
    const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(broker.port), 'JOBS', q, 'ready', 'COUNT', '2']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).to.not.equal('0');
    expect(stdout).to.include(ids[0]).and.include(ids[1]).and.not.include(`\n${ids[2]}\n`);
  });

  it('pages exactly while a concurrent writer moves jobs in and out of the state', async () => {
    const q = newQueue();
    const writer = clients.make();
    // dead jobs: enqueue with RETRIES 0, claim, NACK
    const dead = await enqueueMany(q, 600, 'RETRIES', 0);
    await cmd(r, 'CLAIM', q, 'COUNT', 600);
    const p = r.pipeline();
    for (const id of dead) p.call('NACK', id);
    await p.exec();
    const movers = new Set(dead.filter((_, i) => i % 3 === 0));
    let reading = true;
    let writes = 0;
    const write = (async () => {
      const list = [...movers];
      let i = 0;
      while (reading) {
        // one mover out of the DLQ and (after a claim + NACK) back at its tail, and a new dead job
        const id = list[i++ % list.length];
        const b = writer.pipeline();
        b.call('REQUEUE', id);
        b.call('ENQUEUE', q, 'new', 'RETRIES', 0);
        b.call('CLAIM', q, 'COUNT', 10);
        const res = (await b.exec())!;
        const claimed = res[2][1] as Array<[string]>;
        const back = writer.pipeline();
        for (const [cid] of claimed) back.call('NACK', cid);
        await back.exec();
        writes++;
      }
    })();
    const seen = new Map<string, number>();
    for (const order of ['asc', 'desc']) {
      seen.clear();
      let cursor = '0';
      let pages = 0;
      do {
        const [next, entries] = await jobs(q, 'dead', 'CURSOR', cursor, 'COUNT', 9, 'ORDER', order);
        for (const e of entries) seen.set(e[0], (seen.get(e[0]) ?? 0) + 1);
        cursor = next;
        pages++;
        await new Promise<void>((resolve) => setImmediate(resolve)); // let the writer in between pages
      } while (cursor !== '0');
      for (const id of dead) if (!movers.has(id)) expect(seen.get(id), `${order}: stable dead job ${id}`).to.equal(1);
      expect(pages).to.be.greaterThan(40);
    }
    reading = false;
    await write;
    expect(writes, 'the writer ran while the reader paged').to.be.greaterThan(20);
  });

  it('PROMOTE makes a scheduled job ready now; the record survives a restart', async () => {
    const q = newQueue();
    const [id] = await enqueueMany(q, 1, 'DELAY', 3_600_000);
    const [other] = await enqueueMany(q, 1);
    expect(await cmd(r, 'PROMOTE', id)).to.equal(1);
    expect(await cmd(r, 'PROMOTE', id)).to.equal(0); // already ready
    expect(await cmd(r, 'PROMOTE', other)).to.equal(0);
    await expectError(cmd(r, 'PROMOTE', 'nope'), 'NOJOB');
    expect(fields(await cmd(r, 'STATUS', id)).state).to.equal('ready');
    expect(fields(await cmd(r, 'STATUS', id))['run-at']).to.equal(null);
    await broker.kill();
    await broker.restart();
    r = clients.make();
    expect(fields(await cmd(r, 'STATUS', id)).state).to.equal('ready');
    expect((await jobs(q, 'ready'))[1].map((e) => e[0])).to.deep.equal([other, id]);
  });

  it('the JSON routes: list, promote, payload download, queue admin', async () => {
    const q = newQueue();
    const ids = await enqueueMany(q, 5);
    const get = async (path: string) => {
      const res = await fetch(base + path);
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const post = async (path: string, body?: unknown) => {
      const res = await fetch(base + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const first = await get(`/v1/queues/${q}/jobs?state=ready&count=2&order=desc`);
    expect(first.status).to.equal(200);
    expect(first.body.jobs.map((j: { id: string }) => j.id)).to.deep.equal([ids[4], ids[3]]);
    expect(first.body.jobs[0]).to.include({ queue: q, state: 'ready', priority: 'normal', deliveries: 0, 'payload-size': 9, 'payload-head': 'payload-4' });
    const second = await get(`/v1/queues/${q}/jobs?state=ready&count=10&order=desc&cursor=${encodeURIComponent(first.body.cursor)}`);
    expect(second.body.jobs.map((j: { id: string }) => j.id)).to.deep.equal([ids[2], ids[1], ids[0]]);
    expect(second.body.cursor).to.equal('0');
    expect((await get(`/v1/queues/${q}/jobs`)).status).to.equal(400);
    expect((await get(`/v1/queues/${q}/jobs?state=ready&cursor=x`)).body.error.code).to.equal('ERR');

    const [later] = await enqueueMany(q, 1, 'DELAY', 3_600_000);
    expect((await post(`/v1/jobs/${later}/promote`)).body).to.deep.equal({ promoted: true, state: 'ready' });
    expect((await post(`/v1/jobs/${later}/promote`)).body).to.deep.equal({ promoted: false, state: 'ready' });

    await cmd(r, 'ENQUEUE', q, Buffer.from([0, 1, 255, 10]), 'ID', 'bin-1');
    const raw = await fetch(`${base}/v1/jobs/bin-1/payload`);
    expect(raw.headers.get('content-type')).to.equal('application/octet-stream');
    expect(raw.headers.get('content-disposition')).to.match(/attachment/);
    expect([...new Uint8Array(await raw.arrayBuffer())]).to.deep.equal([0, 1, 255, 10]);

    expect((await post(`/v1/queues/${q}/pause`)).body).to.deep.equal({ queue: q, paused: true });
    expect(fields(await cmd(r, 'QSTATS', q)).paused).to.equal(1);
    expect((await post(`/v1/queues/${q}/resume`)).body.paused).to.equal(false);
    expect((await post(`/v1/queues/${q}/config`, { maxlen: 50 })).body.maxlen).to.equal(50);
    expect(fields(await cmd(r, 'QSTATS', q)).maxlen).to.equal(50);
    expect((await post(`/v1/queues/${q}/config`, { maxlen: -1 })).status).to.equal(400);
    expect((await post(`/v1/queues/${q}/config`, { maxlen: 5, extra: 1 })).status).to.equal(400);

    // dead jobs, retried all at once; then purge
    await cmd(r, 'QCONFIG', q, 'MAXLEN', 0);
    const d = await enqueueMany(newQueue(), 0);
    expect(d).to.deep.equal([]);
    const dq = newQueue();
    const dids = await enqueueMany(dq, 3, 'RETRIES', 0);
    await cmd(r, 'CLAIM', dq, 'COUNT', 3);
    for (const id of dids) await cmd(r, 'NACK', id);
    expect((await post(`/v1/queues/${dq}/requeue-all`)).body).to.deep.equal({ queue: dq, requeued: 3 });
    expect(fields(await cmd(r, 'QSTATS', dq)).ready).to.equal(3);
    expect((await post(`/v1/queues/${dq}/purge`, { state: 'waiting' })).body.purged).to.equal(3);
    expect((await post(`/v1/queues/${dq}/purge`, { state: 'everything' })).status).to.equal(400);
  });

  it('the SDK: jobs() pages, iterateJobs() walks, promote()', async () => {
    const q = newQueue();
    const ids = await enqueueMany(q, 23);
    const queue = new Queue(`redis://127.0.0.1:${broker.port}`);
    try {
      const page = await queue.jobs(q, 'ready', { count: 5, order: 'desc', preview: 3 });
      expect(page.jobs.map((j) => j.id)).to.deep.equal(ids.slice(-5).reverse());
      expect(page.jobs[0].payloadHead.toString()).to.equal('pay');
      expect(page.jobs[0].payloadSize).to.equal('payload-22'.length);
      expect(page.cursor).to.not.equal('0');
      const all: string[] = [];
      for await (const j of queue.iterateJobs(q, 'ready', { count: 4 })) all.push(j.id);
      expect(all).to.deep.equal(ids);
      const [s] = await enqueueMany(q, 1, 'DELAY', 100000);
      expect(await queue.promote(s)).to.equal(true);
      expect((await queue.status(s))?.state).to.equal('ready');
    } finally {
      await queue.close();
    }
  });
});
