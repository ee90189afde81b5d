import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, fields, sleep, waitFor } from './helpers/util';

/**
 * The durability contract through real processes: SIGKILL the broker under
 * load (8 connections enqueueing, 4 workers claiming and acking), restart it
 * on the same directory, and check that every job whose ENQUEUE reply
 * arrived exists, that no job whose ACK replied :1 is ever delivered again,
 * and that the counts add up. Five kill/restart cycles per appendfsync mode:
 * a process crash loses nothing written, in `always` and in `everysec` alike.
 */

const PRODUCERS = 8;
const WORKERS = 4;
const LEASE = 800;

interface Ledger {
  /** id -> payload, for every ENQUEUE whose reply arrived */
  enqueued: Map<string, string>;
  /** ids whose ACK replied :1 */
  acked: Set<string>;
  /** deliveries of already-acked jobs (must stay empty) */
  redelivered: string[];
  /** payload mismatches seen on CLAIM */
  wrongPayload: string[];
  /** ACKs sent whose reply did not arrive (outcome unknown) */
  ackInFlight: Set<string>;
}

async function producer(r: Redis, tag: string, ledger: Ledger, stop: () => boolean): Promise<void> {
  for (let n = 0; !stop(); n++) {
    const payload = `${tag}-${n}-${'x'.repeat(n % 200)}`;
    try {
      const id = (await cmd(r, 'ENQUEUE', 'crash', payload)) as string;
      ledger.enqueued.set(id, payload);
    } catch {
      return; // the broker is gone
    }
  }
}

async function worker(r: Redis, ledger: Ledger, stop: () => boolean): Promise<void> {
  while (!stop()) {
    let jobs: Array<[string, string, string, number]>;
    try {
      jobs = (await cmd(r, 'CLAIM', 'crash', 'COUNT', 5, 'BLOCK', 50, 'LEASE', LEASE)) as Array<[string, string, string, number]>;
    } catch {
      return;
    }
    for (const [id, , payload] of jobs) {
      if (ledger.acked.has(id)) ledger.redelivered.push(id);
      const known = ledger.enqueued.get(id);
      if (known !== undefined && known !== payload) ledger.wrongPayload.push(id);
      ledger.ackInFlight.add(id);
      try {
        const r1 = await cmd(r, 'ACK', id);
        ledger.ackInFlight.delete(id);
        if (r1 === 1) ledger.acked.add(id);
      } catch (e) {
        if (/STALE|STATE/.test((e as Error).message)) {
          ledger.ackInFlight.delete(id); // the lease ran out meanwhile: it will be delivered again, fine
          continue;
        }
        return;
      }
    }
  }
}

async function statuses(r: Redis, ids: string[]): Promise<Array<Record<string, unknown> | null>> {
  const out: Array<Record<string, unknown> | null> = [];
  for (let i = 0; i < ids.length; i += 500) {
    const p = r.pipeline();
    for (const id of ids.slice(i, i + 500)) p.call('STATUS', id);
    const res = (await p.exec())!;
    for (const [err, v] of res) {
      if (err) throw err;
      out.push(v === null ? null : fields(v));
    }
  }
  return out;
}

