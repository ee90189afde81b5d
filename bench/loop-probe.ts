/**
 * Long-turn detector, preloaded into a process with
 *   node --require dist/bench/loop-probe.js ...   (RESQ_NODE_ARGS for the broker)
 * A 1 ms interval notes every gap longer than LOOP_PROBE_MS (default 5) and
 * splits it into
 *   wait  the main thread sat runnable on a run queue (the machine: another
 *         process had the core), from /proc/self/task/<pid>/schedstat
 *   gc    GC pauses inside the gap (PerformanceObserver 'gc': scavenge vs
 *         mark-compact vs incremental marking)
 *   js    the rest of the main thread's CPU time in the gap (our own code)
 * Besides the gaps: monitorEventLoopDelay at 1 ms resolution (what /metrics shows).
 * SIGUSR2 closes a phase: one JSON line appended to LOOP_PROBE_OUT, named by
 * the text of LOOP_PROBE_OUT.next (the driver writes it); exit closes the last one.
 * Used by bench/loop-stalls.ts; a measuring aid, not part of the broker.
 */
import * as fs from 'fs';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'perf_hooks';

const THRESHOLD = Number(process.env.LOOP_PROBE_MS ?? '5');
const OUT = process.env.LOOP_PROBE_OUT ?? '';
const KINDS: Record<number, string> = { 1: 'scavenge', 2: 'mark-compact', 4: 'incremental', 8: 'weakcb' };

interface Gap {
  at: number;
  /** start, µs of the monotonic clock (as a .cpuprofile's timestamps) */
  us: number;
  ms: number;
  waitMs: number;
  cpuMs: number;
  gcMs: number;
  gcKinds: string;
}
interface GcEntry {
  start: number;
  ms: number;
  kind: string;
}

let fd = -1;
try {
  fd = fs.openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
} catch {
  fd = -1;
}
const sbuf = Buffer.alloc(128);
/** [cpu ns, run-queue wait ns] of the main thread */
function sched(): [number, number] {
  if (fd < 0) return [0, 0];
  const n = fs.readSync(fd, sbuf, 0, 128, 0);
  const parts = sbuf.toString('latin1', 0, n).split(' ');
  return [Number(parts[0]), Number(parts[1])];
}

let phaseStart = performance.now();
let gaps: Gap[] = [];
let gcs: GcEntry[] = [];
let turns = 0;
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
    gcs.push({ start: e.startTime, ms: e.duration, kind });
  }
}).observe({ entryTypes: ['gc'] });

let last = performance.now();
let lastUs = Number(process.hrtime.bigint() / 1000n);
let [lastCpu, lastWait] = sched();
const timer = setInterval(() => {
  const now = performance.now();
  const [cpu, wait] = sched();
  turns++;
  // a gap with next to no CPU and no run-queue wait is the process being stopped (SIGSTOP by the driver): not a turn
  if (now - last > THRESHOLD && !(now - last > 1000 && (cpu - lastCpu + wait - lastWait) / 1e6 < 0.1 * (now - last)))
    gaps.push({ at: last, us: lastUs, ms: now - last, waitMs: (wait - lastWait) / 1e6, cpuMs: (cpu - lastCpu) / 1e6, gcMs: 0, gcKinds: '' });
  last = now;
  lastUs = Number(process.hrtime.bigint() / 1000n);
  lastCpu = cpu;
  lastWait = wait;
}, 1);
timer.unref();

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function closePhase(): void {
  if (!OUT) return;
  let name = 'end';
  try {
    name = fs.readFileSync(`${OUT}.next`, 'utf8').trim() || name;
  } catch {
    // no name
  }
  // GC entries arrive after the gap that held them: attribute now
  for (const g of gaps) {
    const kinds = new Set<string>();
    for (const e of gcs) {
      const overlap = Math.min(g.at + g.ms, e.start + e.ms) - Math.max(g.at, e.start);
      if (overlap > 0) {
        g.gcMs += overlap;
        kinds.add(e.kind);
      }
    }
    g.gcKinds = [...kinds].join('+');
  }
  const gcBy: Record<string, { n: number; ms: number; max: number }> = {};
  for (const e of gcs) {
    const k = (gcBy[e.kind] ??= { n: 0, ms: 0, max: 0 });
    k.n++;
    k.ms += e.ms;
    k.max = Math.max(k.max, e.ms);
  }
  const sum = (f: (g: Gap) => number) => gaps.reduce((a, g) => a + f(g), 0);
  const line = {
    phase: name,
    pid: process.pid,
    seconds: (performance.now() - phaseStart) / 1000,
    turns,
    elDelay: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 },
    gaps: gaps.length,
    gapsOver10: gaps.filter((g) => g.ms > 10).length,
    gapsOver20: gaps.filter((g) => g.ms > 20).length,
    gapP50: pct(
      gaps.map((g) => g.ms),
      50,
    ),
    gapMax: Math.max(0, ...gaps.map((g) => g.ms)),
    // of all gap time: run-queue wait (machine), GC, other CPU (JS), and the unexplained rest (sleeping in a syscall, rounding)
    gapMs: sum((g) => g.ms),
    waitMs: sum((g) => g.waitMs),
    gcMs: sum((g) => Math.min(g.gcMs, g.cpuMs)),
    jsMs: sum((g) => Math.max(0, g.cpuMs - g.gcMs)),
    gc: gcBy,
    worst: [...gaps]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 40)
      .map((g) => ({ us: g.us, ms: +g.ms.toFixed(1), wait: +g.waitMs.toFixed(1), cpu: +g.cpuMs.toFixed(1), gc: +g.gcMs.toFixed(1), kinds: g.gcKinds })),
  };
  fs.appendFileSync(OUT, JSON.stringify(line) + '\n');
  gaps = [];
  gcs = [];
  turns = 0;
  h.reset();
  phaseStart = performance.now();
}

process.on('SIGUSR2', closePhase);
process.on('exit', closePhase);
