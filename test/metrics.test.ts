import { expect } from 'chai';
import * as net from 'net';
import Redis from 'ioredis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, sleep, waitFor } from './helpers/util';

/** /metrics, /health, /ready and INFO commandstats of a real broker, driven through ioredis. */

/** the value of one sample line (exact name and labels as printed), or undefined */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('metrics: /metrics, /health, /ready', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  let base = '';
  const clients = new Clients(() => broker.port);
  let r: Redis;

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    broker = await startBroker({}, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('logs the HTTP port at start', () => {
    expect(broker.output()).to.match(/http listening on 127\.0\.0\.1:\d+/);
  });

  it('/health and /ready are 200 once the broker is ready', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.equal({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ok' });
    expect((await fetch(`${base}/health`, { method: 'HEAD' })).status).to.equal(200);
  });

  it('per-queue series after ENQUEUE / CLAIM / ACK / NACK', async () => {
    const q = 'metrics-q';
    for (let i = 0; i < 4; i++) await cmd(r, 'ENQUEUE', q, `p${i}`, 'PRIORITY', i === 0 ? 'high' : 'low', 'RETRIES', 0);
    await cmd(r, 'ENQUEUE', q, 'later', 'DELAY', 60_000);
    const claimed = (await cmd(r, 'CLAIM', q, 'COUNT', 3)) as Array<[string]>;
    await sleep(20); // the jobs are held a while on purpose: the processing-time sum below must be over 15 ms
    expect(await cmd(r, 'ACK', claimed[0][0])).to.equal(1);
    expect(await cmd(r, 'ACK', claimed[1][0])).to.equal(1);
    expect(await cmd(r, 'NACK', claimed[2][0])).to.equal('dead');

    const text = await scrape();
    const l = `queue="${q}"`;
    expect(sample(text, `resq_queue_enqueued_total{${l}}`)).to.equal(5);
    expect(sample(text, `resq_queue_claimed_total{${l}}`)).to.equal(3);
    expect(sample(text, `resq_queue_completed_total{${l}}`)).to.equal(2);
    expect(sample(text, `resq_queue_failed_total{${l}}`)).to.equal(1);
    expect(sample(text, `resq_queue_dead_total{${l}}`)).to.equal(1);
    expect(sample(text, `resq_queue_retried_total{${l}}`)).to.equal(0);
    expect(sample(text, `resq_queue_expired_leases_total{${l}}`)).to.equal(0);
    expect(sample(text, `resq_queue_jobs{${l},state="ready"}`)).to.equal(1);
    expect(sample(text, `resq_queue_jobs{${l},state="scheduled"}`)).to.equal(1);
    expect(sample(text, `resq_queue_jobs{${l},state="active"}`)).to.equal(0);
    expect(sample(text, `resq_queue_jobs{${l},state="completed"}`)).to.equal(2);
    expect(sample(text, `resq_queue_jobs{${l},state="dead"}`)).to.equal(1);
    expect(sample(text, `resq_queue_ready_jobs{${l},priority="low"}`)).to.equal(1);
    expect(sample(text, `resq_queue_ready_jobs{${l},priority="high"}`)).to.equal(0);
    expect(sample(text, `resq_queue_paused{${l}}`)).to.equal(0);

    // histograms: one wait observation per claimed job, one processing observation per ACK
    expect(sample(text, `resq_queue_wait_seconds_count{${l}}`)).to.equal(3);
    expect(sample(text, `resq_queue_wait_seconds_bucket{${l},le="+Inf"}`)).to.equal(3);
    expect(sample(text, `resq_queue_processing_seconds_count{${l}}`)).to.equal(2);
    const processed = sample(text, `resq_queue_processing_seconds_sum{${l}}`)!;
    expect(processed).to.be.greaterThan(0.015).and.lessThan(5);
    // buckets are cumulative and end at the count
    const buckets = text
      .split('\n')
      .filter((line) => line.startsWith(`resq_queue_wait_seconds_bucket{${l},`))
      .map((line) => Number(line.split(' ')[1]));
    expect(buckets.length).to.be.greaterThan(5);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).to.be.at.least(buckets[i - 1]);
    expect(buckets[buckets.length - 1]).to.equal(3);
    expect(text).to.include('# TYPE resq_queue_wait_seconds histogram');
    expect(text).to.include('# TYPE resq_queue_enqueued_total counter');
  });

  it('processing time runs from the claim, also when TOUCH heartbeats came in between', async () => {
    const q = 'metrics-touch-q';
    const id = (await cmd(r, 'ENQUEUE', q, 'x')) as string;
    await cmd(r, 'CLAIM', q);
    // the handler's run time is what is measured here: the sleeps are the job being processed (0.55 s in all)
    await sleep(250);
    await cmd(r, 'TOUCH', id);
    await sleep(250);
    await cmd(r, 'TOUCH', id);
    await sleep(50);
    await cmd(r, 'ACK', id);
    const text = await scrape();
    expect(sample(text, `resq_queue_processing_seconds_count{queue="${q}"}`)).to.equal(1);
    expect(sample(text, `resq_queue_processing_seconds_sum{queue="${q}"}`)).to.be.at.least(0.54);
    expect(sample(text, `resq_queue_processing_seconds_bucket{queue="${q}",le="0.5"}`)).to.equal(0);
    expect(sample(text, `resq_queue_processing_seconds_bucket{queue="${q}",le="1"}`)).to.equal(1);
  });

  it('a queue name is a UTF-8 label value, escaped as Prometheus wants', async () => {
    await cmd(r, 'ENQUEUE', 'métriques "q"\\1', 'x');
    const text = await scrape();
    expect(sample(text, 'resq_queue_enqueued_total{queue="métriques \\"q\\"\\\\1"}')).to.equal(1);
  });

  it('server series: connections, commands, per-command calls, memory, persistence', async () => {
    await cmd(r, 'PING');
    const text = await scrape();
    expect(sample(text, 'resq_connected_clients')).to.be.at.least(1);
    // the jobs of this suite keep their small payloads in the arena: at least one 64 KiB chunk, some slots in use
    expect(sample(text, 'resq_payload_arena_bytes{kind="chunks"}')).to.be.at.least(65536);
    expect(sample(text, 'resq_payload_arena_bytes{kind="used"}')).to.be.greaterThan(0);
    expect(sample(text, 'resq_connections_received_total')).to.be.at.least(1);
    expect(sample(text, 'resq_commands_processed_total')).to.be.at.least(10);
    expect(sample(text, 'resq_command_calls_total{command="enqueue"}')).to.equal(7);
    expect(sample(text, 'resq_command_calls_total{command="claim"}')).to.equal(2);
    expect(sample(text, 'resq_command_calls_total{command="touch"}')).to.equal(2);
    expect(sample(text, 'resq_command_duration_seconds_total{command="enqueue"}')).to.be.greaterThan(0);
    expect(sample(text, 'resq_jobs')).to.equal(7);
    expect(sample(text, 'resq_loading')).to.equal(0);
    expect(sample(text, 'resq_log_writable')).to.equal(1);
    expect(sample(text, 'resq_last_snapshot_timestamp_seconds')).to.be.a('number');
    expect(sample(text, 'process_resident_memory_bytes')).to.be.greaterThan(1e6);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).to.be.greaterThan(1e5);
    expect(text).to.match(/^resq_persistence\{field="[a-z_]+"\} -?[\d.e+]+$/m);
    // appendfsync always: every group-commit flush is timed and its batch size counted
    const after = text;
    const flushes = sample(after, 'resq_log_fsync_seconds_count')!;
    expect(flushes).to.be.greaterThan(0);
    expect(sample(after, 'resq_log_group_commit_records_count')).to.equal(flushes);
    expect(sample(after, 'resq_log_group_commit_records_sum')).to.be.at.least(flushes);
  });

  it('commands per second reflects the last second of traffic', async () => {
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.call('PING');
    await p.exec();
    // sampled once a second, each sample shown for a second: one of the next two counts at least half of the 500 PINGs
    // (they run within milliseconds, so at most two samples share them; the tests before ran far fewer commands)
    let rate = 0;
    await waitFor(
      async () => {
        rate = sample(await scrape(), 'resq_commands_per_second')!;
        return rate >= 250;
      },
      'a commands-per-second sample with the PINGs',
      3000,
      50,
    );
    expect(rate).to.be.at.most(500 + 20);
  });

  it('HTTP requests are counted by route and status', async () => {
    await fetch(`${base}/v1/jobs/none`);
    const text = await scrape();
    expect(sample(text, 'resq_http_requests_total{route="/v1/jobs/{id}",method="GET",status="404"}')).to.equal(1);
    expect(sample(text, 'resq_http_requests_total{route="/health",method="GET",status="200"}')).to.be.at.least(1);
  });

  it('INFO commandstats: calls and usec per command, Redis form', async () => {
    const info = (await cmd(r, 'INFO', 'commandstats')) as string;
    expect(info).to.match(/^# Commandstats\r?$/m);
    expect(info).to.match(/^cmdstat_enqueue:calls=7,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r?$/m);
    expect(info).to.match(/^cmdstat_ack:calls=3,/m);
    const all = (await cmd(r, 'INFO', 'all')) as string;
    for (const section of ['Memory', 'Persistence', 'Commandstats', 'Queues']) expect(all).to.include(`# ${section}`);
  });

  it('CONFIG RESETSTAT resets the counters (Prometheus sees a counter reset)', async () => {
    await cmd(r, 'CONFIG', 'RESETSTAT');
    const text = await scrape();
    expect(sample(text, 'resq_queue_enqueued_total{queue="metrics-q"}')).to.equal(0);
    expect(sample(text, 'resq_command_calls_total{command="enqueue"}')).to.equal(undefined);
  });

  it('flow control: concurrency, rate limit (per second) and group count per queue; no per-group series; none for queue="(other)"', async () => {
    const q = 'metrics-flow';
    await cmd(r, 'QCONFIG', q, 'CONCURRENCY', 4, 'RATE', 30, 'PER', 60000, 'GROUP-CONCURRENCY', 1);
    for (const g of ['t1', 't2', 't3']) await cmd(r, 'ENQUEUE', q, 'x', 'GROUP', g);
    await cmd(r, 'ENQUEUE', q, 'ungrouped');
    let text = await scrape();
    const l = `queue="${q}"`;
    expect(sample(text, `resq_queue_concurrency{${l}}`)).to.equal(4);
    expect(sample(text, `resq_queue_rate_limit_per_second{${l}}`)).to.equal(0.5);
    expect(sample(text, `resq_queue_groups{${l}}`)).to.equal(3);
    expect(text).to.not.match(/t1|t2|t3/); // group keys never become labels
    // past metrics-max-queues the rest is summed under (other): settings do not sum, so it has no flow series
    await cmd(r, 'CONFIG', 'SET', 'metrics-max-queues', '1');
    try {
      text = await scrape();
      expect(text).to.match(/resq_queue_jobs\{queue="\(other\)"/);
      expect(text).to.not.match(/resq_queue_(concurrency|rate_limit_per_second|groups)\{queue="\(other\)"/);
      const info = String(await cmd(r, 'INFO', 'queues'));
      expect(info.match(/^queue_/gm)).to.have.length(1); // INFO's queue lines are capped the same way
    } finally {
      await cmd(r, 'CONFIG', 'SET', 'metrics-max-queues', '100');
    }
    const info = String(await cmd(r, 'INFO', 'queues'));
    expect(info).to.match(/queue_metrics-flow:.*concurrency=4,rate=30,rate-per=60000,groups=3,group-concurrency=1,/);
  });
});

describe('metrics: the HTTP listener setting (http-port)', function () {
  this.timeout(30000);
  const brokers: BrokerProcess[] = [];
  const blockers: net.Server[] = [];
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.cleanup();
    for (const s of blockers.splice(0)) s.close();
  });

  /** a listener on some free port, held until the test ends */
  const block = async (): Promise<number> => {
    const s = net.createServer();
    blockers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as net.AddressInfo).port;
  };

  /**
   * a broker on a fixed RESP port P with http-port left at its default (P + 1).
   * P is picked at random; if the broker reports P or P + 1 in use it is tried again elsewhere
   * (the broker itself binds: no port is freed and reused in between).
   */
  const startOnFixedPort = async (): Promise<BrokerProcess> => {
    for (let attempt = 0; ; attempt++) {
      const port = 20000 + Math.floor(Math.random() * 30000);
      try {
        const b = await startBroker({}, { port, http: true });
        brokers.push(b);
        return b;
      } catch (e) {
        if (attempt >= 20 || !/already in use/.test((e as Error).message)) throw e;
      }
    }
  };

  const jobOver = (httpPort: number, id: string) => fetch(`http://127.0.0.1:${httpPort}/v1/jobs/${encodeURIComponent(id)}`).then((res) => res.status);

  it('http-port 0 turns the listener (and the metrics hook) off; the ready line says http-port=0', async () => {
    const broker = await startBroker({ 'http-port': '0' });
    brokers.push(broker);
    expect(broker.output()).to.match(/^resq ready .* port=\d+ http-port=0 /m);
    expect(broker.httpPort).to.equal(0);
    expect(broker.output()).to.not.match(/http listening/);
  });

  it('by default, with --port 0, the HTTP listener binds a free port too and the ready line reports it', async () => {
    const broker = await startBroker({}, { http: true });
    brokers.push(broker);
    expect(broker.httpPort).to.be.greaterThan(0).and.not.equal(broker.port);
    expect(broker.output()).to.include(`http listening on 127.0.0.1:${broker.httpPort} `);
    const ready = await fetch(`http://127.0.0.1:${broker.httpPort}/ready`);
    expect(ready.status).to.equal(200);
    // CONFIG GET shows the setting as given (-1: follow the RESP port), not the bound port
    const r = new Clients(() => broker.port);
    try {
      expect(await cmd(r.make(), 'CONFIG', 'GET', 'http-port')).to.deep.equal(['http-port', '-1']);
    } finally {
      r.closeAll();
    }
  });

  it('by default the HTTP port is the RESP port + 1: two brokers on different ports each get their own, and /ready and /v1 answer for the right one', async () => {
    const a = await startOnFixedPort();
    const b = await startOnFixedPort();
    expect(a.port).to.not.equal(b.port);
    expect(a.httpPort).to.equal(a.port + 1);
    expect(b.httpPort).to.equal(b.port + 1);
    for (const broker of [a, b]) {
      const ready = await fetch(`http://127.0.0.1:${broker.port + 1}/ready`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ status: 'ok' });
    }
    // a job enqueued over RESP on a is seen over HTTP on a.port + 1 only, and one on b on b.port + 1 only
    const ra = new Clients(() => a.port);
    const rb = new Clients(() => b.port);
    try {
      const idA = (await cmd(ra.make(), 'ENQUEUE', 'which', 'a')) as string;
      const idB = (await cmd(rb.make(), 'ENQUEUE', 'which', 'b', 'ID', 'only-on-b')) as string;
      expect(await jobOver(a.port + 1, idA)).to.equal(200);
      expect(await jobOver(b.port + 1, idB)).to.equal(200);
      expect(await jobOver(a.port + 1, idB)).to.equal(404);
    } finally {
      ra.closeAll();
      rb.closeAll();
    }
  });

  it('an explicit http-port that is in use: the broker refuses to start, naming the port', async () => {
    const taken = await block();
    let err: Error | undefined;
    await startBroker({ 'http-port': String(taken) }).then(
      (b) => brokers.push(b),
      (e: Error) => (err = e),
    );
    expect(err, 'the broker should not have started').to.be.an('error');
    expect(err!.message).to.match(/exited \(1\) before ready/);
    expect(err!.message).to.include(`resq-server: http-port ${taken} is already in use`);
  });

  it('the default http-port (RESP port + 1) in use: the broker refuses to start, naming it', async () => {
    for (let attempt = 0; ; attempt++) {
      const taken = await block();
      let err: Error | undefined;
      await startBroker({}, { port: taken - 1, http: true }).then(
        (b) => brokers.push(b),
        (e: Error) => (err = e),
      );
      expect(err, 'the broker should not have started').to.be.an('error');
      // taken - 1 may be in use by someone else: then the RESP port is refused; try another
      if (attempt < 20 && err!.message.includes(`port ${taken - 1} is already in use`)) continue;
      expect(err!.message).to.match(/exited \(1\) before ready/);
      expect(err!.message).to.include(`resq-server: http-port ${taken} is already in use`);
      return;
    }
  });
});
