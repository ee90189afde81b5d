/**
 * `npm run bench`: resq side by side with a stock redis-server, in one run
 * (issue 11). Parts (all by default; `--only rb,e2e,latency,scale,engine`):
 *
 *  rb       redis-benchmark: resq PING / ENQUEUE vs Redis PING / LPUSH, and a
 *           CLAIM+ACK pair (resq) vs an LMOVE+LREM pair (Redis, the reliable
 *           list pattern) through a small pipelined Node client; -P 1 and -P 16, 50 clients
 *  e2e      N jobs (default 100,000) enqueued in batches of 1000, consumed by ONE
 *           worker process with concurrency 50: resq SDK, resq raw commands,
 *           BullMQ, bee-queue, Redis Streams, Redis list
 *  latency  one job at a time at 2,000/s and 5,000/s for 10 s: enqueue -> handler start
 *  scale    resq RSS with 1,000,000 queued 100-byte jobs; restart after SIGKILL with/without snapshot
 *  engine   the Engine in process (bench/engine-bench.ts)
 *
 * Every e2e and latency run checks that each job was handled exactly once
 * (ids counted in the worker); any loss or duplicate is FAILED and the exit
 * code is 1. Results: bench/results/compare-YYYY-MM-DD.{md,json} and compare-latest.md.
 *
 * Flags: --only parts  --jobs N  --systems a,b  --duration s  --rates 2000,5000
 *        --concurrency 50  --rb-requests N  --scale-jobs N  --engine-jobs N
 *        --out-dir bench/results  --no-write
 *        --resq-set "name value[,name value]"  (settings for every resq started, e.g. "lease-durability fsync")
 */
