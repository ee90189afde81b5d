/**
 * CLAIM with 1, 1,000 and 100,000 groups side by side (issue 14: "claims stay
 * O(log n) with 100,000 groups"). Two parts, one run:
 *
 *  - inproc: the engine alone (memory-only journal, no sockets, as in
 *    engine-bench). N jobs of 100 bytes enqueued round-robin over G groups
 *    (job i in group g<i mod G>; "none" = no GROUP option), then claimed
 *    (COUNT 1, one call per job) and acknowledged by a worker holding at most
 *    WINDOW jobs: claim until WINDOW are held or a claim comes back empty, ack
 *    them all, again until all N are done. Plain groups, then GROUP-CONCURRENCY
 *    1 (ordered groups), then a GROUP-RATE that never binds (the token path
 *    runs on every claim). Rounds interleaved (each round in a rotated order)
 *    to show the noise. Heap per job after the enqueues (after a full GC).
 *  - wire: bin/resq-server (port 0, temp dir, appendfsync everysec, no
 *    automatic snapshot), a fresh broker per case: pre-fill with ioredis
 *    pipelines (ENQUEUE q payload GROUP g<i mod G>), RSS, then redis-benchmark
 *    CLAIM q (50 clients, -P 16), ACK of every id, pre-fill again, then
 *    CLAIM -> ACK batches over ioredis pipelines; the broker's CPU per claim
 *    from /proc.
 *
 * Run: npm run bench:groups (builds, then
 *   node --expose-gc dist/bench/group-bench.js --out bench/results/group-bench.md)
 * Options: --jobs N (inproc, 200000), --wire-jobs N (100000), --rounds R (5),
 * --wire-rounds R (3), --only inproc|wire, --groups 0,1000 (these G only; 0 =
 * no GROUP; e.g. for --cpu-prof), --limits none,concurrency,rate, --out FILE. Needs redis-benchmark (Debian: redis-tools).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { performance } from 'perf_hooks';
import Redis from 'ioredis';
import { GroupLimits, NO_LIMITS } from '../server/engine/flow-limits';
import { EnqueueOptions } from '../server/engine/enqueue-options';
import { startBroker } from '../test/helpers/broker';
import { makeEngine } from './engine-bench';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const N = Number(arg('jobs', '200000'));
const WIRE_N = Number(arg('wire-jobs', '100000'));
const ROUNDS = Number(arg('rounds', '5'));
const WIRE_ROUNDS = Number(arg('wire-rounds', '3'));
const ONLY = arg('only', 'inproc,wire').split(',');
const ONLY_G = process.argv.includes('--groups') ? arg('groups', '0').split(',').map(Number) : null;
const OUT = arg('out', '');
const WINDOW = 100;
const PAYLOAD = 'x'.repeat(100);
/** 0 = no GROUP option at all */
const GROUP_COUNTS = ONLY_G ?? [0, 1, 1000, 100_000];

const gc = (globalThis as { gc?: () => void }).gc;
const collect = () => {
  if (gc) {
    gc();
    gc();
  }
};

// ---- report -----------------------------------------------------------------------

const md: string[] = [];
function say(s = ''): void {
  console.log(s);
  md.push(s);
}
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const gLabel = (g: number) => (g === 0 ? 'none (no GROUP)' : g.toLocaleString('en-US'));

// ---- part 1: the engine in process --------------------------------------------------

interface Variant {
  name: string;
  limits: GroupLimits;
  /** groups counts this variant runs with (limits do not apply to ungrouped jobs) */
  groups: number[];
}
const ALL_VARIANTS: Variant[] = [
  { name: 'no group limits', limits: NO_LIMITS, groups: GROUP_COUNTS },
  { name: 'GROUP-CONCURRENCY 1 (ordered groups)', limits: { concurrency: 1, rate: null, maxlen: null }, groups: GROUP_COUNTS.filter((g) => g > 0) },
  {
    name: 'GROUP-RATE 1000000 PER 1000 (never binds)',
    limits: { concurrency: null, rate: { rate: 1_000_000, per: 1000 }, maxlen: null },
    groups: GROUP_COUNTS.filter((g) => g > 0),
  },
];
const LIMITS = arg('limits', 'none,concurrency,rate').split(',');
const VARIANTS = ALL_VARIANTS.filter((_, i) => LIMITS.includes(['none', 'concurrency', 'rate'][i]));

