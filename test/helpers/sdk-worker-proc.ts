/**
 * A worker process for the multi-host test (test/client-multihost.test.ts):
 * its own connections to RESQ_URL, one JSON line on stdout per event.
 *
 * env: RESQ_URL, QUEUE, CONCURRENCY (default 2), LEASE ms (default 1000),
 * JOB_MS (handler duration, default 100), NAME (reported in every line),
 * REQUEUE_ON_CLOSE (1: the Worker's requeueOnClose option).
 */
import { Worker } from '../../client';

const name = process.env.NAME ?? String(process.pid);
const jobMs = Number(process.env.JOB_MS ?? 100);

function report(ev: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ ev, worker: name, ...fields }) + '\n');
}

const worker = new Worker<{ i: number }, string>(
  process.env.QUEUE ?? 'multihost',
  async (job) => {
    await new Promise((r) => setTimeout(r, jobMs));
    return `${name}:${job.data.i}`;
  },
  {
    connection: process.env.RESQ_URL,
    concurrency: Number(process.env.CONCURRENCY ?? 2),
    lease: Number(process.env.LEASE ?? 1000),
    block: 200,
    requeueOnClose: process.env.REQUEUE_ON_CLOSE === '1',
  },
);

worker.on('active', (job) => report('start', { id: job.id, delivery: job.delivery }));
worker.on('completed', (job, _result, acked) => report('ack', { id: job.id, delivery: job.delivery, acked }));
worker.on('failed', (job, err, state) => report('failed', { id: job.id, delivery: job.delivery, error: err.message, state }));
worker.on('stalled', (job, during) => report('stalled', { id: job.id, delivery: job.delivery, during }));
worker.on('error', (err) => process.stderr.write(`worker ${name}: ${err.message}\n`));

process.once('SIGTERM', () => {
  void worker.close(5000).then(() => {
    report('closed');
    process.exit(0);
  });
});
report('ready');
