/**
 * The engine alone, in process: no sockets, no log (a memory-only journal).
 * ENQUEUE, then CLAIM (COUNT 1, one call per job), then ACK of n jobs.
 * Used by bench/compare.ts (part "engine"); also runnable on its own:
 *   npm run build && node dist/bench/engine-bench.js [--jobs 1000000]
 */
import { performance } from 'perf_hooks';
import { Settings } from '../config/settings';
import { Engine } from '../server/engine/engine';
import { engineConfig, retentionPolicy } from '../server/engine-settings';

/** an engine with the broker's default settings: memory-only journal, no timer */
export function makeEngine(): Engine {
  const defaults = new Settings();
  return new Engine({
    config: engineConfig(defaults),
    retention: retentionPolicy(defaults),
    journal: { append() {} },
    clock: { now: () => Date.now() },
    random: Math.random,
  });
}

export interface EngineBenchResult {
  jobs: number;
  enqueuePerSec: number;
  claimPerSec: number;
  ackPerSec: number;
  /** n / (enqueue + claim + ack time) */
  cyclePerSec: number;
  heapUsedMB: number;
}

export function runEngineBench(n: number): EngineBenchResult {
  const engine = makeEngine();
  const payload = 'x'.repeat(100);
  const ids: string[] = new Array(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ids[i] = engine.enqueue('q', payload, {});
  const t1 = performance.now();
  const heapUsedMB = process.memoryUsage().heapUsed / 2 ** 20;
  const req = { count: 1, owner: 1 };
  let claimed = 0;
  for (let i = 0; i < n; i++) claimed += engine.claim('q', req).length;
  const t2 = performance.now();
  let acked = 0;
  for (let i = 0; i < n; i++) acked += engine.ack(ids[i], null);
  const t3 = performance.now();
  if (claimed !== n || acked !== n) throw new Error(`engine bench: claimed ${claimed}, acked ${acked} of ${n}`);
  const rate = (ms: number) => n / (ms / 1000);
  return { jobs: n, enqueuePerSec: rate(t1 - t0), claimPerSec: rate(t2 - t1), ackPerSec: rate(t3 - t2), cyclePerSec: rate(t3 - t0), heapUsedMB };
}

if (require.main === module) {
  const i = process.argv.indexOf('--jobs');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
  console.log(JSON.stringify(runEngineBench(n), null, 2));
}