interface InprocResult {
  enqueuePerSec: number;
  enqueueCpuNs: number;
  claimNs: number;
  ackNs: number;
  /** CPU time of this process (user + system, all its threads: GC helpers too) in CLAIM / ACK, per job */
  claimCpuNs: number;
  ackCpuNs: number;
  cyclePerSec: number;
  heapPerJob: number;
  claimCalls: number;
  groupsLeft: number;
}

function runInproc(v: Variant, groups: number, n: number): InprocResult {
  collect();
  const heap0 = process.memoryUsage().heapUsed;
  const engine = makeEngine();
  if (v.limits !== NO_LIMITS) engine.configureQueue('q', { groupDefaults: v.limits });
  // one options object per group, made before the clock starts
  const opts: EnqueueOptions[] = groups === 0 ? [{}] : Array.from({ length: groups }, (_, i) => ({ group: `g${i}` }));
  const e0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) engine.enqueue('q', PAYLOAD, opts[i % opts.length]);
  const t1 = performance.now();
  const e1 = process.cpuUsage(e0);
  const enqueueCpuNs = ((e1.user + e1.system) * 1e3) / n;
  collect();
  const heapPerJob = (process.memoryUsage().heapUsed - heap0) / n;

  const req = { count: 1, owner: 1 };
  const held: string[] = [];
  let done = 0;
  let acked = 0;
  let claimCalls = 0;
  let claimMs = 0;
  let ackMs = 0;
  let batches = 0;
  let claimCpu = 0;
  let ackCpu = 0;
  const cpuNow = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  while (done < n) {
    const ca = cpuNow();
    const a = performance.now();
    while (held.length < WINDOW) {
      claimCalls++;
      const got = engine.claim('q', req);
      if (got.length === 0) break;
      held.push(got[0].id);
    }
    const b = performance.now();
    const cb = cpuNow();
    if (held.length === 0) throw new Error(`${v.name}, ${groups} groups: no job claimable after ${done} of ${n}`);
    for (const id of held) acked += engine.ack(id, null);
    done += held.length;
    held.length = 0;
    // what the broker's timer does: forget idle groups whose rate bucket is full again
    if ((++batches & 15) === 0) engine.tick(Date.now());
    ackMs += performance.now() - b;
    ackCpu += cpuNow() - cb;
    claimMs += b - a;
    claimCpu += cb - ca;
  }
  engine.tick(Date.now() + 10_000);
  if (acked !== n) throw new Error(`${v.name}, ${groups} groups: acked ${acked} of ${n}`);
  const groupsLeft = engine.largestGroups('q', 10).length;
  return {
    enqueuePerSec: n / ((t1 - t0) / 1000),
    enqueueCpuNs,
    claimNs: (claimMs * 1e6) / n,
    ackNs: (ackMs * 1e6) / n,
    claimCpuNs: (claimCpu * 1e3) / n,
    ackCpuNs: (ackCpu * 1e3) / n,
    cyclePerSec: n / ((claimMs + ackMs) / 1000),
    heapPerJob,
    claimCalls,
    groupsLeft,
  };
}

