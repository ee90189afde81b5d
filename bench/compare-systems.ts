/**
 * The six systems of `npm run bench` (bench/compare.ts), each as a producer
 * (runs in the bench process) and a consumer (runs in the worker child,
 * bench/compare-worker.ts). Every job carries a 100-byte ASCII payload
 * `seq|send-time-ms|xxxx...`: the consumer counts each seq (exactly-once
 * check) and computes enqueue -> handler-start latency from the send time.
 */
import { performance } from 'perf_hooks';
import IORedis from 'ioredis';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import BeeQueue from 'bee-queue';
import { Queue as ResqQueue, Worker as ResqWorker } from '../client';

export const SYSTEMS = ['resq-sdk', 'resq-raw', 'bullmq', 'bee-queue', 'redis-streams', 'redis-list'] as const;
export type System = (typeof SYSTEMS)[number];
/** which server a system runs against */
export const isResq = (s: System): boolean => s === 'resq-sdk' || s === 'resq-raw';

export const PAYLOAD_BYTES = 100;
export const QUEUE = 'bench';

/** wall clock with sub-ms resolution, comparable across processes on one host */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function makePayload(seq: number, t: number): string {
  const head = `${seq}|${t.toFixed(3)}|`;
  return head + 'x'.repeat(Math.max(0, PAYLOAD_BYTES - head.length));
}

export function parsePayload(p: string): { seq: number; t: number } {
  const a = p.indexOf('|');
  const b = p.indexOf('|', a + 1);
  return { seq: Number(p.slice(0, a)), t: Number(p.slice(a + 1, b)) };
}

// ---- producers -------------------------------------------------------------

export interface Producer {
  /** enqueue these payloads as one batch (one pipeline / bulk call) */
  batch(payloads: string[]): Promise<void>;
  /** enqueue one job, on its own */
  one(payload: string): Promise<void>;
  close(): Promise<void>;
}

export async function makeProducer(system: System, port: number): Promise<Producer> {
  const url = `redis://127.0.0.1:${port}`;
  switch (system) {
    case 'resq-sdk': {
      const q = new ResqQueue<Buffer>(url, { codec: 'raw', batchSize: 1000 });
      return {
        batch: async (ps) =>
          void (await q.enqueueMany(
            QUEUE,
            ps.map((p) => ({ payload: Buffer.from(p) })),
          )),
        one: async (p) => void (await q.enqueue(QUEUE, Buffer.from(p))),
        close: () => q.close(),
      };
    }
    case 'resq-raw':
    case 'redis-streams':
    case 'redis-list': {
      const r = new IORedis(port, '127.0.0.1', { enableAutoPipelining: true });
      const cmd = (p: string): [string, ...string[]] =>
        system === 'resq-raw' ? ['ENQUEUE', QUEUE, p] : system === 'redis-streams' ? ['XADD', QUEUE, '*', 'p', p] : ['LPUSH', QUEUE, p];
      return {
        batch: async (ps) => {
          const pipe = r.pipeline();
          for (const p of ps) {
            const [c, ...args] = cmd(p);
            pipe.call(c, ...args);
          }
          const res = await pipe.exec();
          for (const [err] of res ?? []) if (err) throw err;
        },
        one: async (p) => {
          const [c, ...args] = cmd(p);
          await r.call(c, ...args);
        },
        close: async () => void (await r.quit()),
      };
    }
    case 'bullmq': {
      const q = new BullQueue(QUEUE, { connection: { host: '127.0.0.1', port } });
      // completed jobs kept as resq keeps them (completed-max 10000)
      const opts = { removeOnComplete: { count: 10_000 } };
      return {
        batch: async (ps) => void (await q.addBulk(ps.map((p) => ({ name: 'j', data: { p }, opts })))),
        one: async (p) => void (await q.add('j', { p }, opts)),
        close: () => q.close(),
      };
    }
    case 'bee-queue': {
      const q = new BeeQueue<{ p: string }>(QUEUE, {
        redis: { host: '127.0.0.1', port },
        isWorker: false,
        getEvents: false,
        sendEvents: false,
        storeJobs: false,
        removeOnSuccess: true,
      });
      await q.ready();
      return {
        batch: async (ps) => {
          const errors = await q.saveAll(ps.map((p) => q.createJob({ p })));
          if (errors.size > 0) throw [...errors.values()][0];
        },
        one: async (p) => void (await q.createJob({ p }).save()),
        close: () => q.close(),
      };
    }
  }
}

// ---- consumers -------------------------------------------------------------

export interface Consumer {
  close(): Promise<void>;
}

