/**
 * The producer side: enqueue jobs, look at them, administer queues.
 *
 * One Queue object serves any number of queues (the queue name is an
 * argument). It holds one connection for ordinary commands and opens extra
 * connections on demand for the blocking ones (WAITJOB, ENQUEUE ... BLOCK),
 * so a blocked call never holds up the others.
 */
import Redis, { Command } from 'ioredis';
import { Arg, enqueueArgs, groupLimitArgs, intArg, purgeArg, queueLimitArgs } from './args';
import { Codec, CodecName, resolveCodec } from './codecs';
import { closeConnection, ConnectionLike, isRedis, openConnection } from './connection';
import { BatchError, ConnectionError, ResqError, toResqError } from './errors';
import { parseGroupList, parseGroupStats, parseJobs, parseJobsPage, parseStats, parseStatus, Raw, replyNumber, replyString, toDead, toPeeked } from './replies';
import { TypedEmitter } from './typed-emitter';
import {
  DeadJob,
  EnqueueItem,
  EnqueueOptions,
  GroupLimitsOptions,
  GroupStats,
  GroupSummary,
  JobsOptions,
  JobsPage,
  JobState,
  JobStatus,
  PeekedJob,
  PurgeTarget,
  QueueLimits,
  QueueStats,
} from './types';

export interface QueueOptions<T> {
  /** payload codec; default 'json'. The workers of a queue must use the same one. */
  codec?: Codec<T> | CodecName;
  /** items per pipeline (round trip) in enqueueMany; default 1000 */
  batchSize?: number;
}

export interface StatusOptions {
  /** also fetch and decode the payload (STATUS ... WITHPAYLOAD); default false */
  withPayload?: boolean;
}

export interface QueueEvents {
  /** connection-level errors of the underlying ioredis connections (commands also reject) */
  error: (err: Error) => void;
}

export class Queue<T = unknown, R = unknown> extends TypedEmitter<QueueEvents> {
  /** the connection for non-blocking commands (exposed for advanced use) */
  readonly redis: Redis;
  readonly codec: Codec<T>;
  private readonly batchSize: number;
  private readonly ownsRedis: boolean;
  private readonly source: ConnectionLike | undefined;
  private readonly idleBlocking: Redis[] = [];
  private readonly allBlocking = new Set<Redis>();
  private closed = false;
  /** rejecters of pending blocking calls, so close() settles them even mid-reconnect */
  private readonly pendingBlocking = new Set<(err: Error) => void>();

  /**
   * @param connection broker address: a URL (`redis://host:7377`, `rediss://...`),
   *   ioredis options, or an ioredis instance (used as is and not closed by
   *   `close()`). Default: `process.env.RESQ_URL ?? 'redis://127.0.0.1:7377'`.
   */
  constructor(connection?: ConnectionLike, options: QueueOptions<T> = {}) {
    super();
    this.source = connection;
    this.codec = resolveCodec(options.codec);
    this.batchSize = intArg('batchSize', options.batchSize ?? 1000, 1);
    if (isRedis(connection)) {
      this.redis = connection;
      this.ownsRedis = false;
    } else {
      this.redis = openConnection(connection);
      this.ownsRedis = true;
      this.redis.on('error', (err: Error) => this.emitError(err));
    }
  }

  /** Enqueues one job; resolves with its id. */
  async enqueue(queue: string, payload: T, options: EnqueueOptions = {}): Promise<string> {
    const args: Arg[] = [queue, this.codec.encode(payload), ...enqueueArgs(options)];
    if (options.block !== undefined) {
      return this.withBlocking(async (conn) => replyString(await this.run(conn, 'ENQUEUE', args)));
    }
    return replyString(await this.run(this.redis, 'ENQUEUE', args));
  }