function partInproc(): void {
  say(`## 1. Engine in process: ${int(N)} jobs, CLAIM COUNT 1 + ACK, worker window ${WINDOW}`);
  say();
  const cases: Array<[Variant, number]> = [];
  for (const v of VARIANTS) for (const g of v.groups) cases.push([v, g]);
  const results = new Map<string, InprocResult[]>();
  const key = (v: Variant, g: number) => `${v.name}|${g}`;
  runInproc(VARIANTS[0], 1000, Math.min(N, 50_000)); // warm-up, not reported
  for (let r = 0; r < ROUNDS; r++) {
    const order = cases.map((_, i) => cases[(i + r * 3) % cases.length]);
    for (const [v, g] of order) {
      const res = runInproc(v, g, N);
      (results.get(key(v, g)) ?? results.set(key(v, g), []).get(key(v, g))!).push(res);
      console.error(
        `round ${r + 1}: ${v.name}, G=${g}: claim ${res.claimCpuNs.toFixed(0)} cpu ns (${res.claimNs.toFixed(0)} wall), ack ${res.ackCpuNs.toFixed(0)} cpu ns, enqueue ${int(res.enqueuePerSec)}/s`,
      );
    }
  }
  const base = results.get(key(VARIANTS[0], GROUP_COUNTS[0]))!;
  const baseClaim = median(base.map((x) => x.claimCpuNs));
  const baseCycle = median(base.map((x) => x.cyclePerSec));
  say(
    `Medians of ${ROUNDS} interleaved rounds (a fresh engine per case). "vs first": ratio to the first row's median ` +
      `(${gLabel(GROUP_COUNTS[0])}, no limits); for the rates < 1 is slower, for the ns > 1 is costlier.`,
  );
  say();
  say(
    '| limits | groups | enqueue/s (wall) | CPU ns per ENQUEUE | claim+ack/s (wall) | vs first | CPU ns per CLAIM | vs first | CPU ns per CLAIM, each round | best round | wall ns per CLAIM | CPU ns per ACK | heap bytes/job |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const growth: string[] = [];
  for (const v of VARIANTS) {
    for (const g of v.groups) {
      const rs = results.get(key(v, g))!;
      const claim = median(rs.map((x) => x.claimCpuNs));
      const cycle = median(rs.map((x) => x.cyclePerSec));
      const extra = rs[0].claimCalls > N ? ` (+${int(rs[0].claimCalls - N)} empty claims)` : '';
      say(
        `| ${v.name} | ${gLabel(g)} | ${int(median(rs.map((x) => x.enqueuePerSec)))} | ${int(median(rs.map((x) => x.enqueueCpuNs)))} | ${int(cycle)} | ${f2(cycle / baseCycle)} | ` +
          `**${int(claim)}**${extra} | ${f2(claim / baseClaim)} | ${rs.map((x) => int(x.claimCpuNs)).join(', ')} | ${int(Math.min(...rs.map((x) => x.claimCpuNs)))} | ${int(median(rs.map((x) => x.claimNs)))} | ` +
          `${int(median(rs.map((x) => x.ackCpuNs)))} | ${int(median(rs.map((x) => x.heapPerJob)))} |`,
      );
    }
    const at = (g: number) => median(results.get(key(v, g))!.map((x) => x.claimCpuNs));
    const best = (g: number) => Math.min(...results.get(key(v, g))!.map((x) => x.claimCpuNs));
    if (results.has(key(v, 1000)) && results.has(key(v, 100_000)))
      growth.push(
        `${v.name}: CPU ns per CLAIM at 100,000 groups / at 1,000 groups = **${f2(at(100_000) / at(1000))}** (medians), ${f2(best(100_000) / best(1000))} (best rounds)`,
      );
  }
  say();
  for (const gr of growth) say(`- ${gr}`);
  const heapAt = (g: number) => median(results.get(key(VARIANTS[0], g))!.map((x) => x.heapPerJob));
  if (results.has(key(VARIANTS[0], 0)) && results.has(key(VARIANTS[0], 100_000))) {
    const live = Math.min(N, 100_000);
    const perGroup = ((heapAt(100_000) - heapAt(0)) * N) / live;
    say(
      `- heap per group (no limits): (heap with 100,000 groups - heap with no GROUP) / ${int(live)} groups holding jobs = **${int(perGroup)} bytes** ` +
        `(${f2(N / live)} jobs per group; after a full GC, right after the enqueues)`,
    );
  }
  say();
  say(
    'CPU ns = `process.cpuUsage()` (user + system of this process, GC threads included) spent in CLAIM calls / N, read around each window ' +
      "of claims (so other processes' load on the shared cores does not count; wall ns does count it). Empty claims are included: under " +
      'GROUP-CONCURRENCY 1 a single group hands out one job at a time, so the worker window is 1 and every second claim finds nothing (and ' +
      'the two cpuUsage() calls per window weigh on that row). ACK time includes `engine.tick()` every 16 windows, as the ' +
      "broker's timer would run it (it forgets idle groups whose rate bucket is full again). claim+ack/s = N / (wall time in claims + acks).",
  );
  say();
}

// ---- part 2: over the wire ------------------------------------------------------------

const CLK_TCK = 100;
function cpuMicros(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}
function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** ENQUEUE n jobs over pipelines of 5,000; returns the ids and the rate */
async function fill(redis: Redis, queue: string, groups: number, n: number): Promise<{ ids: string[]; perSec: number }> {
  const ids: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n;) {
    const p = redis.pipeline();
    for (const end = Math.min(n, i + 5000); i < end; i++) {
      if (groups === 0) p.call('ENQUEUE', queue, PAYLOAD);
      else p.call('ENQUEUE', queue, PAYLOAD, 'GROUP', `g${i % groups}`);
    }
    for (const [err, id] of (await p.exec())!) {
      if (err) throw err;
      ids.push(id as string);
    }
  }
  return { ids, perSec: n / ((performance.now() - t0) / 1000) };
}

