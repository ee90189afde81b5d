/**
 * Where one function's self time comes from: its self time in a V8 .cpuprofile
 * (`node --cpu-prof`) split by the chain of callers above it.
 *   node dist/bench/profile-callers.js FILE.cpuprofile NAME [--depth 4] [--top 15]
 * e.g. `writeBuffer`: the log's fs.write and the sockets' writes are both
 * `writeBuffer` in a profile; this tells them apart.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { CpuNode, CpuProfile } from './profile-summary';

function frameName(n: CpuNode): string {
  const f = n.callFrame;
  const file = f.url ? path.basename(f.url.replace(/^file:\/\//, '')) : '';
  return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
}

export function callers(file: string, name: string, depth: number, top: number): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let busy = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    const us = prof.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + us);
    if (byId.get(id)!.callFrame.functionName !== '(idle)') busy += us;
  }
  const byChain = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName !== name) continue;
    total += us;
    const chain: string[] = [];
    let p = parent.get(id);
    while (p !== undefined && chain.length < depth) {
      const pn = byId.get(p)!;
      if (pn.callFrame.functionName !== '(root)') chain.push(frameName(pn));
      p = parent.get(p);
    }
    const key = chain.join(' < ');
    byChain.set(key, (byChain.get(key) ?? 0) + us);
  }
  const rows = [...byChain].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `${path.basename(file)}: \`${name}\` self ${(total / 1000).toFixed(0)} ms = ${((total / busy) * 100).toFixed(1)}% of ${(busy / 1000).toFixed(0)} ms busy`,
    '',
    '| self ms | % of busy | called from (nearest first) |',
    '|---|---|---|',
    ...rows.map(([k, us]) => `| ${(us / 1000).toFixed(0)} | ${((us / busy) * 100).toFixed(1)} | ${k} |`),
  ].join('\n');
}

if (require.main === module) {
  const opt = (flag: string, d: number) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  console.log(callers(process.argv[2], process.argv[3], opt('--depth', 4), opt('--top', 15)));
}
