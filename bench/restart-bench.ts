/**
 * Restart time, A/B: `node dist/bench/restart-bench.js --root A --root B [--fixture DIR] [--runs 3] [--log-level warn]`.
 *
 * Each root is a checkout with bin/resq-server and a built dist/ (e.g. a copy
 * of the old build next to the worktree). Runs alternate A, B, A, B, ... so a
 * shared, noisy machine slows both alike. Each run copies the fixture data
 * directory (none: an empty directory) to a fresh one and times, as
 * compare.ts --only scale does, from spawning `bin/resq-server --port P --dir
 * D` until `redis-cli PING` answers PONG and an ENQUEUE succeeds; also the
 * broker's own CPU time (user + sys, /proc) by then, which a busy machine
 * disturbs less than the wall-clock time.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

function args(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => a === `--${name}` && i + 1 < process.argv.length && out.push(process.argv[i + 1]));
  return out;
}
const roots = args('root').map((r) => path.resolve(r));
const fixture = args('fixture')[0];
const runs = Number(args('runs')[0] ?? '3');
const port = Number(args('port')[0] ?? '7420');
const logLevel = args('log-level')[0] ?? 'warn';
const nodeArgs = (args('node-args')[0] ?? '').split(' ').filter(Boolean);
if (roots.length === 0) throw new Error('--root DIR (repeatable)');

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cli(...a: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

/** user + sys CPU ms of a process so far */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime, stime in clock ticks of 10 ms
}

async function once(root: string): Promise<{ ms: number; cpu: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-restart-'));
  if (fixture) fs.cpSync(fixture, dir, { recursive: true });
  // the copy's dirty pages out first: else the broker's first fsync waits for them (ext4 commits them with its journal)
  execFileSync('sync');
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/resq-server'), '--port', String(port), '--dir', dir, '--log-level', logLevel], {
    stdio: 'ignore',
  });
  const t0 = now();
  try {
    for (;;) {
      try {
        if (cli('PING') === 'PONG' && /^\d+$/.test(cli('ENQUEUE', 'restart', 'x'))) return { ms: now() - t0, cpu: cpuMs(proc.pid!) };
      } catch {
        /* not up */
      }
      if (now() - t0 > 120_000) throw new Error(`${root}: no PONG + ENQUEUE within 120 s`);
      await sleep(5);
    }
  } finally {
    proc.kill('SIGTERM');
    await exited(proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const times = new Map<string, { ms: number[]; cpu: number[] }>(roots.map((r) => [r, { ms: [], cpu: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const r of roots) {
      const { ms, cpu } = await once(r);
      times.get(r)!.ms.push(ms);
      times.get(r)!.cpu.push(cpu);
      console.log(`run ${i + 1} ${r}: ${ms.toFixed(0)} ms (CPU ${cpu} ms)`);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const list = (a: number[]) => a.map((x) => x.toFixed(0)).join(', ');
  for (const [r, t] of times) {
    console.log(
      `${r}: median ${median(t.ms).toFixed(0)} ms, min ${Math.min(...t.ms).toFixed(0)} ms (${list(t.ms)}); CPU median ${median(t.cpu)} ms (${list(t.cpu)})`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
