/**
 * SDK end to end: jobs of 100 bytes through Queue.enqueueMany and Worker
 * (concurrency 50, in a separate process) against a broker the bench starts.
 *
 *  A. throughput: N jobs enqueued as fast as enqueueMany goes while the
 *     worker consumes; jobs/s = N / (first enqueue -> broker's `acked` = N).
 *  B. latency at a fixed rate (default 5,000 jobs/s for 5 s): every 10 ms the
 *     jobs due are sent as one enqueueMany; enqueue->start latency is the
 *     handler's start time minus the time just before that enqueueMany call.
 *
 * Run: npm run build && node dist/bench/sdk-e2e.js [--jobs 20000] [--rate 5000]
 *      [--seconds 5] [--concurrency 50] [--workers 1] [--out bench/results/sdk-e2e.md]
 */
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { performance } from 'perf_hooks';
import { Queue, Worker } from '../client';
import { startBroker } from '../test/helpers/broker';

const PAYLOAD = 100;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

/** wall clock with sub-ms resolution, comparable across processes on one host */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function payload(t: number): Buffer {
  const b = Buffer.alloc(PAYLOAD, 0x61);
  b.writeDoubleLE(t, 0);
  return b;
}

type ToWorker = { cmd: 'latencies' } | { cmd: 'reset' };
type FromWorker = { ev: 'ready' } | { ev: 'latencies'; values: number[] };