  /**
   * Enqueues many jobs, pipelined: one round trip per `batchSize` items.
   * `defaults` apply to every item (an item's own options win). Resolves with
   * the ids in item order; if any item fails, rejects with BatchError carrying
   * the ids of those that were enqueued.
   */
  async enqueueMany(queue: string, items: ReadonlyArray<EnqueueItem<T>>, defaults: EnqueueOptions = {}): Promise<string[]> {
    // the same options for every item (no per-item options, no ID or BLOCK): one ENQUEUE ... PAYLOADS per batch
    if (defaults.id === undefined && defaults.block === undefined && items.every((it) => it.options === undefined)) {
      const options = enqueueArgs(defaults);
      return this.inBatches(items.length, async (start, end) => {
        const args: Arg[] = [queue, 'PAYLOADS', end - start];
        for (let i = start; i < end; i++) args.push(this.codec.encode(items[i].payload));
        for (const o of options) args.push(o);
        const replies = (await this.run(this.redis, 'ENQUEUE', args)) as unknown[];
        return replies.map((r) => (r instanceof Error ? [r, null] : [null, replyString(r as Raw)]));
      });
    }
    const all = items.map((it) => {
      const o = { ...defaults, ...it.options };
      return { args: [queue, this.codec.encode(it.payload), ...enqueueArgs(o)], blocking: o.block !== undefined };
    });
    return this.inBatches(all.length, async (start, end) => {
      const batch = all.slice(start, end);
      const send = async (conn: Redis) => {
        const p = conn.pipeline();
        for (const b of batch) p.call('ENQUEUE', ...b.args);
        return p.exec();
      };
      return (batch.some((b) => b.blocking) ? await this.withBlocking(send) : await send(this.redis)) ?? [];
    });
  }

  /**
   * enqueueMany's batches, `batchSize` items each: `send` returns [error, id]
   * per item (a rejection fails every item of its batch). After a batch with
   * a failed item, later batches are not sent: BatchError with what is known.
   */
  private async inBatches(count: number, send: (start: number, end: number) => Promise<Array<[Error | null, unknown]>>): Promise<string[]> {
    const ids: (string | null)[] = new Array(count).fill(null);
    const errors: (ResqError | null)[] = new Array(count).fill(null);
    for (let start = 0; start < count; start += this.batchSize) {
      const end = Math.min(count, start + this.batchSize);
      let results: Array<[Error | null, unknown]>;
      try {
        results = await send(start, end);
      } catch (err) {
        results = [];
        for (let i = start; i < end; i++) results.push([err as Error, null]);
      }
      let failed = false;
      for (let i = start; i < end; i++) {
        const [err, id] = results[i - start] ?? [new Error('no reply'), null];
        if (err) {
          errors[i] = toResqError(err, 'ENQUEUE');
          failed = true;
        } else ids[i] = String(id);
      }
      if (failed) throw new BatchError(ids, errors);
    }
    return ids as string[];
  }

  /** STATUS: the job as an object, or null for an unknown id. */
  async status(id: string, options: StatusOptions = {}): Promise<JobStatus<T, R> | null> {
    const args = options.withPayload ? [id, 'WITHPAYLOAD'] : [id];
    return parseStatus<T, R>(await this.run(this.redis, 'STATUS', args), this.codec as Codec<unknown>);
  }

  /** CANCEL a ready or scheduled job: true if cancelled, false if it was in another state. NoJobError if unknown. */
  async cancel(id: string): Promise<boolean> {
    return replyNumber(await this.run(this.redis, 'CANCEL', [id])) === 1;
  }

  /**
   * WAITJOB: waits until the job is final (completed, dead, cancelled) and
   * resolves with its status; null on timeout, for an unknown id, or if the
   * job was purged while waited on. `timeoutMs` 0 or absent waits forever.
   * Runs on its own connection, so it does not hold up other calls.
   */
  async waitFor(id: string, timeoutMs = 0): Promise<JobStatus<T, R> | null> {
    intArg('timeoutMs', timeoutMs);
    return this.withBlocking(async (conn) => parseStatus<T, R>(await this.run(conn, 'WAITJOB', [id, 'BLOCK', timeoutMs]), this.codec as Codec<unknown>));
  }

  /** QSTATS as an object. */
  async stats(queue: string): Promise<QueueStats> {
    return parseStats(await this.run(this.redis, 'QSTATS', [queue]));
  }

  /** QUEUES: the names of all queues the broker knows. */
  async queues(): Promise<string[]> {
    const reply = await this.run(this.redis, 'QUEUES', []);
    return (Array.isArray(reply) ? reply : []).map((q) => replyString(q));
  }

  /** QLEN: ready + scheduled + active jobs of the queue. */
  async length(queue: string): Promise<number> {
    return replyNumber(await this.run(this.redis, 'QLEN', [queue]));
  }

