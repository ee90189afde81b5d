/**
 * The consumer side: a claim loop on its own connection feeding up to
 * `concurrency` handlers, with heartbeats, ACK/NACK carrying DELIVERY, and a
 * graceful close. See docs/sdk.md for the delivery semantics.
 */
import Redis from 'ioredis';
import { Arg, intArg } from './args';
import { BackoffFn } from './backoff';
import { Codec, CodecName, resolveCodec } from './codecs';
import { closeConnection, ConnectionLike, openConnection } from './connection';
import { CommandError, ConnectionError, DecodeError, NoJobError, NoRetryError, ResqError, StaleError, StateError, toResqError } from './errors';
import { Job } from './job';
import { parseJobs, Raw, RawJob, replyNumber, replyString } from './replies';
import { TypedEmitter } from './typed-emitter';

export type Processor<T, R> = (job: Job<T>) => Promise<R> | R;

export interface WorkerOptions<T> {
  /** broker address (see Queue); the worker opens two connections of its own from it. Default RESQ_URL or redis://127.0.0.1:7377 */
  connection?: ConnectionLike;
  /** handlers running at once; default 1. A finished job whose ACK/NACK is in transit holds no slot */
  concurrency?: number;
  /** lease of each delivery, sent as CLAIM ... LEASE; default 30000 ms (overrides the job's own LEASE) */
  lease?: number;
  /**
   * Ask the broker (CLIENT REQUEUE-ON-CLOSE ON) to give this worker's jobs
   * back the moment its claim connection closes, so a crashed process's jobs
   * are ready again at once instead of after their leases. The price: a
   * connection lost while handlers run (a network blip) also gives their
   * jobs back, so they may run twice (delivery is at-least-once anyway; a
   * handler that must not repeat checks `job.delivery`). Default true; false
   * leaves crashed workers' jobs to their leases.
   */
  requeueOnClose?: boolean;
  /** CLAIM ... BLOCK ms: how long one claim waits for a job; default 2000. Also bounds how long close() waits for an idle claim. */
  block?: number;
  /** CLAIM ... COUNT: most jobs per claim; default = concurrency (never more than the free slots) */
  batch?: number;
  /** own retry delay: NACK ... DELAY backoff(attempt, err). Default: none, the job's BACKOFF (server policy) decides */
  backoff?: BackoffFn;
  /** TOUCH every this many ms while a handler runs; default lease / 2; false: no heartbeats */
  heartbeat?: number | false;
  /** start claiming at once; default true (else call run()) */
  autorun?: boolean;
  /** payload and result codec; must match the producer's. Default 'json' */
  codec?: Codec<T> | CodecName;
  /** pause after a failed CLAIM (broker unreachable, LOADING, ...); default 1000 ms */
  retryDelay?: number;
  /** time close() waits for running handlers when given no timeout; default 30000 ms */
  closeTimeout?: number;
}

/** The state NACK reports. */
export type NackState = 'scheduled' | 'ready' | 'dead';

/** When the worker found out that it had lost a job's lease. */
export type StalledDuring = 'touch' | 'ack' | 'nack';

export interface WorkerEvents<T, R> {
  /** a job was claimed and its handler started */
  active: (job: Job<T>) => void;
  /**
   * the handler returned and ACK succeeded. `acked` is true when this ACK
   * completed the job (`:1`), false when the broker already had it completed
   * (`:0`: a resent ACK after a reconnect, or another worker finished it
   * after this one's lease ran out).
   */
  completed: (job: Job<T>, result: R, acked: boolean) => void;
  /** the handler threw (or the worker gave the job back at close) and NACK succeeded; `state` is the job's new state */
  failed: (job: Job<T>, err: Error, state: NackState) => void;
  /** the lease was lost (-STALE/-NOJOB on TOUCH, ACK or NACK): the outcome of this delivery was dropped */
  stalled: (job: Job<T>, during: StalledDuring) => void;
  /** connection errors, failed claims, unexpected replies; the worker keeps going */
  error: (err: Error) => void;
  /** a claim came back empty after the worker had had jobs: nothing ready in the queue */
  drained: () => void;
  /** close() finished */
  closed: () => void;
}

