import { expect } from 'chai';
import type { Broker } from '../server/broker';
import { startInProcessBroker } from './helpers/in-process-broker';
import { ScriptedLog } from './helpers/scripted-log';
import { waitFor } from './helpers/util';

/**
 * The HTTP gates that need a log we control: LOADING before the log is
 * loaded, MISCONF while it cannot be written, and responses held until
 * their records are durable. An in-process broker with a scripted log.
 */

describe('http: gates (in-process broker, scripted log)', function () {
  this.timeout(10000);
  let broker: Broker;
  let base: string;
  const log = new ScriptedLog();

  const JSON_TYPE = { 'Content-Type': 'application/json' };
  const enqueue = (queue: string, payload = 'x') =>
    fetch(`${base}/v1/queues/${queue}/jobs`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ payload }) });
  /** HTTP requests parked until their log record is durable */
  const parked = (n: number) => waitFor(() => broker.http!.durable.pending === n, `${n} HTTP request(s) waiting for the log`);
  const json = async (res: Response) => (await res.json()) as { error: { code: string; message: string } } & Record<string, unknown>;

  let stop: () => Promise<void>;
  before(async () => {
    ({ broker, base, stop } = await startInProcessBroker());
  });
  after(async () => {
    await stop();
  });

  it('while loading: /health 200, /ready 503 with the reason, /v1 503 LOADING', async () => {
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).to.equal(503);
    expect((await json(ready)).reason).to.match(/^loading/);
    for (const res of [await enqueue('g'), await fetch(`${base}/v1/queues`)]) {
      expect(res.status).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('1');
      expect((await json(res)).error.code).to.equal('LOADING');
    }
    expect(await (await fetch(`${base}/metrics`)).text()).to.match(/^resq_loading 1$/m);
  });

  it('once loaded: /ready 200', async () => {
    broker.attachPersistence(log);
    broker.finishLoading();
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ok' });
  });

  it('a write is answered only once its record is durable', async () => {
    let settled = false;
    const pending = enqueue('durable-q').then((r) => {
      settled = true;
      return r;
    });
    await parked(1);
    expect(log.lastLsn).to.be.greaterThan(log.durableLsn);
    expect(settled, 'answered before the record was durable').to.equal(false);
    // a read after it reports state that is not durable yet: it waits too
    let readSettled = false;
    const read = fetch(`${base}/v1/queues/durable-q`).then((r) => {
      readSettled = true;
      return r;
    });
    await parked(2);
    expect(readSettled).to.equal(false);
    log.sync();
    const res = await pending;
    expect(res.status).to.equal(201);
    expect((await json(await read)).ready).to.equal(1);
  });

  it('fsyncs the log reports become the fsync and group-commit histograms', async () => {
    const p1 = enqueue('batch-q', 'a');
    const p2 = enqueue('batch-q', 'b');
    await parked(2); // one flush makes both durable: a group commit of 2
    log.sync();
    await Promise.all([p1, p2]);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).to.match(/^resq_log_fsync_seconds_count [1-9]/m);
    expect(text).to.match(/^resq_log_group_commit_records_bucket\{le="4"\} [1-9]/m);
    expect(text).to.match(/^resq_persistence\{field="log_size"\} 1234$/m);
    expect(text).to.not.match(/field="aof_last_write_status"/);
    expect(text).to.match(/^resq_last_snapshot_timestamp_seconds 1700000000$/m);
  });

  it('while the log cannot be written: writes 503 MISCONF, reads served, /ready 503', async () => {
    log.writable = false;
    log.lastError = 'ENOSPC: no space left on device';
    try {
      const res = await enqueue('misconf-q');
      expect(res.status).to.equal(503);
      const body = await json(res);
      expect(body.error.code).to.equal('MISCONF');
      expect(body.error.message).to.include('ENOSPC');
      const cancel = await fetch(`${base}/v1/jobs/1/cancel`, { method: 'POST', headers: JSON_TYPE });
      expect((await json(cancel)).error.code).to.equal('MISCONF');
      expect((await fetch(`${base}/v1/queues`)).status).to.equal(200);
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).to.equal(503);
      expect((await json(ready)).reason).to.match(/^log not writable: ENOSPC/);
      expect(await (await fetch(`${base}/metrics`)).text()).to.match(/^resq_log_writable 0$/m);
    } finally {
      log.writable = true;
      log.lastError = null;
    }
    const after = enqueue('misconf-q');
    await parked(1);
    log.sync();
    expect((await after).status).to.equal(201);
  });

  it('shutdown answers a write still waiting for the log, then stops listening', async () => {
    const pending = enqueue('shutdown-q');
    await parked(1);
    await broker.shutdown('nosave', 'test');
    expect((await pending).status).to.equal(201);
    let refused = false;
    await fetch(`${base}/health`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});