function redisBenchmark(port: number, n: number, command: string[]): number {
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-n', String(n), '-c', '50', '-P', '16', '-q', ...command], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const all = [...out.matchAll(/([\d.]+) requests per second/g)];
  if (all.length === 0) throw new Error(`cannot read redis-benchmark output: ${out.slice(-300)}`);
  return Number(all[all.length - 1][1]);
}

/** CONNS connections, each: a pipeline of BATCH x CLAIM q, then a pipeline of their ACKs, until a whole batch finds nothing */
async function claimAckLoop(port: number, queue: string): Promise<number> {
  const CONNS = 4;
  const BATCH = 100;
  let total = 0;
  await Promise.all(
    Array.from({ length: CONNS }, async () => {
      const redis = new Redis(port, '127.0.0.1', { lazyConnect: true });
      await redis.connect();
      try {
        for (;;) {
          const p = redis.pipeline();
          for (let i = 0; i < BATCH; i++) p.call('CLAIM', queue);
          const jobs: Array<[string, string, string, number]> = [];
          for (const [err, r] of (await p.exec())!) {
            if (err) throw err;
            const got = r as Array<[string, string, string, number]>;
            if (got.length > 0) jobs.push(got[0]);
          }
          if (jobs.length === 0) return;
          const a = redis.pipeline();
          for (const j of jobs) a.call('ACK', j[0], 'DELIVERY', String(j[3]));
          for (const [err, r] of (await a.exec())!) {
            if (err) throw err;
            total += r as number;
          }
        }
      } finally {
        redis.disconnect();
      }
    }),
  );
  return total;
}

interface WireResult {
  fillPerSec: number;
  rssPerJob: number;
  rssFilled: number;
  claimPerSec: number;
  claimCpuUs: number;
  ackPerSec: number;
  cyclePerSec: number;
  cycleCpuUs: number;
}

async function runWire(groups: number, n: number): Promise<WireResult> {
  const broker = await startBroker({ appendfsync: 'everysec', 'snapshot-log-size': '0' });
  const pid = broker.proc.pid!;
  const redis = new Redis(broker.port, '127.0.0.1');
  try {
    await new Promise((r) => setTimeout(r, 300));
    const rss0 = rssBytes(pid);
    const { ids, perSec: fillPerSec } = await fill(redis, 'q', groups, n);
    await new Promise((r) => setTimeout(r, 300));
    const rssFilled = rssBytes(pid);

    // CLAIM alone: redis-benchmark (-P 16 may send a few more than n: those find the queue empty)
    let cpu = cpuMicros(pid);
    const claimPerSec = redisBenchmark(broker.port, n, ['CLAIM', 'q']);
    const claimCpuUs = (cpuMicros(pid) - cpu) / n;
    const a0 = performance.now();
    let acked = 0;
    for (let i = 0; i < ids.length;) {
      const p = redis.pipeline();
      for (const end = Math.min(ids.length, i + 5000); i < end; i++) p.call('ACK', ids[i]);
      for (const [err, r] of (await p.exec())!) {
        if (err) throw err;
        acked += r as number;
      }
    }
    const ackPerSec = n / ((performance.now() - a0) / 1000);
    if (acked !== n) throw new Error(`wire, ${groups} groups: ${acked} of ${n} claimed jobs acknowledged (redis-benchmark CLAIM missed some)`);

    // CLAIM -> ACK in batches
    await fill(redis, 'q', groups, n);
    cpu = cpuMicros(pid);
    const c0 = performance.now();
    const done = await claimAckLoop(broker.port, 'q');
    const cyclePerSec = n / ((performance.now() - c0) / 1000);
    const cycleCpuUs = (cpuMicros(pid) - cpu) / n;
    if (done !== n) throw new Error(`wire, ${groups} groups: claim+ack loop acknowledged ${done} of ${n}`);
    return { fillPerSec, rssPerJob: (rssFilled - rss0) / n, rssFilled, claimPerSec, claimCpuUs, ackPerSec, cyclePerSec, cycleCpuUs };
  } finally {
    redis.disconnect();
    await broker.cleanup();
  }
}

