/**
 * How many ACK commands a consume run sends, and the broker's handler time in
 * them (INFO commandstats), for the tree given (its bin/resq-server and its
 * SDK in client/dist), so that two builds can be compared A/B:
 *   node dist/bench/ack-stats.js /path/to/tree [--jobs 50000] [--concurrency 50]
 * The queue is filled first (enqueueMany, 1000 per call), then one Worker
 * (raw codec) drains it. Used for bench/results/perf-step-4.md.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readyPorts } from '../test/helpers/broker';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const tree = path.resolve(process.argv[2] ?? path.join(__dirname, '../..'));
  const jobs = Number(arg('jobs', '50000'));
  const concurrency = Number(arg('concurrency', '50'));
  // the SDK of that tree, not this one's
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require(path.join(tree, 'client/dist')) as typeof import('../client');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ack-stats-'));
  const proc = spawn(process.execPath, [path.join(tree, 'bin/resq-server'), '--port', '0', '--http-port', '0', '--dir', dir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const on = (d: Buffer) => {
      out += d.toString();
      const ready = readyPorts(out);
      if (ready) resolve(ready.port);
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', () => reject(new Error(`broker exited:\n${out}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  const queue = new sdk.Queue<Buffer>(url, { codec: 'raw' });
  for (let i = 0; i < jobs; i += 1000)
    await queue.enqueueMany(
      'acks',
      Array.from({ length: Math.min(1000, jobs - i) }, () => ({ payload: Buffer.alloc(100, 'x') })),
    );
  let done = 0;
  const t0 = Date.now();
  const worker = new sdk.Worker<Buffer>('acks', () => void done++, { connection: url, concurrency, codec: 'raw', block: 1000 });
  while (done < jobs) await new Promise((r) => setTimeout(r, 20));
  await worker.close();
  const ms = Date.now() - t0;
  const info = String(await queue.redis.call('INFO', 'commandstats'));
  const stat = (c: string) => {
    const m = new RegExp(`cmdstat_${c}:calls=(\\d+),usec=(\\d+)`).exec(info);
    return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
  };
  const ack = stat('ack');
  const claim = stat('claim');
  console.log(
    JSON.stringify({
      tree,
      consumeJobsPerSec: Math.round((jobs / ms) * 1000),
      ackCalls: ack.calls,
      idsPerAck: Number((jobs / Math.max(1, ack.calls)).toFixed(1)),
      ackUsecPerJob: Number((ack.usec / jobs).toFixed(2)),
      claimCalls: claim.calls,
      jobsPerClaim: Number((jobs / Math.max(1, claim.calls)).toFixed(1)),
      claimUsecPerJob: Number((claim.usec / jobs).toFixed(2)),
    }),
  );
  await queue.close();
  proc.removeAllListeners('exit');
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