interface Running<T> {
  job: Job<T>;
  /** made when the handler first reads job.signal, or when the job is aborted (see abortJob) */
  abort: AbortController | null;
  phase: 'running' | 'settling' | 'done';
  /** the lease was lost; do not ACK/NACK */
  lost: boolean;
  /** close() gave up on the handler and returned the job */
  abandoned: boolean;
  heartbeat?: NodeJS.Timeout;
  settled: Promise<void>;
}

/** an ACK waiting for the end of this event-loop turn, to go out in one `ACK IDS ...` with the others */
interface PendingAck {
  id: Arg;
  delivery: number;
  resolve: (reply: Raw) => void;
  reject: (err: unknown) => void;
}

const MAX_ERROR_LEN = 4096;
/** most ids in one ACK IDS command */
const MAX_ACK_BATCH = 1000;
/** extra time a CLAIM may take beyond its BLOCK before the claim connection is presumed dead and recycled */
const CLAIM_WATCHDOG_GRACE = 15_000;

export class Worker<T = unknown, R = unknown> extends TypedEmitter<WorkerEvents<T, R>> {
  readonly queue: string;
  readonly concurrency: number;
  readonly lease: number;
  readonly block: number;
  readonly requeueOnClose: boolean;
  readonly batch: number;
  readonly heartbeat: number | false;
  readonly codec: Codec<T>;
  private readonly handler: Processor<T, R>;
  private readonly backoff?: BackoffFn;
  private readonly retryDelay: number;
  private readonly closeTimeout: number;
  /** blocking CLAIMs only */
  private readonly claimConn: Redis;
  /** ACK, NACK, TOUCH (auto-pipelined) */
  private readonly cmdConn: Redis;
  /** claimed jobs until their ACK/NACK is settled */
  private readonly running = new Set<Running<T>>();
  /** handlers running now: the concurrency slots (an ACK in transit holds none) */
  private busy = 0;
  private loopPromise?: Promise<void>;
  private closePromise?: Promise<void>;
  private closing = false;
  /** close() is past its deadline: stop retrying ACK/NACK */
  private forced = false;
  private hadJobs = false;
  /** CLIENT REQUEUE-ON-CLOSE ON was sent on the current claim connection (always true when not wanted) */
  private requeueOnCloseAsked: boolean;
  private wakeUp: (() => void) | null = null;
  /** result-less ACKs of this event-loop turn, sent together by flushAcks */
  private pendingAcks: PendingAck[] = [];
  private ackFlushScheduled = false;
  /** false once the broker refused ACK IDS (an older broker): single ACKs from then on */
  private batchAcks = true;
  private readonly touchJob = (job: Job<T>, leaseMs?: number): Promise<number> => this.touch(job, leaseMs);

  constructor(queue: string, handler: Processor<T, R>, options: WorkerOptions<T> = {}) {
    super();
    this.queue = queue;
    this.handler = handler;
    this.concurrency = intArg('concurrency', options.concurrency ?? 1, 1);
    this.lease = intArg('lease', options.lease ?? 30_000, 1);
    this.block = intArg('block', options.block ?? 2000, 1);
    this.requeueOnClose = options.requeueOnClose ?? true;
    this.requeueOnCloseAsked = !this.requeueOnClose;
    this.batch = intArg('batch', options.batch ?? this.concurrency, 1);
    this.heartbeat = options.heartbeat === false ? false : intArg('heartbeat', options.heartbeat ?? Math.max(1, Math.floor(this.lease / 2)), 1);
    this.retryDelay = intArg('retryDelay', options.retryDelay ?? 1000);
    this.closeTimeout = intArg('closeTimeout', options.closeTimeout ?? 30_000);
    this.codec = resolveCodec(options.codec);
    this.backoff = options.backoff;
    // Commands wait across reconnects (maxRetriesPerRequest: null): an ACK
    // issued while the broker restarts is sent once it is back. No client-side
    // timeouts on CLAIM: a CLAIM rejected locally while the broker still
    // serves it would hand jobs to nobody (they would wait for their lease).
    this.claimConn = openConnection(options.connection, {
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
      commandTimeout: undefined,
      blockingTimeout: undefined,
      socketTimeout: undefined,
      connectionName: 'resq-worker-claim',
    });
    // (callBuffer must not be used on this connection: ioredis 5.11's
    // auto-pipelining crashes on it; `call` is fine, replies here are not binary)
    this.cmdConn = openConnection(options.connection, {
      maxRetriesPerRequest: null,
      enableAutoPipelining: true,
      connectionName: 'resq-worker',
    });
    this.claimConn.on('error', (err: Error) => this.emitError(toResqError(err)));
    this.claimConn.on('close', () => (this.requeueOnCloseAsked = !this.requeueOnClose)); // a new connection asks again
    this.cmdConn.on('error', (err: Error) => this.emitError(toResqError(err)));
    if (options.autorun ?? true)
      setImmediate(() => {
        void this.run();
      });
  }