import { ChildProcess, execFileSync, fork, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import RedisParser from 'redis-parser';
import { readyPorts } from '../test/helpers/broker';
import { startRedisServer } from './redis-server';
import { FromWorker, ToWorker } from './compare-worker';
import { isResq, makePayload, makeProducer, now, PAYLOAD_BYTES, System, SYSTEMS } from './compare-systems';
import type { EngineBenchResult } from './engine-bench';

// ---- options -----------------------------------------------------------------

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const PARTS = ['rb', 'e2e', 'latency', 'scale', 'engine'] as const;
const only = arg('only', PARTS.join(',')).split(',');
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part ${p} (${PARTS.join(', ')})`);
const OPT = {
  jobs: Number(arg('jobs', '100000')),
  systems: arg('systems', SYSTEMS.join(',')).split(',') as System[],
  duration: Number(arg('duration', '10')),
  rates: arg('rates', '2000,5000').split(',').map(Number),
  concurrency: Number(arg('concurrency', '50')),
  rbRequests: Number(arg('rb-requests', '100000')),
  scaleJobs: Number(arg('scale-jobs', '1000000')),
  engineJobs: Number(arg('engine-jobs', '1000000')),
  outDir: arg('out-dir', 'bench/results'),
  write: !process.argv.includes('--no-write'),
  resqSettings: Object.fromEntries(
    arg('resq-set', '')
      .split(',')
      .filter((p) => p.trim() !== '')
      .map((p) => p.trim().split(/\s+/, 2)),
  ) as Record<string, string>,
};
for (const s of OPT.systems) if (!SYSTEMS.includes(s)) throw new Error(`--systems: unknown ${s} (${SYSTEMS.join(', ')})`);
const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/resq-server');
const CLK_TCK = 100;

// ---- processes -----------------------------------------------------------------

interface Server {
  kind: 'resq' | 'redis';
  port: number;
  httpPort: number;
  dir: string;
  proc: ChildProcess;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s), then remove the dir */
  close(): Promise<void>;
}

function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

async function stopProc(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  p.kill(signal);
  await waitExit(p);
  clearTimeout(t);
}

/** resq with fsync always (its default); RESQ_NODE_ARGS adds node flags (e.g. --cpu-prof) */
export async function startResq(settings: Record<string, string> = {}, dir?: string, port?: number): Promise<Server> {
  const ownDir = dir === undefined;
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'resq-cmp-'));
  const nodeArgs = (process.env.RESQ_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, BIN, '--port', String(port ?? 0), '--dir', dir, '--log-level', 'warn'];
  for (const [k, v] of Object.entries({ ...OPT.resqSettings, ...settings })) args.push(`--${k}`, v);
  // the loop-delay histogram at 1 ms resolution (default 10 ms hides every stall below that)
  const env = { ...process.env, RESQ_EVENTLOOP_RESOLUTION_MS: process.env.RESQ_EVENTLOOP_RESOLUTION_MS ?? '1' };
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let ports = { port: 0, httpPort: 0 };
  await new Promise<void>((resolve, reject) => {
    const on = (d: Buffer) => {
      out += d.toString();
      const ready = readyPorts(out);
      if (ready) {
        ports = ready;
        resolve();
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (c, s) => reject(new Error(`resq-server exited (${c ?? s}) before ready:\n${out}`)));
  });
  proc.removeAllListeners('exit');
  return {
    kind: 'resq',
    port: ports.port,
    httpPort: ports.httpPort,
    dir,
    proc,
    pid: proc.pid!,
    close: async () => {
      await stopProc(proc);
      if (ownDir) fs.rmSync(dir!, { recursive: true, force: true });
    },
  };
}

/** stock redis-server: AOF everysec, loopback, a free port, temp dir, no RDB saves */
async function startRedis(): Promise<Server> {
  const { port, proc, dir } = await startRedisServer(['--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec']);
  return {
    kind: 'redis',
    port,
    httpPort: 0,
    dir,
    proc,
    pid: proc.pid!,
    close: async () => {
      await stopProc(proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function cli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the fields of /proc/PID/stat after the command name (f[0] is field 3, the state) */
function procStat(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in µs */
function cpuMicros(pid: number): number {
  const f = procStat(pid);
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}

/** minor page faults of a process so far (first touches of fresh memory: 12-16 µs each on the VMs measured) */
function minorFaults(pid: number): number {
  return Number(procStat(pid)[7]);
}

function writeBytes(pid: number): number {
  try {
    return Number(/write_bytes: (\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  } catch {
    return NaN;
  }
}

function dirBytes(dir: string): number {
  let sum = 0;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const st = fs.statSync(path.join(dir, String(f)));
    if (st.isFile()) sum += st.size;
  }
  return sum;
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

// ---- report ---------------------------------------------------------------------

const md: string[] = [];
const json: Record<string, unknown> = {};
let failed = false;
function say(s = ''): void {
  console.log(s);
  md.push(s);
}
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---- part 1: redis-benchmark and the CLAIM+ACK pair -----------------------------------

function redisBenchmark(port: number, n: number, pipeline: number, command: string[], clients = 50): number {
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-n', String(n), '-c', String(clients), '-P', String(pipeline), '-q', ...command], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const all = [...out.matchAll(/([\d.]+) requests per second/g)];
  if (all.length === 0) throw new Error(`cannot read redis-benchmark output: ${out.slice(-300)}`);
  return Number(all[all.length - 1][1]);
}

function encode(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/**
 * `clients` connections, each with `pipeline` slots; a slot takes one job
 * (resq: CLAIM q -> ACK id DELIVERY d; Redis: LMOVE q p RIGHT LEFT -> LREM p 1 payload),
 * waits for each reply, and goes again until the queue is empty. Writes of one
 * turn are coalesced per connection, as redis-benchmark -P does. Returns pairs/s.
 */
async function pairBench(kind: 'resq' | 'redis', port: number, clients: number, pipeline: number): Promise<{ perSec: number; pairs: number }> {
  let pairs = 0;
  const t0 = now();
  await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<void>((resolve, reject) => {
          const sock = net.connect(port, '127.0.0.1');
          sock.setNoDelay(true);
          const pending: Array<(r: unknown) => void> = [];
          let out = '';
          const send = (args: string[], cb: (r: unknown) => void) => {
            if (out === '') queueMicrotask(() => (sock.write(out), (out = '')));
            out += encode(args);
            pending.push(cb);
          };
          const parser = new RedisParser({
            returnReply: (r: unknown) => pending.shift()!(r),
            returnError: (e: Error) => reject(e),
          });
          sock.on('data', (d) => parser.execute(d));
          sock.on('error', reject);
          let live = pipeline;
          const slot = () => {
            const done = () => {
              if (--live === 0) {
                sock.end();
                resolve();
              }
            };
            if (kind === 'resq') {
              send(['CLAIM', 'pairs'], (r) => {
                const jobs = r as [string, string, string, number][];
                if (jobs.length === 0) return done();
                send(['ACK', jobs[0][0], 'DELIVERY', String(jobs[0][3])], () => (pairs++, slot()));
              });
            } else {
              send(['LMOVE', 'pairs', 'pairs-processing', 'RIGHT', 'LEFT'], (r) => {
                if (r === null) return done();
                send(['LREM', 'pairs-processing', '1', r as string], () => (pairs++, slot()));
              });
            }
          };
          sock.once('connect', () => {
            for (let i = 0; i < pipeline; i++) slot();
          });
        }),
    ),
  );
  return { perSec: pairs / ((now() - t0) / 1000), pairs };
}

async function partRb(): Promise<void> {
  const n = OPT.rbRequests;
  const payload = 'x'.repeat(PAYLOAD_BYTES);
  say('## 1. redis-benchmark: requests/s, 50 clients, 100-byte payloads');
  say();
  const rows: Record<string, Record<string, number>> = {};
  const tests: Array<[string, string[], string[]]> = [
    ['PING', ['PING'], ['PING']],
    ['ENQUEUE vs LPUSH', ['ENQUEUE', 'q', payload], ['LPUSH', 'q', payload]],
  ];
  for (const P of [1, 16]) {
    for (const kind of ['resq', 'redis'] as const) {
      const srv = kind === 'resq' ? await startResq() : await startRedis();
      try {
        for (const [label, resqCmd, redisCmd] of tests) {
          (rows[label] ??= {})[`${kind} P${P}`] = redisBenchmark(srv.port, n, P, kind === 'resq' ? resqCmd : redisCmd);
        }
        // the pair: pre-fill n jobs (not timed), then drain them with CLAIM+ACK / LMOVE+LREM
        redisBenchmark(srv.port, n, 64, kind === 'resq' ? ['ENQUEUE', 'pairs', payload] : ['LPUSH', 'pairs', payload], 10);
        const filled = Number(cli(srv.port, kind === 'resq' ? 'QLEN' : 'LLEN', 'pairs')); // -P 64 may send a few more than n
        const r = await pairBench(kind, srv.port, 50, P);
        if (r.pairs !== filled) throw new Error(`pair bench on ${kind}: ${r.pairs} pairs of ${filled}`);
        (rows['CLAIM+ACK vs LMOVE+LREM (pairs/s)'] ??= {})[`${kind} P${P}`] = r.perSec;
      } finally {
        await srv.close();
      }
    }
  }
  say('| test | resq -P 1 | Redis -P 1 | ratio | resq -P 16 | Redis -P 16 | ratio |');
  say('|---|---|---|---|---|---|---|');
  for (const [label, r] of Object.entries(rows)) {
    say(
      `| ${label} | ${int(r['resq P1'])} | ${int(r['redis P1'])} | ${f2(r['resq P1'] / r['redis P1'])}x | ${int(r['resq P16'])} | ${int(r['redis P16'])} | ${f2(r['resq P16'] / r['redis P16'])}x |`,
    );
  }
  say();
  say(
    `${int(n)} requests per cell. resq: \`appendfsync always\` (default: ENQUEUE replies wait for their group-commit fsync, CLAIM/ACK replies for the write: \`lease-durability written\`); Redis: AOF \`everysec\`. ` +
      'PING, ENQUEUE, LPUSH: redis-benchmark itself. The pair: a job must be claimed before its id can be acknowledged, so redis-benchmark ' +
      '(fixed commands, `__rand_int__` cannot produce live ids) cannot drive it: the queue is pre-filled with n jobs (untimed), then a ' +
      'small pipelined Node client (50 connections x P slots, raw RESP, writes coalesced per turn) runs `CLAIM pairs` -> `ACK id DELIVERY d` ' +
      'per slot until the queue is empty; the Redis side does the same with `LMOVE pairs pairs-processing RIGHT LEFT` -> `LREM pairs-processing 1 payload` ' +
      '(the reliable-queue pattern). One pair = two round trips; the figure is pairs/s (jobs/s).',
  );
  say();
  json.rb = { requests: n, rows };
}

