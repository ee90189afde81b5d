/**
 * What the ACL check costs: redis-benchmark ENQUEUE q payload against one
 * broker, authenticated as the default user (+@all ~*: both checks skipped)
 * vs as users with a queue pattern (~q*: the pattern verdict comes from the
 * per-user memo) and with a command list too (+@produce ~q*: the Set of
 * allowed commands as well). Side by side in one run, rounds alternating,
 * medians. Then the gate alone, in process, ns per call, which resolves
 * what the end-to-end figures cannot on a shared machine.
 *
 * Run: npm run build && node dist/bench/acl-bench.js [--out bench/results/acl-bench.md]
 *      env BENCH_N16 (default 200000, -P 16), BENCH_N1 (default 30000, -P 1), BENCH_ROUNDS (default 3)
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import Redis from 'ioredis';
import { findCommand } from '../protocol/command-specs';
import { Acl } from '../server/acl/acl';
import { gateRefusal, GateState, Requirement } from '../server/rules/request-gate';
import { startBroker } from '../test/helpers/broker';

const N16 = Number(process.env.BENCH_N16 ?? 200_000);
const N1 = Number(process.env.BENCH_N1 ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = 50;
const PASSWORD = 'bench-pw';

interface Who {
  label: string;
  auth: string[];
}

const WHO: Who[] = [
  { label: 'default user (+@all ~*)', auth: ['-a', PASSWORD] },
  { label: 'user +@all ~q*', auth: ['--user', 'patterned', '-a', PASSWORD] },
  { label: 'user +@produce ~q*', auth: ['--user', 'producer', '-a', PASSWORD] },
];

function redisBenchmark(port: number, who: Who, pipeline: number, n: number): number {
  const args = ['-p', String(port), ...who.auth, '-n', String(n), '-c', String(CLIENTS), '-P', String(pipeline), '-q', 'ENQUEUE', 'q', 'payload'];
  const out = execFileSync('redis-benchmark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /([\d.]+) requests per second/.exec(out.split('\r').pop() ?? out) ?? /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`cannot read redis-benchmark output: ${out.slice(-300)}`);
  return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** ns per gateRefusal call for ENQUEUE q<i> (256 distinct queue names) as each user */
function gateNs(): Array<[string, number]> {
  const acl = new Acl({
    aclfile: () => '',
    requirepass: () => '',
    logMaxLen: () => 128,
    describe: () => ({ context: 'bench', clientInfo: '' }),
    warn: () => {},
  });
  acl.setUser('patterned', ['on', 'nopass', '+@all', '~q*']);
  acl.setUser('producer', ['on', 'nopass', '+@produce', '~q*']);
  const state: GateState = { loading: false, logWritable: true, logError: null, authRequired: false, acl, jobs: { queueOf: () => undefined } };
  const spec = findCommand('enqueue')!;
  const need: Requirement = { command: 'enqueue', write: true, key: spec.key };
  const requests = Array.from({ length: 256 }, (_, i) => ['ENQUEUE', `q${i}`, 'payload']);
  const users = [
    ['default user (+@all ~*)', 'default'],
    ['user +@all ~q*', 'patterned'],
    ['user +@produce ~q*', 'producer'],
  ];
  const calls = 2_000_000;
  const best = new Map<string, number>();
  for (let round = 0; round < 5; round++) {
    for (const [label, name] of users) {
      const who = { authed: true, user: name };
      const t = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) if (gateRefusal(state, who, need, requests[i & 255])) throw new Error('refused');
      const ns = Number(process.hrtime.bigint() - t) / calls;
      best.set(label, Math.min(best.get(label) ?? Infinity, ns));
    }
  }
  return users.map(([label]) => [label, best.get(label)!]);
}