async function partWire(): Promise<void> {
  say(`## 2. Over the wire: bin/resq-server, ${int(WIRE_N)} jobs per case`);
  say();
  const results = new Map<number, WireResult[]>();
  for (let r = 0; r < WIRE_ROUNDS; r++) {
    const order = GROUP_COUNTS.map((_, i) => GROUP_COUNTS[(i + r) % GROUP_COUNTS.length]);
    for (const g of order) {
      const res = await runWire(g, WIRE_N);
      (results.get(g) ?? results.set(g, []).get(g)!).push(res);
      console.error(`wire round ${r + 1}: G=${g}: CLAIM ${int(res.claimPerSec)}/s (${res.claimCpuUs.toFixed(1)} us cpu), claim+ack ${int(res.cyclePerSec)}/s`);
    }
  }
  const m = (g: number, f: (x: WireResult) => number) => median(results.get(g)!.map(f));
  const g0 = GROUP_COUNTS[0];
  say(`Medians of ${WIRE_ROUNDS} interleaved rounds (each case on a fresh broker); "vs first" is the ratio to the first row.`);
  say();
  say(
    '| groups | ENQUEUE/s (pipelined fill) | CLAIM/s (redis-benchmark -P 16) | vs first | each round | broker CPU µs per CLAIM | ACK/s | CLAIM->ACK jobs/s | vs first | broker CPU µs per claim+ack | RSS bytes per job |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const g of GROUP_COUNTS) {
    const rs = results.get(g)!;
    say(
      `| ${gLabel(g)} | ${int(m(g, (x) => x.fillPerSec))} | **${int(m(g, (x) => x.claimPerSec))}** | ${f2(m(g, (x) => x.claimPerSec) / m(g0, (x) => x.claimPerSec))} | ` +
        `${rs.map((x) => int(x.claimPerSec)).join(', ')} | ${m(g, (x) => x.claimCpuUs).toFixed(1)} | ${int(m(g, (x) => x.ackPerSec))} | ` +
        `**${int(m(g, (x) => x.cyclePerSec))}** | ${f2(m(g, (x) => x.cyclePerSec) / m(g0, (x) => x.cyclePerSec))} | ${m(g, (x) => x.cycleCpuUs).toFixed(1)} | ` +
        `${int(m(g, (x) => x.rssPerJob))} |`,
    );
  }
  say();
  if (results.has(0) && results.has(100_000)) {
    const perGroup = ((m(100_000, (x) => x.rssPerJob) - m(0, (x) => x.rssPerJob)) * WIRE_N) / Math.min(WIRE_N, 100_000);
    say(
      `- RSS per group: (RSS growth with 100,000 groups - with no GROUP) / ${int(Math.min(WIRE_N, 100_000))} groups holding jobs = **${int(perGroup)} bytes** ` +
        `(${f2(WIRE_N / Math.min(WIRE_N, 100_000))} jobs per group; RSS ${int(m(100_000, (x) => x.rssFilled) / 2 ** 20)} MB vs ${int(m(0, (x) => x.rssFilled) / 2 ** 20)} MB; RSS includes garbage not yet collected)`,
    );
    say();
  }
  say(
    'Broker: `appendfsync everysec` (the CLAIM path is the same under `always`; its fsync wait is not what this measures), `snapshot-log-size 0`, ' +
      'port 0, a temp dir in ' +
      os.tmpdir() +
      '. Fill: ioredis pipelines of 5,000 `ENQUEUE q <100 bytes> GROUP g<i mod G>` (no GROUP for the first row). CLAIM/s: `redis-benchmark -n N -c 50 -P 16 -q CLAIM q` ' +
      '(jobs stay active), then every id is ACKed (pipelines of 5,000) and the count checked. CLAIM->ACK: the queue filled again, 4 ioredis connections each ' +
      'send a pipeline of 100 `CLAIM q` then a pipeline of the ACKs (`ACK id DELIVERY d`) until a batch finds nothing; every job acknowledged once. ' +
      'Broker CPU: utime+stime of the broker process from /proc (10 ms ticks) over the timed part / N. The client runs on the same 2 cores.',
  );
  say();
}

async function main(): Promise<void> {
  const load = os.loadavg().map((x) => x.toFixed(2));
  say('# CLAIM with 1, 1,000 and 100,000 groups');
  say();
  say(
    `Command: \`npm run bench:groups\` (= \`npx tsc -p client && npx tsc -p . && node --expose-gc dist/bench/group-bench.js --out bench/results/group-bench.md\`)`,
  );
  say();
  say(
    `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, linux ${os.release()}, ` +
      `Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average at start ${load.join(' / ')} ` +
      '(a shared machine: read the figures as ratios within this run).',
  );
  say();
  if (!gc) say('(run without --expose-gc: the heap figures include garbage)');
  if (ONLY.includes('inproc')) partInproc();
  if (ONLY.includes('wire')) await partWire();
  say(
    `Load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}.`,
  );
  if (OUT) fs.writeFileSync(OUT, md.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