function runCycles(appendfsync: 'always' | 'everysec') {
  describe(`crash recovery, appendfsync ${appendfsync}: SIGKILL under load, five times on one directory`, function () {
    this.timeout(120_000);
    let broker: BrokerProcess;
    let dir: string;
    const clients = new Clients(() => broker.port);
    const ledger: Ledger = { enqueued: new Map(), acked: new Set(), redelivered: [], wrongPayload: [], ackInFlight: new Set() };

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-crash-'));
      broker = await startBroker(
        {
          appendfsync,
          'http-port': '0',
          'completed-max': '10000000',
          'completed-retention': '3600000000',
          'segment-size': '65536',
          'snapshot-log-size': '300000',
        },
        { dir },
      );
    });
    after(async () => {
      clients.closeAll();
      await broker?.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    for (let cycle = 1; cycle <= 5; cycle++) {
      it(`cycle ${cycle}: load, kill -9, restart: nothing acknowledged is lost, nothing acked is redelivered`, async () => {
        let stopped = false;
        const stop = () => stopped;
        const conns = Array.from({ length: PRODUCERS + WORKERS }, () => clients.make());
        const loops = [
          ...conns.slice(0, PRODUCERS).map((r, i) => producer(r, `c${cycle}p${i}`, ledger, stop)),
          ...conns.slice(PRODUCERS).map((r) => worker(r, ledger, stop)),
        ];
        const before = ledger.enqueued.size;
        // load for a while: the kill should land at a different point each cycle; on a loaded machine wait for the jobs, not the clock
        const startedAt = Date.now();
        await sleep(400 + cycle * 97);
        while (ledger.enqueued.size - before <= 100 + cycle * 13 && Date.now() - startedAt < 20_000) await sleep(50);
        await broker.kill();
        stopped = true;
        await Promise.all(loops);
        clients.closeAll();
        expect(ledger.enqueued.size - before, 'the load ran').to.be.greaterThan(100);

        await broker.restart();
        expect(broker.output()).to.not.match(/corrupt|cannot load/);
        const r = clients.make();
        const ids = [...ledger.enqueued.keys()];
        const st = await statuses(r, ids);
        const missing = ids.filter((_, i) => st[i] === null);
        expect(missing, 'every job whose ENQUEUE reply arrived exists').to.deep.equal([]);
        const ackedIds = [...ledger.acked];
        const ackedSt = await statuses(r, ackedIds);
        const notCompleted = ackedIds.filter((_, i) => ackedSt[i]?.state !== 'completed');
        expect(notCompleted, 'every job whose ACK replied :1 is completed').to.deep.equal([]);
        for (let i = 0; i < ids.length; i++) {
          expect(st[i]!.payload ?? ledger.enqueued.get(ids[i])).to.equal(ledger.enqueued.get(ids[i]));
        }
        expect(ledger.redelivered, 'acked jobs delivered again').to.deep.equal([]);
        expect(ledger.wrongPayload).to.deep.equal([]);
        clients.closeAll();
      });
    }

    it('after the last restart: workers drain the queue; counts add up', async () => {
      const r = clients.make();
      const stopAt = Date.now() + 30_000;
      let stopped = false;
      const conns = Array.from({ length: WORKERS }, () => clients.make());
      const loops = conns.map((c) => worker(c, ledger, () => stopped || Date.now() > stopAt));
      await waitFor(
        async () => {
          const s = fields(await cmd(r, 'QSTATS', 'crash')) as Record<string, number>;
          return s.ready + s.active + s.scheduled === 0;
        },
        'the queue drained',
        30_000,
        50,
      );
      stopped = true;
      await Promise.all(loops);
      const s = fields(await cmd(r, 'QSTATS', 'crash')) as Record<string, number>;
      const dbsize = (await cmd(r, 'DBSIZE')) as number;
      expect(ledger.redelivered).to.deep.equal([]);
      // every job is completed now; the ones whose ENQUEUE reply was lost in a kill are extra, never fewer
      expect(s.completed).to.equal(dbsize);
      expect(dbsize).to.be.at.least(ledger.enqueued.size);
      expect(dbsize - ledger.enqueued.size, 'jobs created whose reply was lost (at most a batch per producer per kill)').to.be.at.most(PRODUCERS * 5);
      expect(ledger.acked.size).to.be.at.most(s.completed);
      const st = await statuses(r, [...ledger.enqueued.keys()]);
      expect(st.every((x) => x?.state === 'completed')).to.equal(true);
      // the runs went through automatic snapshots and segment rotation, not just one small log
      expect(broker.output()).to.match(/snapshot snapshot-\d+\.rsnap saved/);
      if (process.env.RESQ_CRASH_VERBOSE)
        process.stderr.write(`${ledger.enqueued.size} enqueued, ${ledger.acked.size} acked\n${broker.output()}\n${fs.readdirSync(dir).join(' ')}\n`);
    });
  });
}

runCycles('always');
runCycles('everysec');