// ---- parts 2 and 3: one worker process per run -----------------------------------

interface RunResult {
  system: System;
  ok: boolean;
  problem: string;
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  serverCpuUsPerJob: number;
  /** the server's minor page faults per job (memory it touched for the first time) */
  serverFaultsPerJob: number;
  producerCpuUsPerJob: number;
  workerCpuUsPerJob: number;
  diskBytesPerJob: number;
  diskSource: string;
  sendRate?: number;
  latency?: { p50: number; p90: number; p99: number; max: number };
  loopDelay?: Record<string, number> | null;
}

function nextMessage<K extends FromWorker['ev']>(child: ChildProcess, ev: K, timeoutMs: number): Promise<Extract<FromWorker, { ev: K }>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`worker: no '${ev}' within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const on = (m: FromWorker) => {
      if (m.ev === ev) {
        clearTimeout(t);
        child.off('message', on);
        resolve(m as Extract<FromWorker, { ev: K }>);
      }
    };
    child.on('message', on);
  });
}

/** the broker's own event-loop delay, from its /metrics (prom-client's monitorEventLoopDelay; reset at each scrape) */
async function scrapeLoopDelay(srv: Server): Promise<Record<string, number> | null> {
  if (srv.kind !== 'resq' || !srv.httpPort) return null;
  try {
    const text = await (await fetch(`http://127.0.0.1:${srv.httpPort}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^nodejs_eventloop_lag_(p50|p90|p99|max|mean)_seconds (\S+)$/gm)) out[m[1]] = Number(m[2]) * 1000;
    return Object.keys(out).length > 0 ? out : null;
  } catch {
    return null;
  }
}

