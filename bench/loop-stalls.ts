/**
 * Where the broker's event loop blocks (issue 11, perf step 8). Starts one
 * broker (from --build, default this checkout) with the long-turn detector
 * bench/loop-probe.ts preloaded, and a trivial Node process with the same
 * probe beside it (the machine's share: a runnable process waiting for a core
 * shows as loop delay too), then runs these phases, one probe line each:
 *
 *  bgsave     BGSAVE of --snapshot-jobs (500,000) queued jobs
 *  tick       --tick-jobs (100,000) jobs enqueued with one AT time: the deadline
 *             timer promotes them all at once
 *  retention  --tick-jobs jobs completed (CLAIM COUNT / ACK IDS) with
 *             completed-retention 2 s, the broker stopped (SIGSTOP) past their
 *             end: all expire in one burst of ticks
 *  metrics    --queues (20,000) queues, /metrics scraped 10 times
 *
 *   node dist/bench/loop-stalls.js [--build DIR] [--out FILE] [--phases bgsave,tick,retention,metrics]
 * NODE_ARGS adds broker node flags (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p --trace-gc").
 * The latency phases run through compare.js with RESQ_NODE_ARGS="--require dist/bench/loop-probe.js".
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Redis from 'ioredis';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const BUILD = path.resolve(arg('build', path.resolve(__dirname, '../..')));
const OUT = path.resolve(arg('out', path.join(os.tmpdir(), `loop-stalls-${Date.now()}.jsonl`)));
const PHASES = arg('phases', 'bgsave,tick,retention,metrics').split(',');
const SNAP_JOBS = Number(arg('snapshot-jobs', '500000'));
const TICK_JOBS = Number(arg('tick-jobs', '100000'));
const QUEUES = Number(arg('queues', '20000'));
const PROBE = path.join(__dirname, 'loop-probe.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  proc: ChildProcess;
  out: string;
}

function startProbe(args: string[], out: string, env: Record<string, string> = {}): Proc {
  const p: Proc = {
    proc: spawn(process.execPath, ['--require', PROBE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, LOOP_PROBE_OUT: out } }),
    out: '',
  };
  p.proc.stdout!.on('data', (d: Buffer) => (p.out += d.toString()));
  p.proc.stderr!.on('data', (d: Buffer) => (p.out += d.toString()));
  return p;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-stalls-'));
  const brokerOut = OUT;
  const controlOut = OUT.replace(/(\.jsonl)?$/, '.control.jsonl');
  const nodeArgs = (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean);
  const broker = startProbe([...nodeArgs, path.join(BUILD, 'bin/resq-server'), '--port', '0', '--dir', dir, '--log-level', 'warn'], brokerOut, {
    RESQ_EVENTLOOP_RESOLUTION_MS: '1',
  });
  const control = startProbe(['-e', 'setInterval(() => {}, 1000)'], controlOut);
  let ports: { port: number; httpPort: number } | null = null;
  for (let i = 0; i < 300 && !ports; i++) {
    const m = /resq ready .*? port=(\d+) http-port=(\d+)/.exec(broker.out);
    if (m) ports = { port: Number(m[1]), httpPort: Number(m[2]) };
    else await sleep(100);
  }
  if (!ports) throw new Error(`broker did not start:\n${broker.out}`);
  const r = new Redis({ port: ports.port, lazyConnect: false, maxRetriesPerRequest: null });
  const mark = async (name: string) => {
    for (const f of [brokerOut, controlOut]) fs.writeFileSync(`${f}.next`, name);
    broker.proc.kill('SIGUSR2');
    control.proc.kill('SIGUSR2');
    await sleep(200);
  };
  const enqueueMany = async (n: number, queue: (i: number) => string, extra: string[] = []) => {
    const payload = 'x'.repeat(100);
    for (let i = 0; i < n; i += 5000) {
      const p = r.pipeline();
      for (let k = i; k < Math.min(n, i + 5000); k++) p.call('ENQUEUE', queue(k), payload, ...extra);
      await p.exec();
    }
  };
  const waitBgsave = async () => {
    for (;;) {
      await sleep(100);
      const info = (await r.call('INFO', 'persistence')) as string;
      if (/rdb_bgsave_in_progress:0/.test(info)) return;
    }
  };
  const load = os.loadavg();
  console.error(`build ${BUILD}, load ${load.map((x) => x.toFixed(1)).join(' ')}, out ${OUT}`);
  await mark('start');

  if (PHASES.includes('bgsave')) {
    await enqueueMany(SNAP_JOBS, (i) => `snap${i % 10}`);
    await mark('bgsave-fill');
    await r.call('BGSAVE');
    await sleep(50);
    await waitBgsave();
    await mark('bgsave');
    // PURGE of 50,000 jobs a queue: one request whose work scales with the queue
    for (let q = 0; q < 10; q++) await r.call('PURGE', `snap${q}`, 'ALL');
    await sleep(500);
    await mark('purge');
  }

  if (PHASES.includes('tick')) {
    const at = Date.now() + 3000 + TICK_JOBS / 20;
    await enqueueMany(TICK_JOBS, () => 'tick', ['AT', String(at)]);
    await sleep(Math.max(0, at - Date.now() - 300));
    await mark('tick-fill');
    await sleep(3000);
    await mark('tick');
  }

  if (PHASES.includes('retention')) {
    await r.call('CONFIG', 'SET', 'completed-retention', '2000');
    await r.call('CONFIG', 'SET', 'completed-max', '10000000');
    await enqueueMany(TICK_JOBS, () => 'ret');
    for (let done = 0; done < TICK_JOBS;) {
      const got = (await r.call('CLAIM', 'ret', 'COUNT', '1000')) as unknown[][] | null;
      if (!got || got.length === 0) break;
      const ids = got.map((j) => String(j[0]));
      await r.call('ACK', 'IDS', String(ids.length), ...ids);
      done += ids.length;
    }
    await mark('retention-fill');
    broker.proc.kill('SIGSTOP');
    await sleep(2500);
    broker.proc.kill('SIGCONT');
    await sleep(3000);
    await mark('retention');
  }

  if (PHASES.includes('metrics')) {
    await enqueueMany(QUEUES, (i) => `mq${i}`);
    await mark('metrics-fill');
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`http://127.0.0.1:${ports.httpPort}/metrics`);
      await res.text();
      await sleep(200);
    }
    await mark('metrics');
  }

  r.disconnect();
  for (const f of [brokerOut, controlOut]) fs.writeFileSync(`${f}.next`, 'shutdown');
  broker.proc.kill('SIGTERM');
  control.proc.kill('SIGTERM');
  await Promise.all([broker, control].map((p) => new Promise((res) => (p.proc.exitCode !== null ? res(null) : p.proc.once('exit', res)))));
  fs.rmSync(dir, { recursive: true, force: true });
  const show = (file: string, who: string) => {
    for (const l of fs.readFileSync(file, 'utf8').trim().split('\n')) {
      const x = JSON.parse(l);
      if (/fill|start|cleanup|^end$/.test(x.phase)) continue;
      console.log(
        `${who} ${x.phase.padEnd(10)} ${x.seconds.toFixed(1)}s elDelay p99 ${x.elDelay.p99.toFixed(1)} max ${x.elDelay.max.toFixed(1)} | gaps>5 ${x.gaps} >10 ${x.gapsOver10} >20 ${x.gapsOver20} max ${x.gapMax.toFixed(1)} | ms wait ${x.waitMs.toFixed(0)} gc ${x.gcMs.toFixed(0)} js ${x.jsMs.toFixed(0)} | worst ${JSON.stringify(x.worst.slice(0, 3).map((w: { us?: number }) => ({ ...w, us: undefined })))}`,
      );
    }
  };
  show(brokerOut, 'broker ');
  show(controlOut, 'control');
  if (broker.out.trim()) fs.writeFileSync(OUT.replace(/(\.jsonl)?$/, '.stdout'), broker.out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
