/**
 * Retention keeps memory flat: pushes N jobs (default 5,000,000) of 100 bytes
 * through ENQUEUE -> CLAIM -> ACK with pipelined ioredis batches and samples
 * the broker's RSS as it goes. With completed-max 10000 (the default) RSS
 * must stop growing once retention starts removing completed jobs.
 * Run: npm run build && node dist/bench/retention-bench.js [--jobs N] [--out bench/results/retention-bench.md]
 */
import * as fs from 'fs';
import * as os from 'os';
import Redis from 'ioredis';
import { startBroker } from '../test/helpers/broker';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const total = Number(arg('--jobs', '5000000'));
  const out = arg('--out', '');
  const batch = 2000;
  const fsync = arg('--appendfsync', 'everysec');
  const broker = await startBroker({ appendfsync: fsync });
  const producer = new Redis(broker.port);
  const worker = new Redis(broker.port);
  const payload = 'x'.repeat(100);
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  say('# Retention benchmark: RSS while jobs flow through ENQUEUE -> CLAIM -> ACK');
  say('');
  say(`Command: \`npm run build && node dist/bench/retention-bench.js --jobs ${total} --out bench/results/retention-bench.md\``);
  say(
    `Machine: ${os.cpus().length} cores, Node ${process.version}; broker defaults except appendfsync ${fsync} (completed-max 10000, completed-retention 1 h).`,
  );
  say(`Batches of ${batch}: ENQUEUE pipelined, then CLAIM COUNT ${batch}, then the ACKs pipelined.`);
  say('');
  say('| jobs done | RSS MB | jobs stored (DBSIZE) | jobs/s so far |');
  say('|---|---|---|---|');
  const started = Date.now();
  const sampleEvery = Math.max(batch, Math.floor(total / 20 / batch) * batch);
  let done = 0;
  let peakAfterHalf = 0;
  let atHalf = 0;
  while (done < total) {
    const enq = producer.pipeline();
    for (let i = 0; i < batch; i++) enq.call('ENQUEUE', 'flow', payload);
    await enq.exec();
    const claimed = (await worker.call('CLAIM', 'flow', 'COUNT', String(batch))) as [string, string, string, number][];
    const acks = worker.pipeline();
    for (const [id, , , d] of claimed) acks.call('ACK', id, 'DELIVERY', String(d));
    await acks.exec();
    done += claimed.length;
    if (done % sampleEvery === 0 || done >= total) {
      const rss = rssMb(broker.proc.pid!);
      if (done >= total / 2) {
        if (atHalf === 0) atHalf = rss;
        peakAfterHalf = Math.max(peakAfterHalf, rss);
      }
      const stored = await producer.call('DBSIZE');
      say(`| ${done} | ${rss.toFixed(0)} | ${stored} | ${Math.round(done / ((Date.now() - started) / 1000))} |`);
    }
  }
  say('');
  say(
    `RSS at half-way ${atHalf.toFixed(0)} MB, peak over the second half ${peakAfterHalf.toFixed(0)} MB ` +
      `(${(((peakAfterHalf - atHalf) / atHalf) * 100).toFixed(1)}% growth while another ${total / 2} jobs went through).`,
  );
  producer.disconnect();
  worker.disconnect();
  await broker.cleanup();
  if (out) fs.writeFileSync(out, lines.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