async function runOne(system: System, mode: 'e2e' | 'latency', rate = 0): Promise<RunResult> {
  const n = mode === 'e2e' ? OPT.jobs : Math.round(rate * OPT.duration);
  const srv = isResq(system) ? await startResq() : await startRedis();
  const child = fork(path.join(__dirname, 'compare-worker.js'), [], {
    env: { ...process.env, BENCH_SYSTEM: system, BENCH_PORT: String(srv.port), BENCH_JOBS: String(n), BENCH_CONCURRENCY: String(OPT.concurrency) },
  });
  const producer = await makeProducer(system, srv.port);
  const result: RunResult = {
    system,
    ok: false,
    problem: '',
    jobs: n,
    seconds: NaN,
    jobsPerSec: NaN,
    serverCpuUsPerJob: NaN,
    serverFaultsPerJob: NaN,
    producerCpuUsPerJob: NaN,
    workerCpuUsPerJob: NaN,
    diskBytesPerJob: NaN,
    diskSource: '',
  };
  try {
    await nextMessage(child, 'ready', 30_000);
    await sleep(200); // let the worker's first CLAIM/XREADGROUP/BRPOP park
    const done = nextMessage(child, 'done', mode === 'e2e' ? 600_000 : (OPT.duration + 120) * 1000);
    done.catch(() => undefined);
    await scrapeLoopDelay(srv); // resets the broker's loop-delay histogram
    const s0 = {
      cpu: cpuMicros(srv.pid),
      faults: minorFaults(srv.pid),
      w: cpuMicros(child.pid!),
      p: process.cpuUsage(),
      io: writeBytes(srv.pid),
      dir: dirBytes(srv.dir),
    };
    const t0 = now();
    if (mode === 'e2e') {
      for (let sent = 0; sent < n; sent += 1000) {
        const k = Math.min(1000, n - sent);
        const t = now();
        await producer.batch(Array.from({ length: k }, (_, i) => makePayload(sent + i, t)));
      }
    } else {
      // one job per call, each stamped just before its own call, paced on a 1 ms timer
      let sent = 0;
      const inflight = new Set<Promise<void>>();
      let sendError: Error | null = null;
      while (sent < n && !sendError) {
        const due = Math.min(n, Math.floor(((now() - t0) / 1000) * rate));
        for (; sent < due; sent++) {
          const p = producer.one(makePayload(sent, now())).catch((e: Error) => void (sendError = e));
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        }
        await sleep(1);
      }
      await Promise.all(inflight);
      if (sendError) throw sendError;
      result.sendRate = n / ((now() - t0) / 1000);
    }
    const { at } = await done;
    const s1 = {
      cpu: cpuMicros(srv.pid),
      faults: minorFaults(srv.pid),
      w: cpuMicros(child.pid!),
      p: process.cpuUsage(s0.p),
      io: writeBytes(srv.pid),
      dir: dirBytes(srv.dir),
    };
    result.loopDelay = await scrapeLoopDelay(srv);
    result.seconds = (at - t0) / 1000;
    result.jobsPerSec = n / result.seconds;
    result.serverCpuUsPerJob = (s1.cpu - s0.cpu) / n;
    result.serverFaultsPerJob = (s1.faults - s0.faults) / n;
    result.workerCpuUsPerJob = (s1.w - s0.w) / n;
    result.producerCpuUsPerJob = (s1.p.user + s1.p.system) / n;
    const io = s1.io - s0.io;
    [result.diskBytesPerJob, result.diskSource] = io > 0 ? [io / n, 'write_bytes'] : [(s1.dir - s0.dir) / n, 'dir size'];
    await sleep(300); // a late duplicate would show up here
    const report = nextMessage(child, 'report', 30_000);
    child.send({ cmd: 'report' } satisfies ToWorker);
    const r = await report;
    const problems: string[] = [];
    if (r.distinct !== n) problems.push(`${n - r.distinct} lost`);
    if (r.duplicates > 0) problems.push(`${r.duplicates} duplicated`);
    if (r.foreign > 0) problems.push(`${r.foreign} unknown`);
    if (r.errors.length > 0) console.error(`  ${system} worker errors: ${r.errors.slice(0, 3).join('; ')}`);
    result.ok = problems.length === 0;
    result.problem = problems.join(', ');
    if (mode === 'latency') {
      const l = r.latencies.sort((a, b) => a - b);
      result.latency = { p50: percentile(l, 50), p90: percentile(l, 90), p99: percentile(l, 99), max: l[l.length - 1] };
    }
  } catch (e) {
    result.ok = false;
    result.problem = (e as Error).message;
  } finally {
    if (!result.ok) failed = true;
    await producer.close().catch(() => undefined);
    await Promise.race([waitExit(child), sleep(3000)]); // it exits on its own after its report
    if (child.exitCode === null) child.kill('SIGKILL');
    await waitExit(child);
    await srv.close();
  }
  const lat = result.latency ? ` p50 ${f2(result.latency.p50)} ms p99 ${f2(result.latency.p99)} ms` : '';
  console.error(`  ${mode} ${system}${rate ? ` @${rate}/s` : ''}: ${result.ok ? 'ok' : `FAILED (${result.problem})`} ${int(result.jobsPerSec)} jobs/s${lat}`);
  return result;
}

