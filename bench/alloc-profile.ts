/**
 * Where the broker allocates, counting what the young-generation GC frees
 * (V8's sampling heap profiler with the objects collected by minor and major
 * GCs included): garbage per job is what makes scavenges frequent, and a
 * survivor copied twice is what makes them slow (perf-step-14-restart.md).
 *
 *   # a snapshot load, in this process: bytes allocated per loaded job, by call site
 *   node dist/bench/alloc-profile.js --snapshot DIR/snapshot-NNNNNN.rsnap [--top 25]
 *   # a running broker, from start to exit (preload; the summary is written at exit)
 *   ALLOC_PROFILE_OUT=/tmp/alloc.txt RESQ_NODE_ARGS="-r ./dist/bench/alloc-profile.js" \
 *     node dist/bench/compare.js --only e2e --systems resq-sdk --no-write
 */
import * as fs from 'fs';
import * as inspector from 'inspector';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const session = new inspector.Session();
session.connect();
const post = <T>(method: string, params?: object) =>
  new Promise<T>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r as T))));

/** bytes allocated per call site (its last `depth` frames, innermost first) */
function bySite(head: SampleNode, depth: number): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (n: SampleNode, stack: string[]) => {
    const f = n.callFrame;
    const here = [...stack, `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`];
    if (n.selfSize > 0) {
      const key = here.slice(-depth).reverse().join(' < ');
      out.set(key, (out.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, here);
  };
  walk(head, []);
  return out;
}

function report(head: SampleNode, top: number, per: { what: string; count: number } | null): string {
  const sites = bySite(head, 4);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  const lines = [`allocated (sampled) ${(total / 1e6).toFixed(1)} MB${per ? `, ${(total / per.count).toFixed(0)} bytes per ${per.what}` : ''}`];
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${(bytes / 1e6).toFixed(2).padStart(8)} MB  ${per ? `${(bytes / per.count).toFixed(1).padStart(6)} B  ` : ''}${site}`);
  return lines.join('\n') + '\n';
}

const START = { samplingInterval: 1024, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true };

async function profileSnapshotLoad(file: string, top: number): Promise<void> {
  // required here so that the preload use below loads none of the broker
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readSnapshot, installSnapshot } = require('../server/persistence/snapshot-reader') as typeof import('../server/persistence/snapshot-reader');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { JobStore } = require('../server/engine/job-store') as typeof import('../server/engine/job-store');
  await post('HeapProfiler.startSampling', START);
  const snap = await readSnapshot(file, 'profiled');
  await installSnapshot(new JobStore({ completedMs: 0, completedMax: 10_000, deadMs: 0, deadMax: 10_000, cancelledMs: 0 }), snap, 'profiled');
  const { profile } = await post<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling');
  process.stdout.write(report(profile.head, top, { what: 'job', count: snap.jobs.length }));
}

const argAt = (name: string) => process.argv.indexOf(`--${name}`);
if (require.main === module) {
  const i = argAt('snapshot');
  if (i < 0) throw new Error('--snapshot FILE (or use as a preload: see the comment at the top)');
  const t = argAt('top');
  void profileSnapshotLoad(process.argv[i + 1], t >= 0 ? Number(process.argv[t + 1]) : 25);
} else {
  // preload: sample from start to exit (the in-thread session answers synchronously, so it works in 'exit')
  const out = process.env.ALLOC_PROFILE_OUT ?? 'alloc-profile.txt';
  session.post('HeapProfiler.startSampling', START);
  let written = false;
  process.on('exit', () => {
    if (written) return;
    written = true;
    session.post('HeapProfiler.stopSampling', (e, r) => {
      fs.writeFileSync(out, e ? String(e) : report((r as { profile: { head: SampleNode } }).profile.head, 60, null));
    });
  });
}
