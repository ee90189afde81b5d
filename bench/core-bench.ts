/**
 * Broker core figures, side by side in one run (ratios, since machines are noisy):
 *  - redis-benchmark ENQUEUE against resq vs LPUSH against a stock redis-server, -P 1 and -P 16
 *  - RSS of resq holding 1,000,000 queued jobs of 100 bytes
 * Run: npm run build && node dist/bench/core-bench.js [--out bench/results/core-bench.md]
 * Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { startBroker } from '../test/helpers/broker';
import { startRedisServer } from './redis-server';

const N = Number(process.env.BENCH_N ?? 200_000);
const CLIENTS = 50;

function benchmark(port: number, pipeline: number, command: string[]): number {
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-n', String(N), '-c', String(CLIENTS), '-P', String(pipeline), '-q', ...command], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const m = /([\d.]+) requests per second/.exec(out.split('\r').pop() ?? out) ?? /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`cannot read redis-benchmark output: ${out.slice(-300)}`);
  return Number(m[1]);
}

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function main(): Promise<void> {
  const outFile = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : undefined;
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  say(`# Broker core benchmark`);
  say('');
  say(`Command: \`npm run build && node dist/bench/core-bench.js --out bench/results/core-bench.md\``);
  say(`Machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  say(`redis-benchmark -n ${N} -c ${CLIENTS}; payload 'payload' (7 bytes).`);
  say('');

  const modes: Array<[string, Record<string, string>]> = [
    ['resq appendfsync always (default)', {}],
    ['resq appendfsync everysec', { appendfsync: 'everysec' }],
  ];
  say('| server | command | -P 1 req/s | -P 16 req/s |');
  say('|---|---|---|---|');
  const version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ')[2];
  // the stock configuration (no AOF), and AOF with fsync always, the Redis setting closest to resq's default
  let redisP1 = 0;
  let redisP16 = 0;
  for (const [label, extra] of [
    ['stock, no AOF', ['--appendonly', 'no']],
    ['appendonly yes, appendfsync always', ['--appendonly', 'yes', '--appendfsync', 'always']],
  ] as const) {
    const redis = await startRedisServer([...extra]);
    const p1 = benchmark(redis.port, 1, ['LPUSH', 'q', 'payload']);
    const p16 = benchmark(redis.port, 16, ['LPUSH', 'q', 'payload']);
    redis.proc.kill('SIGKILL');
    if (redisP1 === 0) [redisP1, redisP16] = [p1, p16];
    say(`| redis-server ${version} (${label}) | LPUSH q payload | ${p1.toFixed(0)} | ${p16.toFixed(0)} |`);
  }
  const ratios: string[] = [];
  for (const [label, settings] of modes) {
    const broker = await startBroker(settings);
    try {
      const p1 = benchmark(broker.port, 1, ['ENQUEUE', 'q', 'payload']);
      const p16 = benchmark(broker.port, 16, ['ENQUEUE', 'q', 'payload']);
      say(`| ${label} | ENQUEUE q payload | ${p1.toFixed(0)} | ${p16.toFixed(0)} |`);
      ratios.push(`${label}: ${(p1 / redisP1).toFixed(2)}x of stock Redis LPUSH at -P 1, ${(p16 / redisP16).toFixed(2)}x at -P 16`);
    } finally {
      await broker.cleanup();
    }
  }
  say('');
  for (const r of ratios) say(`- ${r}`);
  say('');

  // memory: 1M queued jobs of 100 bytes
  const broker = await startBroker({ appendfsync: 'no', 'snapshot-log-size': '0' });
  try {
    const payload = 'x'.repeat(100);
    const before = rssOf(broker.proc.pid!);
    execFileSync('redis-benchmark', ['-p', String(broker.port), '-n', '1000000', '-c', '10', '-P', '64', '-q', 'ENQUEUE', 'mem', payload], { stdio: 'ignore' });
    const jobs = Number(execFileSync('redis-cli', ['-p', String(broker.port), 'DBSIZE'], { encoding: 'utf8' }).trim());
    const after = rssOf(broker.proc.pid!);
    say(`## Memory`);
    say('');
    say(
      `${jobs} queued jobs of 100-byte payloads: RSS ${(after / 1048576).toFixed(0)} MB (empty broker ${(before / 1048576).toFixed(0)} MB), ` +
        `${((after - before) / jobs).toFixed(0)} bytes per job.`,
    );
  } finally {
    await broker.cleanup();
  }
  if (outFile) fs.writeFileSync(outFile, lines.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
