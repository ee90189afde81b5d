/**
 * Multi-host: a broker, a producer process and two worker processes, each
 * with its own connections. One worker is SIGKILLed mid-job; every job must
 * still complete exactly once as seen by ACK :1, the killed worker's
 * in-flight jobs being redelivered to the other one (after their lease ran
 * out; at once with requeue-on-disconnect, or with the Worker's
 * requeueOnClose option: CLIENT REQUEUE-ON-CLOSE ON).
 */
import { expect } from 'chai';
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';
import { Queue } from '../client';
import { BrokerProcess } from './helpers/broker';
import { brokerUrl, qname, startSdkBroker, until } from './helpers/sdk-util';

interface Line {
  at: number;
  ev: string;
  worker?: string;
  id?: string;
  delivery?: number;
  acked?: boolean;
  ids?: string[];
}

interface Proc {
  child: ChildProcess;
  lines: Line[];
  stderr: string;
  exited: Promise<void>;
}

const HELPERS = path.join(__dirname, 'helpers');

function spawnHelper(script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(HELPERS, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = {
    child,
    lines: [],
    stderr: '',
    // 'close', not 'exit': every line the process wrote has been read by then
    exited: new Promise((resolve) => child.once('close', () => resolve())),
  };
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      p.lines.push({ ...(JSON.parse(l) as Line), at: Date.now() });
    } catch {
      p.stderr += `(stdout) ${l}\n`;
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    p.stderr += d.toString();
  });
  return p;
}

describe('client multi-host: producer + two worker processes, one SIGKILLed', function () {
  this.timeout(30000);
  let broker: BrokerProcess;
  let url: string;
  let admin: Queue;
  let procs: Proc[] = [];

  before(async () => {
    broker = await startSdkBroker();
    url = brokerUrl(broker);
    admin = new Queue(url);
  });
  afterEach(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    procs = [];
    await admin.redis.call('CONFIG', 'SET', 'requeue-on-disconnect', 'no');
  });
  after(async () => {
    await admin.close();
    await broker.cleanup();
  });

  async function round(opts: {
    lease: number;
    count: number;
    requeueOnClose?: boolean;
  }): Promise<{ killedInFlight: string[]; killedAt: number; completedAt: Map<string, number> }> {
    const name = qname('multihost');
    const env = { RESQ_URL: url, QUEUE: name, CONCURRENCY: '3', LEASE: String(opts.lease), JOB_MS: '80', REQUEUE_ON_CLOSE: opts.requeueOnClose ? '1' : '0' };
    const a = spawnHelper('sdk-worker-proc.js', { ...env, NAME: 'a' });
    const b = spawnHelper('sdk-worker-proc.js', { ...env, NAME: 'b' });
    procs.push(a, b);
    await until(() => a.lines.length > 0 && b.lines.length > 0, 10000, 'workers ready');

    const producer = spawnHelper('sdk-producer-proc.js', { RESQ_URL: url, QUEUE: name, COUNT: String(opts.count) });
    procs.push(producer);
    await producer.exited;
    const ids = producer.lines.find((l) => l.ev === 'enqueued')?.ids;
    expect(ids, producer.stderr).to.have.length(opts.count);

    // kill a once it has finished some jobs and has some in flight
    const inFlight = (p: Proc): string[] => {
      const acked = new Set(p.lines.filter((l) => l.ev === 'ack').map((l) => `${l.id}/${l.delivery}`));
      return p.lines.filter((l) => l.ev === 'start' && !acked.has(`${l.id}/${l.delivery}`)).map((l) => l.id!);
    };
    // ... right after a job started (jobs take 80 ms), so that one is surely mid-handler
    await until(
      () => a.lines.some((l) => l.ev === 'ack') && a.lines.some((l) => l.ev === 'start' && Date.now() - l.at < 15) && inFlight(a).length > 0,
      10000,
      'worker a busy',
      1,
    );
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    const killedInFlight = inFlight(a);
    expect(killedInFlight.length).to.be.at.least(1);

    // every job ends completed; ACK :1 happened exactly once per job
    await until(async () => (await admin.stats(name)).completed === opts.count, 20000, 'all jobs completed');
    const stats = await admin.stats(name);
    expect(stats.acked).to.equal(opts.count); // the broker counts ACKs that replied :1
    const ackOnes = new Map<string, number>();
    for (const l of [...a.lines, ...b.lines]) {
      if (l.ev === 'ack' && l.acked) ackOnes.set(l.id!, (ackOnes.get(l.id!) ?? 0) + 1);
    }
    for (const id of ids!) {
      const n = ackOnes.get(id) ?? 0;
      // A job a acknowledged just before it died may have no line from a: SIGKILL drops what a had
      // written to its stdout pipe but not yet flushed (its 'start' line too). The broker's count
      // above (acked === count, every job completed) is the exactly-once proof; b's lines are complete.
      if (n === 0) {
        const byB = b.lines.some((l) => l.id === id && l.ev === 'ack');
        expect(byB, `job ${id}: b acknowledged it, but not with :1`).to.equal(false);
      } else expect(n, `ACK :1 count of ${id}`).to.equal(1);
    }
    for (const id of ids!) {
      const s = await admin.status(id);
      expect(s!.state, id).to.equal('completed');
    }

    // a's in-flight jobs went to b as a new delivery (unless a completed them as it died)
    const completedAt = new Map<string, number>();
    for (const id of killedInFlight) {
      const s = await admin.status(id);
      const bStart = b.lines.find((l) => l.ev === 'start' && l.id === id);
      if (bStart) {
        expect(bStart.delivery).to.be.at.least(2);
        expect(s!.deliveries).to.be.at.least(2);
        completedAt.set(id, s!.updatedAt);
      }
    }
    expect(completedAt.size, 'redelivered jobs').to.be.at.least(1);
    expect(a.stderr + b.stderr).to.not.match(/TypeError|unhandled/i);
    return { killedInFlight, killedAt, completedAt };
  }

  it("redelivers the killed worker's jobs after their lease runs out", async () => {
    await round({ lease: 800, count: 60 });
  });

  it('again (the kill lands at a different point)', async () => {
    await round({ lease: 800, count: 40 });
  });

  it('with requeue-on-disconnect yes, redelivers at once, long before the lease', async () => {
    await admin.redis.call('CONFIG', 'SET', 'requeue-on-disconnect', 'yes');
    const { killedAt, completedAt } = await round({ lease: 15000, count: 40 });
    for (const [, at] of completedAt) expect(at - killedAt).to.be.below(10000);
  });

  it("with the Worker's requeueOnClose (CLIENT REQUEUE-ON-CLOSE ON) and a 15 s lease, the other worker finishes the killed one's jobs within 2 s", async () => {
    const { killedAt, completedAt } = await round({ lease: 15000, count: 40, requeueOnClose: true });
    for (const [id, at] of completedAt) expect(at - killedAt, `job ${id} completed ${at - killedAt} ms after the kill`).to.be.below(2000);
  });
});
