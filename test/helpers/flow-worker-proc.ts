/**
 * A worker process for the flow-control tests (test/flow-control.test.ts):
 * CONNS ioredis connections to the broker, each looping CLAIM ... BLOCK,
 * then ACK (or NACK for the jobs it is told to fail), one JSON line on
 * stdout per event. It survives the broker's restart: commands fail while
 * the connection is down and the loop tries again.
 *
 * env: PORT, QUEUE, CONNS (default 2), LEASE ms (default 1000), JOB_MS
 * (time "working" on a job, default 0), FAIL_EVERY (payloads "key:i" with
 * i % FAIL_EVERY == 0 fail their first delivery with NACK DELAY NACK_DELAY;
 * 0 = none), NAME.
 *
 * Lines: {"ev":"claim","w":NAME,"id","payload","delivery","t"} where t is
 * process.hrtime.bigint() in ns (CLOCK_MONOTONIC, comparable across the
 * processes of one host); {"ev":"ack"|"nack",...} when the broker answered.
 */
import Redis from 'ioredis';

const name = process.env.NAME ?? String(process.pid);
const queue = process.env.QUEUE ?? 'flow';
const conns = Number(process.env.CONNS ?? 2);
const lease = Number(process.env.LEASE ?? 1000);
const jobMs = Number(process.env.JOB_MS ?? 0);
const failEvery = Number(process.env.FAIL_EVERY ?? 0);
const nackDelay = Number(process.env.NACK_DELAY ?? 20);
let stopping = false;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function report(ev: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ev, w: name, t: process.hrtime.bigint().toString(), ...fields }) + '\n');
}

async function loop(i: number): Promise<void> {
  const r = new Redis({
    port: Number(process.env.PORT),
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // no INFO ready check: ioredis would wait a whole second after seeing loading:1 in it; -LOADING replies are retried here instead
    enableReadyCheck: false,
    retryStrategy: () => 50,
    connectionName: `${name}-${i}`,
  });
  r.on('error', () => {});
  while (!stopping) {
    try {
      const got = (await r.call('CLAIM', queue, 'BLOCK', '200', 'LEASE', String(lease))) as Array<[string, string, string, number]>;
      if (got.length === 0) continue;
      const [id, , payload, delivery] = got[0];
      report('claim', { id, payload, delivery });
      if (jobMs > 0) await sleep(jobMs);
      const n = Number(payload.split(':')[1]);
      if (failEvery > 0 && n % failEvery === 0 && delivery === 1) {
        const out = await r.call('NACK', id, 'DELAY', String(nackDelay), 'ERROR', 'planned failure', 'DELIVERY', String(delivery));
        report('nack', { id, payload, delivery, out });
      } else {
        const out = await r.call('ACK', id, 'DELIVERY', String(delivery));
        report('ack', { id, payload, delivery, out });
      }
    } catch {
      await sleep(20); // the broker is away (killed, restarting) or the reply was an error: try again
    }
  }
  r.disconnect();
}

process.once('SIGTERM', () => {
  stopping = true;
  setTimeout(() => process.exit(0), 500);
});
for (let i = 0; i < conns; i++) void loop(i);
report('ready', {});