const SYSTEM_NOTES: Record<System, string> = {
  'resq-sdk': 'resq SDK (Queue.enqueueMany / Worker, raw codec)',
  'resq-raw': 'resq raw (ENQUEUE pipelines / CLAIM COUNT + ACK)',
  bullmq: 'BullMQ (addBulk / Worker)',
  'bee-queue': 'bee-queue (saveAll / process)',
  'redis-streams': 'Redis Streams (XADD / XREADGROUP + XACK)',
  'redis-list': 'Redis list (LPUSH / RPOP n + BRPOP, no ack)',
};

async function partE2e(): Promise<void> {
  say(`## 2. End to end: ${int(OPT.jobs)} jobs, one worker process, concurrency ${OPT.concurrency}`);
  say();
  const results: RunResult[] = [];
  for (const s of OPT.systems) results.push(await runOne(s, 'e2e'));
  say('| system | jobs/s | server CPU µs/job | server page faults/job | producer CPU µs/job | worker CPU µs/job | disk bytes/job | exactly once |');
  say('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    say(
      `| ${SYSTEM_NOTES[r.system]} | **${int(r.jobsPerSec)}** | ${f1(r.serverCpuUsPerJob)} | ${r.serverFaultsPerJob.toFixed(2)} | ${f1(r.producerCpuUsPerJob)} | ${f1(r.workerCpuUsPerJob)} | ${int(r.diskBytesPerJob)} | ${r.ok ? 'ok' : `**FAILED** (${r.problem})`} |`,
    );
  }
  say();
  say(
    'jobs/s = N / (first enqueue -> the worker has seen all N distinct ids). The producer (this process) sends batches of 1000 ' +
      '(one pipeline / addBulk / saveAll each) while the worker consumes. CPU: utime+stime deltas from /proc/<pid>/stat (10 ms ticks) ' +
      "for the server and the worker process, process.cpuUsage() for the producer. Page faults: the server's minor faults (field 10 of " +
      'the same file) over the run, each a first touch of fresh memory (12-16 µs each on the VMs measured; perf-step-14-restart.md). Disk: /proc/<pid>/io write_bytes of the server ' +
      '(Redis: AOF everysec; resq: its log with fsync always). Each run has a fresh server. BullMQ keeps the last 10,000 completed jobs ' +
      '(as resq does by default); bee-queue removes them on success; Redis Streams XACKs but does not XDEL; the Redis list has no ' +
      'acknowledgement at all (a job popped by a crashing worker is lost): it is the floor, not a peer.',
  );
  say();
  json.e2e = results;
}