  /** Starts the claim loop (if not started); resolves when the worker has stopped claiming. */
  run(): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (!this.loopPromise) this.loopPromise = this.loop();
    return this.loopPromise;
  }

  /** jobs this worker holds now: handlers running, or their ACK/NACK not yet answered */
  get activeCount(): number {
    return this.running.size;
  }

  get isRunning(): boolean {
    return this.loopPromise !== undefined && !this.closing;
  }

  /**
   * Graceful stop: claims no more jobs, waits up to `timeoutMs` for running
   * handlers (and for a CLAIM in flight, whose jobs are run too), then gives
   * back the jobs whose handlers are still running with
   * `NACK id DELAY 0 ERROR 'worker closed' DELIVERY d` (their `signal`
   * aborts and their late results are dropped), and closes the connections.
   * A given-back job counts a failed delivery, as a lease running out would.
   */
  close(timeoutMs: number = this.closeTimeout): Promise<void> {
    if (!this.closePromise) this.closePromise = this.doClose(intArg('timeoutMs', timeoutMs));
    return this.closePromise;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.wake();
    const deadline = Date.now() + timeoutMs;
    let loopEnded = this.loopPromise === undefined;
    if (this.loopPromise)
      await raceDeadline(
        this.loopPromise.then(() => (loopEnded = true)),
        deadline,
      );
    // A CLAIM still blocked at the deadline is cut off (its connection asked for
    // requeue-on-close, so what it holds is ready again at once). Otherwise the
    // claim connection stays open until the handlers are done: closing it would
    // give their jobs back while they still run.
    if (!loopEnded) this.claimConn.disconnect();
    await raceDeadline(Promise.all([...this.running].map((r) => r.settled)), deadline);
    const giveBack: Promise<void>[] = [];
    for (const r of this.running) {
      if (r.phase === 'running') giveBack.push(this.abandon(r));
    }
    await raceDeadline(Promise.all(giveBack), Date.now() + 2000);
    // ACK/NACKs already under way get a moment more; abandoned handlers are not waited for
    const settling = [...this.running].filter((r) => r.phase === 'settling').map((r) => r.settled);
    await raceDeadline(Promise.all(settling), Date.now() + 2000);
    this.claimConn.disconnect();
    this.forced = true;
    for (const r of this.running) this.stopHeartbeat(r);
    await closeConnection(this.cmdConn);
    this.emit('closed');
  }

  private async loop(): Promise<void> {
    while (!this.closing) {
      await this.waitForSlot();
      if (this.closing) break;
      const count = Math.min(this.batch, this.concurrency - this.busy);
      let jobs: RawJob[];
      try {
        jobs = await this.claim(count);
      } catch (err) {
        if (this.closing) break;
        this.emitError(toResqError(err, 'CLAIM'));
        await this.pause(this.retryDelay);
        continue;
      }
      // jobs claimed are ours even if close() started meanwhile: run them
      for (const j of jobs) this.start(j);
      if (jobs.length > 0) this.hadJobs = true;
      else if (this.hadJobs) {
        this.hadJobs = false;
        this.emitSafely('drained');
      }
    }
  }

  private async claim(count: number): Promise<RawJob[]> {
    if (!this.requeueOnCloseAsked) {
      // once per connection, ahead of its CLAIMs (one connection keeps command order): if this
      // process dies, the broker gives its jobs back at once instead of after their leases
      this.requeueOnCloseAsked = true;
      this.claimConn.call('CLIENT', 'REQUEUE-ON-CLOSE', 'ON').catch((err: Error) => {
        // not asked again on this connection (a user without the command would be refused at every
        // claim); a new connection asks again (the 'close' handler). Leases cover the jobs meanwhile.
        this.emitError(toResqError(err, 'CLIENT REQUEUE-ON-CLOSE'));
      });
    }
    // The ACKs of the handlers that just finished go ahead of this CLAIM on the claim connection
    // (nothing is in flight there between two CLAIMs, so they wait behind nothing): the broker runs
    // both in one turn and writes their records in one log batch, so one fsync releases both. Sent
    // on the other connection, they arrive a moment later and take an fsync of their own, which the
    // next CLAIM then has to wait behind (with appendfsync always the disk does one at a time).
    let p: Promise<unknown>;
    if (this.pendingAcks.length > 0 && this.claimConn.status === 'ready') {
      // one socket write for both, so that the broker reads them together
      const socket = this.claimConn.stream;
      socket.cork();
      try {
        this.flushAcks(true);
        p = this.claimConn.callBuffer('CLAIM', this.queue, 'COUNT', count, 'BLOCK', this.block, 'LEASE', this.lease);
      } finally {
        socket.uncork();
      }
    } else p = this.claimConn.callBuffer('CLAIM', this.queue, 'COUNT', count, 'BLOCK', this.block, 'LEASE', this.lease);
    // Watchdog for a half-open TCP connection: recycle the connection (ioredis
    // resends the CLAIM on the new one) instead of rejecting the CLAIM locally.
    const watchdog = setInterval(() => {
      if (this.claimConn.status === 'ready') this.claimConn.disconnect(true);
    }, this.block + CLAIM_WATCHDOG_GRACE);
    try {
      return parseJobs((await p) as Raw);
    } finally {
      clearInterval(watchdog);
    }
  }

  private start(raw: RawJob): void {
    // the AbortController is made only if the handler reads job.signal (or the job is aborted): one per job cost ~6% CPU
    const signal = (): AbortSignal => (r.abort ??= new AbortController()).signal;
    const job = new Job<T>(raw.id, raw.queue, raw.payload, raw.deliveries, signal, this.codec, this.touchJob);
    const r: Running<T> = { job, abort: null, phase: 'running', lost: false, abandoned: false, settled: Promise.resolve() };
    this.running.add(r);
    this.busy++;
    this.scheduleHeartbeat(r);
    this.emitSafely('active', job);
    r.settled = (async () => {
      let outcome: { ok: true; value: R } | { ok: false; err: Error };
      try {
        outcome = { ok: true, value: await this.handler(job) };
      } catch (err) {
        outcome = { ok: false, err: err instanceof Error ? err : new Error(String(err)) };
      }
      this.stopHeartbeat(r);
      this.busy--;
      this.wake(); // the slot is free while the ACK/NACK travels: the next CLAIM overlaps it
      if (r.abandoned || r.lost) return;
      r.phase = 'settling';
      if (outcome.ok) await this.complete(r, outcome.value);
      else await this.fail(r, outcome.err);
    })()
      .catch((err: unknown) => this.emitError(toResqError(err)))
      .finally(() => {
        r.phase = 'done';
        this.running.delete(r);
        this.wake();
      });
  }

  /** emit where a throwing listener must not break the claim loop */
  private emitSafely<K extends 'active' | 'drained'>(event: K, ...args: Parameters<WorkerEvents<T, R>[K]>): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.emitError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async complete(r: Running<T>, result: R): Promise<void> {
    const args: Arg[] = [r.job.rawId];
    if (result !== undefined) {
      let encoded: Buffer | string;
      try {
        encoded = (this.codec as Codec<unknown>).encode(result);
      } catch (err) {
        await this.fail(r, new Error(`cannot encode the result with the ${this.codec.name} codec: ${(err as Error).message}`));
        return;
      }
      args.push('RESULT', encoded);
    }
    args.push('DELIVERY', r.job.delivery);
    try {
      // without a result, the ACK joins the others of this turn in one ACK IDS command
      const raw = result === undefined && this.batchAcks ? await this.batchAck(r.job.rawId, r.job.delivery) : await this.settle('ACK', args);
      const reply = replyNumber(raw);
      this.emit('completed', r.job, result, reply === 1);
    } catch (err) {
      this.onSettleError(r, err, 'ack');
    }
  }

  /**
   * Queues `ACK id DELIVERY d` for the end of this event-loop turn, when
   * every result-less ACK of the turn goes out as one `ACK IDS n id ...
   * DELIVERY d ...`. Resolves with this id's element of the reply (what the
   * single ACK would have replied) or rejects with its error, so callers see
   * exactly what they would have seen for a single ACK.
   */
  private batchAck(id: Arg, delivery: number): Promise<Raw> {
    return new Promise<Raw>((resolve, reject) => {
      this.pendingAcks.push({ id, delivery, resolve, reject });
      if (!this.ackFlushScheduled) {
        this.ackFlushScheduled = true;
        setImmediate(() => this.flushAcks());
      }
    });
  }

  /**
   * Sends the pending ACKs: on the command connection at the end of the turn
   * (setImmediate), or on the claim connection just ahead of a CLAIM
   * (`onClaimConn`, see claim()); the scheduled flush then finds nothing left.
   */
  private flushAcks(onClaimConn = false): void {
    if (!onClaimConn) this.ackFlushScheduled = false;
    const all = this.pendingAcks;
    this.pendingAcks = [];
    for (let i = 0; i < all.length; i += MAX_ACK_BATCH) void this.sendAcks(all.slice(i, i + MAX_ACK_BATCH), onClaimConn);
  }

  /** an ACK on the claim connection; if that connection fails it (closed, recycled), resent on the command connection as settle() does */
  private async ackOnClaimConn(args: Arg[]): Promise<Raw> {
    try {
      return (await this.claimConn.call('ACK', ...args)) as Raw;
    } catch (err) {
      const e = toResqError(err, 'ACK');
      if (e instanceof ConnectionError) return this.settle('ACK', args);
      throw e;
    }
  }

  private async sendAcks(acks: PendingAck[], onClaimConn = false): Promise<void> {
    const ack = (args: Arg[]): Promise<Raw> => (onClaimConn ? this.ackOnClaimConn(args) : this.settle('ACK', args));
    if (acks.length === 1 || !this.batchAcks) {
      await Promise.all(acks.map((a) => ack([a.id, 'DELIVERY', a.delivery]).then(a.resolve, a.reject)));
      return;
    }
    const args: Arg[] = ['IDS', acks.length];
    for (const a of acks) args.push(a.id);
    args.push('DELIVERY');
    for (const a of acks) args.push(a.delivery);
    let reply: Raw;
    try {
      reply = await ack(args);
    } catch (err) {
      if (err instanceof CommandError) {
        // a broker without ACK IDS (-ERR syntax error, nothing acknowledged): single ACKs from now on
        this.batchAcks = false;
        await this.sendAcks(acks);
      } else {
        // a refusal of the whole command (NOPERM, MISCONF, LOADING, ...): each ACK would have got it
        for (const a of acks) a.reject(err);
      }
      return;
    }
    if (!Array.isArray(reply) || reply.length !== acks.length) {
      const err = new ResqError('ERR', `unexpected reply to ACK IDS ${acks.length}: ${String(reply).slice(0, 100)}`, { command: 'ACK' });
      for (const a of acks) a.reject(err);
      return;
    }
    // an id's error comes as an Error element (ioredis's ReplyError), the others as integers
    for (let i = 0; i < acks.length; i++) {
      const element = reply[i] as Raw | Error;
      if (element instanceof Error) acks[i].reject(toResqError(element, 'ACK'));
      else acks[i].resolve(element);
    }
  }

  private async fail(r: Running<T>, err: Error): Promise<void> {
    const args: Arg[] = [r.job.rawId];
    const noRetry = err instanceof NoRetryError || err instanceof DecodeError;
    if (this.backoff && !noRetry) {
      let delay: number;
      try {
        delay = Math.max(0, Math.round(this.backoff(r.job.delivery, err)));
      } catch (e) {
        this.emitError(new Error(`backoff function threw: ${(e as Error).message}`));
        delay = NaN;
      }
      if (Number.isFinite(delay)) args.push('DELAY', delay);
    }
    args.push('ERROR', (err.message || err.name).slice(0, MAX_ERROR_LEN));
    if (noRetry) args.push('NORETRY');
    args.push('DELIVERY', r.job.delivery);
    try {
      const state = replyString(await this.settle('NACK', args)) as NackState;
      this.emit('failed', r.job, err, state);
    } catch (e) {
      this.onSettleError(r, e, 'nack');
    }
  }

  /** close() gave up on a running handler: give the job back at once */
  private async abandon(r: Running<T>): Promise<void> {
    r.abandoned = true;
    this.stopHeartbeat(r);
    (r.abort ??= new AbortController()).abort(new ResqError('CLOSED', 'the worker closed before the handler finished'));
    const err = new Error('worker closed before the handler finished');
    try {
      const reply = await this.settle('NACK', [r.job.rawId, 'DELAY', 0, 'ERROR', err.message, 'DELIVERY', r.job.delivery]);
      this.emit('failed', r.job, err, replyString(reply) as NackState);
    } catch (e) {
      this.onSettleError(r, e, 'nack');
    }
  }

  private onSettleError(r: Running<T>, err: unknown, during: StalledDuring): void {
    const e = toResqError(err);
    if (e instanceof StaleError || e instanceof NoJobError || (during !== 'ack' && e instanceof StateError)) {
      this.markLost(r, during);
    } else {
      this.emitError(e);
    }
  }

  private markLost(r: Running<T>, during: StalledDuring): void {
    if (r.lost) return;
    r.lost = true;
    this.stopHeartbeat(r);
    r.abort ??= new AbortController();
    if (!r.abort.signal.aborted) r.abort.abort(new StaleError('STALE', 'the lease of this job was lost'));
    this.emit('stalled', r.job, during);
  }

  /**
   * ACK/NACK with DELIVERY are idempotent enough to resend: a resent ACK
   * replies :0 (already completed), a resent NACK -STALE. So a connection
   * error (not a reply) is retried until the worker is force-closed.
   */
  private async settle(command: 'ACK' | 'NACK', args: Arg[]): Promise<Raw> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.cmdConn.call(command, ...args)) as Raw;
      } catch (err) {
        const e = toResqError(err, command);
        if (!(e instanceof ConnectionError) || this.forced || this.cmdConn.status === 'end') throw e;
        await sleep(Math.min(2000, 50 * 2 ** attempt));
      }
    }
  }

  private async touch(job: Job<T>, leaseMs?: number): Promise<number> {
    const args: Arg[] = [job.rawId, 'LEASE', intArg('leaseMs', leaseMs ?? this.lease, 1), 'DELIVERY', job.delivery];
    try {
      return replyNumber((await this.cmdConn.call('TOUCH', ...args)) as Raw);
    } catch (err) {
      const e = toResqError(err, 'TOUCH');
      const r = [...this.running].find((x) => x.job === job);
      if (r && (e instanceof StaleError || e instanceof NoJobError || e instanceof StateError)) this.markLost(r, 'touch');
      throw e;
    }
  }

  private scheduleHeartbeat(r: Running<T>): void {
    if (this.heartbeat === false) return;
    r.heartbeat = setTimeout(() => {
      r.heartbeat = undefined;
      if (r.phase !== 'running' || r.lost || r.abandoned) return;
      this.touch(r.job).then(
        () => {
          if (r.phase === 'running' && !r.lost && !r.abandoned) this.scheduleHeartbeat(r);
        },
        (err: ResqError) => {
          if (r.lost || r.phase !== 'running') return;
          this.emitError(err);
          this.scheduleHeartbeat(r);
        },
      );
    }, this.heartbeat);
  }

  private stopHeartbeat(r: Running<T>): void {
    if (r.heartbeat) clearTimeout(r.heartbeat);
    r.heartbeat = undefined;
  }

  private waitForSlot(): Promise<void> {
    if (this.closing || this.busy < this.concurrency) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wakeUp = resolve;
    }).then(() => this.waitForSlot());
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    if (w) w();
  }

  /** sleep that close() cuts short */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const prev = this.wakeUp;
      this.wakeUp = done;
      function done() {
        clearTimeout(t);
        if (prev) prev();
        resolve();
      }
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** waits for p, but no later than the deadline (unix ms) */
async function raceDeadline(p: Promise<unknown>, deadline: number): Promise<void> {
  const ms = deadline - Date.now();
  if (ms <= 0) return;
  let t: NodeJS.Timeout | undefined;
  await Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      t = setTimeout(resolve, ms);
    }),
  ]);
  if (t) clearTimeout(t);
}