  /** PEEK: the next jobs CLAIM would hand out, without claiming them. */
  async peek(queue: string, count = 1): Promise<PeekedJob<T>[]> {
    const reply = await this.run(this.redis, 'PEEK', [queue, 'COUNT', intArg('count', count, 1)]);
    return parseJobs(reply).map((j) => toPeeked<T>(j, this.codec as Codec<unknown>));
  }

  /**
   * JOBS: one page of the queue's jobs in a state. Pass the returned cursor
   * to get the next page; '0' means the walk is over. A job that stays in
   * the state for the whole walk appears exactly once, however others move.
   */
  async jobs(queue: string, state: JobState, options: JobsOptions = {}): Promise<JobsPage> {
    const args: Arg[] = [queue, state, 'CURSOR', options.cursor ?? '0'];
    if (options.count !== undefined) args.push('COUNT', intArg('count', options.count, 1));
    if (options.order !== undefined) args.push('ORDER', options.order);
    if (options.preview !== undefined) args.push('PREVIEW', intArg('preview', options.preview));
    return parseJobsPage(await this.run(this.redis, 'JOBS', args));
  }

  /** every job of the queue in a state, page by page (JOBS with the cursor), e.g. `for await (const j of queue.iterateJobs('emails', 'dead'))` */
  async *iterateJobs(queue: string, state: JobState, options: Omit<JobsOptions, 'cursor'> = {}): AsyncGenerator<JobsPage['jobs'][number]> {
    let cursor = '0';
    do {
      const page = await this.jobs(queue, state, { ...options, cursor, count: options.count ?? 100 });
      yield* page.jobs;
      cursor = page.cursor;
    } while (cursor !== '0');
  }

  /** PROMOTE a scheduled job to ready now: true if it was scheduled, false otherwise. NoJobError if unknown. */
  async promote(id: string): Promise<boolean> {
    return replyNumber(await this.run(this.redis, 'PROMOTE', [id])) === 1;
  }

  /** PAUSE: the queue accepts jobs but hands none out. */
  async pause(queue: string): Promise<void> {
    await this.run(this.redis, 'PAUSE', [queue]);
  }

  async resume(queue: string): Promise<void> {
    await this.run(this.redis, 'RESUME', [queue]);
  }

  /** DLQ: dead jobs of the queue with their last error. */
  async dlq(queue: string, count?: number): Promise<DeadJob<T>[]> {
    const args: Arg[] = count === undefined ? [queue] : [queue, 'COUNT', intArg('count', count, 1)];
    return parseJobs(await this.run(this.redis, 'DLQ', args)).map((j) => toDead<T>(j, this.codec as Codec<unknown>));
  }

  /** REQUEUE a dead or cancelled job: true if moved back to ready. NoJobError if unknown. */
  async requeue(id: string): Promise<boolean> {
    return replyNumber(await this.run(this.redis, 'REQUEUE', [id])) === 1;
  }

  /** REQUEUE queue ALL: every dead job of the queue back to ready; resolves with the count. */
  async requeueAll(queue: string): Promise<number> {
    return replyNumber(await this.run(this.redis, 'REQUEUE', [queue, 'ALL']));
  }

  /** PURGE: removes the queue's jobs in that state; resolves with the count. */
  async purge(queue: string, what: PurgeTarget): Promise<number> {
    return replyNumber(await this.run(this.redis, 'PURGE', [queue, purgeArg(what)]));
  }

  /** QCONFIG queue MAXLEN n (0 = unlimited). */
  async setMaxLen(queue: string, maxLen: number): Promise<void> {
    await this.run(this.redis, 'QCONFIG', [queue, 'MAXLEN', intArg('maxLen', maxLen)]);
  }

  /** QCONFIG queue CONCURRENCY n: at most n active jobs across all workers on all hosts (0 = no cap). */
  async setConcurrency(queue: string, concurrency: number): Promise<void> {
    await this.run(this.redis, 'QCONFIG', [queue, 'CONCURRENCY', intArg('concurrency', concurrency)]);
  }

