import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { openDir } from './helpers/persistence-workload';
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
    const { engine, p: persistence, report } = await openDir(dir);
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
    // the fixture's jobs carry the times they were made: keep finished ones however long ago that was
    const KEEP = String(3650 * 86_400_000);
    broker = await startBroker({ 'completed-retention': KEEP, 'dead-retention': KEEP }, { dir });
    r = new Redis({ port: broker.port, lazyConnect: true });
    await r.connect();
    // job-a had a one-hour TTL and job-b a ten-minute DELAY when the fixture was made: their state now
    // depends on the clock, their options do not
    const a = fields((await r.call('STATUS', 'job-a')) as unknown[]);
    expect(a).to.include({ priority: 'high', retries: 4, backoff: 200, 'backoff-max': 5000, lease: 7000 });
    expect(a.state).to.be.oneOf(['ready', 'dead']);
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