async function partLatency(): Promise<void> {
  say(`## 3. Latency: one job at a time, enqueue -> handler start (ms), ${OPT.duration} s per rate`);
  say();
  const results: Array<RunResult & { rate: number }> = [];
  for (const rate of OPT.rates) for (const s of OPT.systems) results.push({ ...(await runOne(s, 'latency', rate)), rate });
  say('| system | rate target / sent | p50 | p90 | p99 | max | broker loop delay p50 / p99 / max | exactly once |');
  say('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const l = r.latency;
    const d = r.loopDelay;
    const loop = !isResq(r.system) ? '-' : d ? `${f1(d.p50)} / ${f1(d.p99)} / ${f1(d.max)}` : 'n/a';
    say(
      `| ${SYSTEM_NOTES[r.system]} | ${int(r.rate)} / ${int(r.sendRate ?? NaN)} | ${f2(l?.p50 ?? NaN)} | ${f2(l?.p90 ?? NaN)} | **${f2(l?.p99 ?? NaN)}** | ${f2(l?.max ?? NaN)} | ${loop} | ${r.ok ? 'ok' : `**FAILED** (${r.problem})`} |`,
    );
  }
  say();
  say(
    'Each job is sent by its own call (no batching by the bench; ioredis may still coalesce writes of one turn), stamped with the time ' +
      "just before that call; the worker process records handler start - stamp (same host clock). The broker loop delay is resq's own " +
      '`nodejs_eventloop_lag_{p50,p99,max}_seconds` from its /metrics (prom-client `monitorEventLoopDelay`, 1 ms resolution set by the bench through RESQ_EVENTLOOP_RESOLUTION_MS, reset at ' +
      'each scrape: scraped just before and just after the run), in ms; "n/a" if the broker does not expose it. Redis has no equivalent here.',
  );
  say();
  json.latency = results;
}

// ---- part 4: scale -------------------------------------------------------------------

