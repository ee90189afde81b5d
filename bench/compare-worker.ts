/**
 * The worker process of `npm run bench` (forked by bench/compare.ts): ONE
 * consumer of one system with the given concurrency. Counts every job by its
 * seq (exactly-once check) and records enqueue -> handler-start latency.
 *
 * env: BENCH_SYSTEM, BENCH_PORT, BENCH_JOBS (expected count), BENCH_CONCURRENCY
 */
import { makeConsumer, now, parsePayload, System } from './compare-systems';

export type FromWorker =
  { ev: 'ready' } | { ev: 'done'; at: number } | { ev: 'report'; distinct: number; duplicates: number; foreign: number; latencies: number[]; errors: string[] };
export type ToWorker = { cmd: 'report' };

async function main(): Promise<void> {
  const system = process.env.BENCH_SYSTEM as System;
  const port = Number(process.env.BENCH_PORT);
  const n = Number(process.env.BENCH_JOBS);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
  const seen = new Uint8Array(n);
  const latencies = new Float64Array(n);
  let distinct = 0;
  let duplicates = 0;
  let foreign = 0;
  const errors: string[] = [];
  const send = (m: FromWorker) => process.send!(m);

  const consumer = await makeConsumer(
    system,
    port,
    concurrency,
    (payload) => {
      const start = now();
      const { seq, t } = parsePayload(payload);
      if (!(seq >= 0 && seq < n)) {
        foreign++;
        return;
      }
      if (seen[seq]++ > 0) {
        duplicates++;
        return;
      }
      latencies[seq] = start - t;
      if (++distinct === n) send({ ev: 'done', at: now() });
    },
    (err) => {
      if (errors.length < 20) errors.push(err.message);
    },
  );
  process.on('message', (m: ToWorker) => {
    if (m.cmd !== 'report') return;
    const report: FromWorker = { ev: 'report', distinct, duplicates, foreign, latencies: Array.from(latencies), errors };
    // exit only once the (large) message is out: process.exit drops a pending IPC send
    process.send!(report, undefined, {}, () => {
      void Promise.race([consumer.close(), new Promise((r) => setTimeout(r, 1000))]).finally(() => process.exit(0));
    });
  });
  send({ ev: 'ready' });
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
