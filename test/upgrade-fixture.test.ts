import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Redis from 'ioredis';
import { openPersistence } from '../server/persistence';
import { BrokerProcess, startBroker } from './helpers/broker';
import { fakeClock, JournalSlot, newEngine } from './helpers/persistence-workload';
import { fields } from './helpers/util';

/**
 * A data directory written by an earlier version (test/fixtures/v0-data,
 * see its README): cron entries stored ENQUEUE option words then; today they
 * are stored parsed. It must still load, with the same meaning.
 */
const FIXTURE = path.resolve(__dirname, '../../test/fixtures/v0-data');

function copyFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-v0-'));
  for (const f of fs.readdirSync(FIXTURE)) if (f !== 'README.md') fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
  return dir;
}

describe('upgrade: a data directory written by the previous record codec', function () {
  this.timeout(20000);
  const dirs: string[] = [];
  let broker: BrokerProcess | null = null;
  let r: Redis | null = null;

  after(async () => {
    r?.disconnect();
    await broker?.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loads the cron entries (snapshot and log) with their option words parsed into options', async () => {
    const dir = copyFixture();
    dirs.push(dir);
    const journal = new JournalSlot();
    const engine = newEngine(fakeClock(), journal);
    const { persistence, report } = await openPersistence(engine.store, {
      dir,
      appendfsync: () => 'always',
      segmentSize: () => 64 * 1024 * 1024,
      snapshotLogSize: () => 0,
      snapshotSlice: () => 1000,
      repair: false,
      log: () => {},
    });
    try {
      expect(report.snapshotLoaded).to.equal(true);
      const nightly = engine.store.crons.get('nightly')!;
      expect(nightly.timezone).to.equal('Europe/Paris');
      expect(nightly.options).to.deep.equal({ priority: 2, retries: 2, delay: 1000, backoffBase: 100, backoffMax: 900, lease: 5000, ttl: 60000 });
      const hourly = engine.store.crons.get('hourly')!; // from the log after the snapshot
      expect(hourly.options).to.deep.equal({ retries: 1 });
      expect(engine.store.queues.get('other')!.paused).to.equal(true);
    } finally {
      await persistence.close();
    }
  });

  it('serves the jobs and entries through the binary, and keeps them across a restart in the new format', async () => {
    const dir = copyFixture();
    dirs.push(dir);
    broker = await startBroker({}, { dir });
    r = new Redis({ port: broker.port, lazyConnect: true });
    await r.connect();
    const a = fields((await r.call('STATUS', 'job-a')) as unknown[]);
    expect(a).to.include({ state: 'ready', priority: 'high', retries: 4, backoff: 200, 'backoff-max': 5000, lease: 7000 });
    // DELAY 600000 when the fixture was made: scheduled then, ready by now (its run time has passed)
    expect(fields((await r.call('STATUS', 'job-b')) as unknown[])).to.include({ state: 'ready', priority: 'normal' });
    expect(fields((await r.call('STATUS', 'job-c')) as unknown[])).to.include({ state: 'completed', result: 'done' });
    expect(fields((await r.call('STATUS', 'job-d')) as unknown[]).priority).to.equal('low');
    const names = ((await r.call('CRON', 'LIST')) as unknown[][]).map((e) => e[0]).sort();
    expect(names).to.deep.equal(['hourly', 'nightly']);
    await r.call('CRON', 'SET', 'fresh', '*/5 * * * *', 'q', 'p', 'PRIORITY', 'high');
    await r.call('SAVE');
    r.disconnect();
    await broker.kill();
    await broker.restart();
    r = new Redis({ port: broker.port, lazyConnect: true });
    await r.connect();
    const after = ((await r.call('CRON', 'LIST')) as unknown[][]).map((e) => e[0]).sort();
    expect(after).to.deep.equal(['fresh', 'hourly', 'nightly']);
    expect(fields((await r.call('STATUS', 'job-a')) as unknown[]).retries).to.equal(4);
  });
});
