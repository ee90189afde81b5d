/**
 * Top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof`).
 *   node dist/bench/profile-summary.js FILE.cpuprofile [--top 30]
 * Used for bench/results/profile-notes.md: profile the broker under the
 * compare loads with RESQ_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench -- --only e2e ...
 */
import * as fs from 'fs';
import * as path from 'path';

/** the parts of a V8 .cpuprofile these tools read */
export interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summarize(file: string, top: number): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = prof.timeDeltas.reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${path.relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const idle = [...byFn].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(((total - idle) / total) * 100).toFixed(0)}% busy`,
    '',
    '| self ms | % of busy | function |',
    '|---|---|---|',
    ...rows.map(([k, us]) => `| ${(us / 1000).toFixed(0)} | ${((us / (total - idle)) * 100).toFixed(1)} | \`${k}\` |`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const i = process.argv.indexOf('--top');
  console.log(summarize(process.argv[2], i > 0 ? Number(process.argv[i + 1]) : 30));
}