  /**
   * QCONFIG queue RATE n PER ms: at most `rate` jobs of the queue handed out
   * per `perMs` ms (default 1000) across all workers on all hosts (0 = no
   * limit). Held-back jobs stay ready; a waiting worker gets the next token.
   */
  async setRateLimit(queue: string, rate: number, perMs?: number): Promise<void> {
    await this.setLimits(queue, { rate, ratePer: perMs });
  }

  /**
   * QCONFIG with any of its settings at once (one log record; every value is
   * checked before any is applied). Absent fields keep their value; 0 removes
   * a limit. The group* fields are the defaults of every group of the queue.
   */
  async setLimits(queue: string, limits: QueueLimits): Promise<void> {
    await this.run(this.redis, 'QCONFIG', [queue, ...queueLimitArgs(limits)]);
  }

  /**
   * GROUP CONFIG: one group's own limits, in place of the queue's group
   * defaults. Absent fields keep the group's current value; 0 lifts the
   * default for this group. Resolves with the group's stats after the change.
   */
  async configureGroup(queue: string, key: string, limits: GroupLimitsOptions): Promise<GroupStats> {
    await this.run(this.redis, 'GROUP', ['CONFIG', queue, key, ...groupLimitArgs(limits)]);
    return this.groupStats(queue, key);
  }

  /** GROUP RESET: the group's own limits are removed (the queue's defaults apply); false if it had none. */
  async resetGroup(queue: string, key: string): Promise<boolean> {
    return replyNumber(await this.run(this.redis, 'GROUP', ['RESET', queue, key])) === 1;
  }

  /** GROUP STATS: a group's jobs now and the limits that apply to it (all 0 for a group the broker does not hold). */
  async groupStats(queue: string, key: string): Promise<GroupStats> {
    return parseGroupStats(await this.run(this.redis, 'GROUP', ['STATS', queue, key]));
  }

  /** GROUP LIST: the groups with the most waiting jobs, largest first (default count 100, at most 10,000). */
  async groups(queue: string, options: { count?: number } = {}): Promise<GroupSummary[]> {
    const args: Arg[] = ['LIST', queue];
    if (options.count !== undefined) args.push('COUNT', intArg('count', options.count, 1));
    return parseGroupList(await this.run(this.redis, 'GROUP', args));
  }

  /**
   * Closes the connections this Queue opened (a Redis instance given to the
   * constructor is left open). Pending blocking calls (waitFor, enqueue with
   * block) reject with ConnectionError.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ConnectionError('CONNECTION', 'the Queue was closed');
    for (const reject of this.pendingBlocking) reject(err);
    this.pendingBlocking.clear();
    for (const c of this.allBlocking) c.disconnect();
    this.allBlocking.clear();
    this.idleBlocking.length = 0;
    if (this.ownsRedis) await closeConnection(this.redis);
  }

  private async run(conn: Redis, command: string, args: Arg[]): Promise<Raw> {
    if (this.closed) throw new ConnectionError('CONNECTION', 'the Queue is closed', { command });
    try {
      // sendCommand, not callBuffer: callBuffer crashes ioredis 5.11's
      // auto-pipelining, which a caller's own connection may have enabled
      const cmd = new Command(command, args, { replyEncoding: null });
      conn.sendCommand(cmd);
      return (await cmd.promise) as Raw;
    } catch (err) {
      throw toResqError(err, command);
    }
  }

  /** runs fn on an idle blocking connection (opening one if none is idle) */
  private async withBlocking<X>(fn: (conn: Redis) => Promise<X>): Promise<X> {
    if (this.closed) throw new ConnectionError('CONNECTION', 'the Queue is closed');
    let conn = this.idleBlocking.pop();
    if (!conn) {
      conn = openConnection(this.source ?? undefined, { connectionName: 'resq-queue-blocking' });
      conn.on('error', (err: Error) => this.emitError(err));
      this.allBlocking.add(conn);
    }
    let reject!: (err: Error) => void;
    const closed = new Promise<never>((_, rej) => {
      reject = rej;
    });
    this.pendingBlocking.add(reject);
    try {
      // ioredis 5 can leave a command pending forever when the connection is
      // closed while reconnecting; racing with close() guarantees settlement.
      return await Promise.race([fn(conn), closed]);
    } finally {
      this.pendingBlocking.delete(reject);
      if (!this.closed && conn.status !== 'end') this.idleBlocking.push(conn);
    }
  }
}