/** the worker process: records enqueue->start latencies of every job */
async function workerMain(): Promise<void> {
  const url = process.env.BENCH_URL!;
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
  let latencies: number[] = [];
  const workers = (process.env.BENCH_QUEUES ?? '').split(',').map(
    (q) =>
      new Worker<Buffer>(
        q,
        async (job) => {
          latencies.push(now() - job.data.readDoubleLE(0));
        },
        { connection: url, concurrency, codec: 'raw', block: 1000 },
      ),
  );
  for (const w of workers) w.on('error', (err) => process.stderr.write(`bench worker: ${err.message}\n`));
  process.on('message', (m: ToWorker) => {
    if (m.cmd === 'latencies') process.send!({ ev: 'latencies', values: latencies } satisfies FromWorker);
    if (m.cmd === 'reset') latencies = [];
  });
  process.on('disconnect', () => {
    void Promise.all(workers.map((w) => w.close(2000))).then(() => process.exit(0));
  });
  process.send!({ ev: 'ready' } satisfies FromWorker);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function nextMessage(child: ChildProcess, ev: FromWorker['ev']): Promise<FromWorker> {
  return new Promise((resolve) => {
    const on = (m: FromWorker) => {
      if (m.ev === ev) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
  });
}

async function waitAcked(queue: Queue, name: string, n: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await queue.stats(name)).acked < n) {
    if (Date.now() > end) throw new Error(`only ${(await queue.stats(name)).acked} of ${n} jobs acked on ${name}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function main(): Promise<void> {
  const jobs = Number(arg('jobs', '20000'));
  const rate = Number(arg('rate', '5000'));
  const seconds = Number(arg('seconds', '5'));
  const concurrency = Number(arg('concurrency', '50'));
  const nWorkers = Number(arg('workers', '1'));
  const out = arg('out', '');
  const loadAtStart = os.loadavg();

  const broker = await startBroker({ 'http-port': '0', 'log-level': 'warn' });
  const url = `redis://127.0.0.1:${broker.port}`;
  const qThroughput = 'bench-throughput';
  const qLatency = 'bench-latency';
  const children: ChildProcess[] = [];
  const queue = new Queue<Buffer>(url, { codec: 'raw', batchSize: 1000 });
  try {
    for (let i = 0; i < nWorkers; i++) {
      const child = fork(__filename, ['--role', 'worker'], {
        env: { ...process.env, BENCH_URL: url, BENCH_CONCURRENCY: String(concurrency), BENCH_QUEUES: `${qThroughput},${qLatency}` },
      });
      children.push(child);
      await nextMessage(child, 'ready');
    }

    // A. throughput
    const t0 = now();
    for (let sent = 0; sent < jobs; sent += 1000) {
      const n = Math.min(1000, jobs - sent);
      const t = now();
      await queue.enqueueMany(
        qThroughput,
        Array.from({ length: n }, () => ({ payload: payload(t) })),
      );
    }
    const tEnqueued = now();
    await waitAcked(queue, qThroughput, jobs, 120_000);
    const tDone = now();
    const enqueueRate = jobs / ((tEnqueued - t0) / 1000);
    const e2eRate = jobs / ((tDone - t0) / 1000);

    // B. latency at a fixed rate
    for (const c of children) c.send({ cmd: 'reset' } satisfies ToWorker);
    const total = Math.round(rate * seconds);
    const start = now();
    let sent = 0;
    const pending: Promise<string[]>[] = [];
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate));
      if (due > sent) {
        const t = now();
        pending.push(
          queue.enqueueMany(
            qLatency,
            Array.from({ length: due - sent }, () => ({ payload: payload(t) })),
          ),
        );
        sent = due;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(pending);
    const sendSeconds = (now() - start) / 1000;
    await waitAcked(queue, qLatency, total, 120_000);
    const all: number[] = [];
    for (const c of children) {
      const reply = nextMessage(c, 'latencies');
      c.send({ cmd: 'latencies' } satisfies ToWorker);
      const m = await reply;
      if (m.ev === 'latencies') all.push(...m.values);
    }
    all.sort((a, b) => a - b);

    const files = fs
      .readdirSync(broker.dir, { recursive: true })
      .map((f) => `${broker.dir}/${String(f)}`)
      .filter((f) => fs.statSync(f).isFile());
    const bytes = files.reduce((sum, f) => sum + fs.statSync(f).size, 0);
    const cmd = `node dist/bench/sdk-e2e.js --jobs ${jobs} --rate ${rate} --seconds ${seconds} --concurrency ${concurrency} --workers ${nWorkers}`;
    const fmt = (x: number) => x.toFixed(2);
    const report = [
      '# SDK end-to-end benchmark',
      '',
      `Command: \`npm run build && ${cmd}${out ? ` --out ${out}` : ''}\``,
      '',
      `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version};`,
      `load average at the start ${loadAtStart.map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min; above the CPU count the figures are noise-bound).`,
      `Broker: started by the bench on its own temp dir, default settings (\`appendfsync always\`: every reply waits for its fsync, group commit).`,
      `Data dir after the run: ${files.length} file(s), ${(bytes / 2 ** 20).toFixed(1)} MiB (0 means the broker wrote no log: figures without durability).`,
      `Jobs: ${PAYLOAD}-byte Buffer payloads (raw codec); producer = this process (Queue.enqueueMany, 1000 per pipeline);`,
      `workers = ${nWorkers} child process(es), each one Worker per queue with concurrency ${concurrency} (CLAIM COUNT <= 50, BLOCK 1000, ACK per job).`,
      '',
      '| measure | value |',
      '|---|---|',
      `| A. enqueueMany alone (while the worker consumes) | ${Math.round(enqueueRate).toLocaleString('en-US')} jobs/s |`,
      `| A. end to end, ${jobs.toLocaleString('en-US')} jobs (first enqueue -> last ACK) | **${Math.round(e2eRate).toLocaleString('en-US')} jobs/s** |`,
      `| B. fixed rate: target / achieved | ${rate.toLocaleString('en-US')} / ${Math.round(total / sendSeconds).toLocaleString('en-US')} jobs/s for ${seconds} s (${total.toLocaleString('en-US')} jobs) |`,
      `| B. enqueue -> handler start, p50 | **${fmt(percentile(all, 50))} ms** |`,
      `| B. enqueue -> handler start, p90 | ${fmt(percentile(all, 90))} ms |`,
      `| B. enqueue -> handler start, p99 | **${fmt(percentile(all, 99))} ms** |`,
      `| B. enqueue -> handler start, max | ${fmt(all[all.length - 1] ?? NaN)} ms |`,
      '',
      `Latency samples: ${all.length.toLocaleString('en-US')} (every job of phase B). The time is taken just before the`,
      'enqueueMany call that carries the job (every 10 ms, the jobs due), so it includes the ENQUEUE round trip with',
      "its fsync, the CLAIM, and the worker process's event loop.",
      '',
    ].join('\n');
    process.stdout.write(report);
    if (out) fs.writeFileSync(out, report);
  } finally {
    for (const c of children) c.disconnect();
    await Promise.all(
      children.map(
        (c) =>
          new Promise((r) => {
            if (c.exitCode !== null) r(null);
            else c.once('exit', r);
          }),
      ),
    );
    await queue.close();
    await broker.cleanup();
  }
}

if (process.argv.includes('--role') && process.argv[process.argv.indexOf('--role') + 1] === 'worker') {
  void workerMain();
} else {
  main().catch((err: Error) => {
    console.error(err);
    process.exit(1);
  });
}