type OnJob = (payload: string) => void;

/**
 * The loop for the raw harnesses (resq commands, Streams, list): fetch up to
 * the free slots, run each handler (async, so it frees its slot a microtask
 * later, as an SDK would), acknowledge without waiting for the reply.
 */
function slotLoop<T>(
  concurrency: number,
  fetch: (n: number) => Promise<T[]>,
  payloadOf: (item: T) => string,
  ack: ((item: T) => Promise<unknown>) | null,
  onJob: OnJob,
  onError: (e: Error) => void,
): { stop(): void } {
  let free = concurrency;
  let running = true;
  let wake: (() => void) | null = null;
  const handler = async (p: string) => onJob(p);
  const run = async (item: T) => {
    await handler(payloadOf(item));
    free++;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
    if (ack) ack(item).catch(onError);
  };
  void (async () => {
    while (running) {
      if (free === 0) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      let items: T[];
      try {
        items = await fetch(free);
      } catch (e) {
        if (running) onError(e as Error);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      for (const it of items) {
        free--;
        void run(it);
      }
    }
  })();
  return {
    stop: () => {
      running = false;
    },
  };
}

export async function makeConsumer(system: System, port: number, concurrency: number, onJob: OnJob, onError: (e: Error) => void): Promise<Consumer> {
  const url = `redis://127.0.0.1:${port}`;
  switch (system) {
    case 'resq-sdk': {
      const w = new ResqWorker<Buffer>(QUEUE, async (job) => onJob(job.payload.toString()), { connection: url, concurrency, codec: 'raw', block: 1000 });
      w.on('error', onError);
      return { close: () => w.close(2000) };
    }
    case 'resq-raw': {
      const claimer = new IORedis(port, '127.0.0.1');
      const acker = new IORedis(port, '127.0.0.1', { enableAutoPipelining: true });
      type Claimed = [string, string, string, number];
      const loop = slotLoop<Claimed>(
        concurrency,
        async (n) => (await claimer.call('CLAIM', QUEUE, 'COUNT', String(n), 'BLOCK', '1000')) as Claimed[],
        (c) => c[2],
        (c) => acker.call('ACK', c[0], 'DELIVERY', String(c[3])),
        onJob,
        onError,
      );
      return {
        close: async () => {
          loop.stop();
          claimer.disconnect();
          await acker.quit();
        },
      };
    }
    case 'redis-streams': {
      const reader = new IORedis(port, '127.0.0.1');
      const acker = new IORedis(port, '127.0.0.1', { enableAutoPipelining: true });
      await reader.call('XGROUP', 'CREATE', QUEUE, 'g', '0', 'MKSTREAM').catch(() => undefined);
      type Entry = [string, string[]];
      const loop = slotLoop<Entry>(
        concurrency,
        async (n) => {
          const r = (await reader.call('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', String(n), 'BLOCK', '1000', 'STREAMS', QUEUE, '>')) as
            [string, Entry[]][] | null;
          return r ? r[0][1] : [];
        },
        (e) => e[1][1],
        (e) => acker.call('XACK', QUEUE, 'g', e[0]),
        onJob,
        onError,
      );
      return {
        close: async () => {
          loop.stop();
          reader.disconnect();
          await acker.quit();
        },
      };
    }
    case 'redis-list': {
      const r = new IORedis(port, '127.0.0.1');
      const loop = slotLoop<string>(
        concurrency,
        async (n) => {
          const items = (await r.call('RPOP', QUEUE, String(n))) as string[] | null;
          if (items && items.length > 0) return items;
          const one = (await r.call('BRPOP', QUEUE, '1')) as [string, string] | null;
          return one ? [one[1]] : [];
        },
        (p) => p,
        null, // a list has no acknowledgement: popped is done (at most once)
        onJob,
        onError,
      );
      return {
        close: async () => {
          loop.stop();
          r.disconnect();
        },
      };
    }
    case 'bullmq': {
      const w = new BullWorker(QUEUE, async (job) => onJob((job.data as { p: string }).p), {
        connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null },
        concurrency,
      });
      w.on('error', onError);
      await w.waitUntilReady();
      return { close: () => w.close() };
    }
    case 'bee-queue': {
      const q = new BeeQueue<{ p: string }>(QUEUE, {
        redis: { host: '127.0.0.1', port },
        getEvents: false,
        sendEvents: false,
        removeOnSuccess: true,
      });
      q.on('error', onError);
      await q.ready();
      q.process(concurrency, async (job) => onJob(job.data.p));
      return { close: () => q.close() };
    }
  }
}