async function main(): Promise<void> {
  const outIdx = process.argv.indexOf('--out');
  const outFile = outIdx > 0 ? process.argv[outIdx + 1] : undefined;
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
  const broker = await startBroker({ requirepass: PASSWORD, 'log-level': 'warn' });
  const results = new Map<string, number[]>();
  try {
    const admin = new Redis({ port: broker.port, password: PASSWORD, lazyConnect: true });
    await admin.connect();
    await admin.call('ACL', 'SETUSER', 'patterned', 'on', `>${PASSWORD}`, '+@all', '~q*');
    // redis-benchmark asks CONFIG GET save/appendonly on connect: allowed here so the run is the same as the others'
    await admin.call('ACL', 'SETUSER', 'producer', 'on', `>${PASSWORD}`, '+@produce', '+config|get', '~q*');
    admin.disconnect();
    for (const [pipeline, n] of [
      [1, N1],
      [16, N16],
    ]) {
      for (let round = 0; round < ROUNDS; round++) {
        // rotate who goes first, so drift on the shared machine spreads over all three
        for (let k = 0; k < WHO.length; k++) {
          const who = WHO[(k + round) % WHO.length];
          const rps = redisBenchmark(broker.port, who, pipeline, n);
          const key = `${who.label}|${pipeline}`;
          results.set(key, [...(results.get(key) ?? []), rps]);
          process.stderr.write(`-P ${pipeline} round ${round + 1} ${who.label}: ${fmt(rps)} req/s\n`);
        }
      }
    }
  } finally {
    await broker.cleanup();
  }
  const gate = gateNs();

  const base1 = median(results.get(`${WHO[0].label}|1`)!);
  const base16 = median(results.get(`${WHO[0].label}|16`)!);
  const lines = [
    '# ACL: what the permission check costs',
    '',
    `redis-benchmark \`ENQUEUE q payload\`, 50 clients, against one broker (appendfsync always, the default), authenticated as each user in turn; ${ROUNDS} rounds per cell, the order rotating each round, medians (all rounds in brackets). -P 1: ${fmt(N1)} requests per run; -P 16: ${fmt(N16)}.`,
    '',
    '| authenticated as | -P 1 req/s | vs default | -P 16 req/s | vs default |',
    '|---|---|---|---|---|',
  ];
  for (const who of WHO) {
    const r1 = results.get(`${who.label}|1`)!;
    const r16 = results.get(`${who.label}|16`)!;
    lines.push(
      `| ${who.label} | ${fmt(median(r1))} (${r1.map(fmt).join(', ')}) | ${((median(r1) / base1) * 100).toFixed(1)} % | ${fmt(median(r16))} (${r16.map(fmt).join(', ')}) | ${((median(r16) / base16) * 100).toFixed(1)} % |`,
    );
  }
  lines.push(
    '',
    'The gate alone, in process (`gateRefusal` for ENQUEUE over 256 queue names, 2,000,000 calls, best of 5):',
    '',
    '| user | ns per call |',
    '|---|---|',
    ...gate.map(([label, ns]) => `| ${label} | ${ns.toFixed(1)} |`),
    '',
    'The default user skips both checks (allcommands, allkeys). A patterned user looks its verdict for the queue name up in a',
    'per-user memo (bounded to 4,096 names), a command-listed user also looks the command up in a Set: one or two hash lookups',
    'per request. The producer user also has `+config|get` because redis-benchmark asks `CONFIG GET save` and `appendonly` on connect.',
    '',
    `Machine: ${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}, load average at start ${load}; ${new Date().toISOString().slice(0, 10)}.`,
    'The machine is shared: compare the rows of one run, as ratios.',
    '',
    'Command:',
    '',
    '```',
    'npm run build && node dist/bench/acl-bench.js --out bench/results/acl-bench.md',
    '# each cell: redis-benchmark -p P <-a pw | --user u -a pw> -n N -c 50 -P <1|16> -q ENQUEUE q payload',
    '```',
    '',
  );
  const text = lines.join('\n');
  if (outFile) fs.writeFileSync(outFile, text);
  process.stdout.write(text);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