async function timeRestart(settings: Record<string, string>, dir: string, port: number): Promise<{ ms: number; srv: Server }> {
  const t0 = now();
  const srvP = startResq(settings, dir, port);
  srvP.catch(() => undefined);
  // PONG and a successful ENQUEUE, polled with redis-cli (the broker may answer LOADING first)
  for (;;) {
    try {
      if (cli(port, 'PING') === 'PONG' && /^\d+$/.test(cli(port, 'ENQUEUE', 'restart', 'x'))) break;
    } catch {
      /* not up */
    }
    if (now() - t0 > 300_000) throw new Error('restart: no PONG + ENQUEUE within 300 s');
    await sleep(5);
  }
  const ms = now() - t0;
  return { ms, srv: await srvP };
}

async function partScale(): Promise<void> {
  const n = OPT.scaleJobs;
  const payload = 'x'.repeat(PAYLOAD_BYTES);
  say(`## 4. Scale: ${int(n)} queued 100-byte jobs`);
  say();
  const settings = { 'snapshot-log-size': '0' }; // no automatic snapshot: the first restart replays the whole log
  let srv = await startResq(settings);
  const dir = srv.dir;
  const port = srv.port;
  const redis = await startRedis();
  const out: Record<string, number> = {};
  try {
    out.resqRssEmpty = rssBytes(srv.pid);
    redisBenchmark(srv.port, n, 64, ['ENQUEUE', 'mem', payload], 10);
    out.jobs = Number(cli(port, 'DBSIZE'));
    out.resqRss = rssBytes(srv.pid);
    out.logBytes = dirBytes(dir);
    out.redisRssEmpty = rssBytes(redis.pid);
    redisBenchmark(redis.port, n, 64, ['LPUSH', 'mem', payload], 10);
    out.redisRss = rssBytes(redis.pid);
    await redis.close();

    srv.proc.kill('SIGKILL');
    await waitExit(srv.proc);
    let r = await timeRestart(settings, dir, port);
    srv = r.srv;
    out.restartLogOnlyMs = r.ms;
    out.rssAfterReplay = rssBytes(srv.pid);
    const t = now();
    cli(port, 'SAVE');
    out.saveMs = now() - t;
    srv.proc.kill('SIGKILL');
    await waitExit(srv.proc);
    r = await timeRestart(settings, dir, port);
    srv = r.srv;
    out.restartSnapshotMs = r.ms;
    out.jobsAfter = Number(cli(port, 'DBSIZE'));
  } finally {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await redis.close().catch(() => undefined);
  }
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  say('| measure | value |');
  say('|---|---|');
  say(
    `| resq RSS, ${int(out.jobs)} jobs queued (empty broker) | **${mb(out.resqRss)}** (${mb(out.resqRssEmpty)}), ${int((out.resqRss - out.resqRssEmpty) / out.jobs)} bytes/job |`,
  );
  say(`| Redis RSS, same jobs as LPUSH (empty) | ${mb(out.redisRss)} (${mb(out.redisRssEmpty)}), ${int((out.redisRss - out.redisRssEmpty) / n)} bytes/job |`);
  say(`| resq log on disk | ${mb(out.logBytes)} |`);
  say(`| restart after SIGKILL, log only (replay) | **${int(out.restartLogOnlyMs)} ms** (RSS after: ${mb(out.rssAfterReplay)}) |`);
  say(`| SAVE (snapshot) | ${int(out.saveMs)} ms |`);
  say(`| restart after SIGKILL, from the snapshot | **${int(out.restartSnapshotMs)} ms** (${int(out.jobsAfter)} jobs after) |`);
  say();
  say(
    'Filled with `redis-benchmark -c 10 -P 64 ENQUEUE mem <100 bytes>` (fsync always, `snapshot-log-size 0` so no automatic snapshot). ' +
      'Restart time: from spawning `bin/resq-server` on the same dir and port until `redis-cli PING` answers PONG and `redis-cli ENQUEUE` ' +
      'returns an id (polled every ~5 ms plus redis-cli start-up, so about 10 ms of resolution).',
  );
  say();
  json.scale = out;
}

// ---- part 5: engine --------------------------------------------------------------------

function partEngine(): void {
  // in a fresh process, so the heap of the rest of the bench does not weigh on it
  const out = execFileSync(process.execPath, [path.join(__dirname, 'engine-bench.js'), '--jobs', String(OPT.engineJobs)], { encoding: 'utf8' });
  const r = JSON.parse(out) as EngineBenchResult;
  say(`## 5. Engine alone, in process: ${int(r.jobs)} jobs (no sockets, no log)`);
  say();
  say('| enqueue | claim (COUNT 1) | ack | whole cycle |');
  say('|---|---|---|---|');
  say(`| ${int(r.enqueuePerSec)}/s | ${int(r.claimPerSec)}/s | ${int(r.ackPerSec)}/s | **${int(r.cyclePerSec)} jobs/s** |`);
  say();
  say(
    `\`node dist/bench/engine-bench.js --jobs ${r.jobs}\`: all enqueued, then all claimed, then all acked, one call per job; heap after the enqueues ${f1(r.heapUsedMB)} MB.`,
  );
  say();
  json.engine = r;
}

// ---- main ----------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const tool of ['redis-server', 'redis-benchmark', 'redis-cli']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      console.error(`${tool} not found. Install the Debian packages: apt-get install -y redis-server redis-tools`);
      process.exit(2);
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const redisVersion = /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  const dep = (name: string) => (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const command = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  const load = os.loadavg();
  const machine = {
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.platform()} ${os.release()}`,
    node: process.version,
    redis: redisVersion,
    bullmq: dep('bullmq'),
    beeQueue: dep('bee-queue'),
    loadAtStart: load,
  };
  json.date = new Date().toISOString();
  json.command = command;
  json.machine = machine;
  json.options = OPT;
  say(`# resq vs Redis, side by side (${date})`);
  say();
  say(`Command: \`${command}\` (builds with \`tsc -p .\`, then \`node dist/bench/compare.js\`)`);
  say();
  say(
    `Machine: ${machine.cores} x ${machine.cpu}, ${machine.memGiB} GiB, ${machine.kernel}, Node ${machine.node}; redis-server ${redisVersion}, ` +
      `BullMQ ${machine.bullmq}, bee-queue ${machine.beeQueue}; load average at start ${load.map((x) => x.toFixed(2)).join(' / ')} ` +
      '(a shared machine: compare within a run, as ratios).',
  );
  say(
    `Servers: resq \`appendfsync always\`, \`lease-durability written\` (its defaults); redis-server AOF \`everysec\`, loopback, ephemeral port, temp dir (${os.tmpdir()}).`,
  );
  say();
  const started = Date.now();
  if (only.includes('rb')) await partRb();
  if (only.includes('e2e')) await partE2e();
  if (only.includes('latency')) await partLatency();
  if (only.includes('scale')) await partScale();
  if (only.includes('engine')) partEngine();
  say(
    `Total bench time ${((Date.now() - started) / 1000).toFixed(0)} s. ${failed ? '**Some runs FAILED the exactly-once check (see above).**' : 'Every e2e and latency run: each job handled exactly once.'}`,
  );
  json.failed = failed;
  if (OPT.write) {
    fs.mkdirSync(OPT.outDir, { recursive: true });
    const text = md.join('\n') + '\n';
    fs.writeFileSync(path.join(OPT.outDir, `compare-${date}.md`), text);
    fs.writeFileSync(path.join(OPT.outDir, `compare-${date}.json`), JSON.stringify(json, null, 2) + '\n');
    fs.writeFileSync(path.join(OPT.outDir, 'compare-latest.md'), text);
    try {
      // the tree is checked with prettier --check (npm run lint): write the files in its style
      const files = [`compare-${date}.md`, `compare-${date}.json`, 'compare-latest.md'].map((f) => path.join(OPT.outDir, f));
      execFileSync(path.join(ROOT, 'node_modules/.bin/prettier'), ['--write', ...files], { stdio: 'ignore' });
    } catch {
      /* formatting is a nicety */
    }
    console.error(`wrote ${OPT.outDir}/compare-${date}.{md,json} and compare-latest.md`);
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
