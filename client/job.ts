/** A job as a worker's handler sees it. */
import { Codec } from './codecs';
import { DecodeError, ResqError } from './errors';

export class Job<T = unknown> {
  /** the job id */
  readonly id: string;
  /** the queue it was claimed from */
  readonly queue: string;
  /** the payload bytes as stored by the broker */
  readonly payload: Buffer;
  /** this delivery's number (1 on the first); also the DELIVERY token of ACK/NACK/TOUCH */
  readonly delivery: number;
  /**
   * Aborted when this worker no longer owns the job: the lease was lost
   * (TOUCH got -STALE) or `Worker.close()` gave up waiting for the handler.
   * A long handler should check it (or pass it to fetch & co.).
   */
  get signal(): AbortSignal {
    if (typeof this.signalSource === 'function') this.signalSource = this.signalSource();
    return this.signalSource;
  }
  /** the id exactly as the broker sent it (ids are binary-safe) */
  readonly rawId: Buffer;

  /** the signal, or (from the Worker) a function making it on first use: most handlers never look */
  private signalSource: AbortSignal | (() => AbortSignal);
  private decoded = false;
  private value: T | undefined;

  constructor(
    rawId: Buffer,
    queue: Buffer,
    payload: Buffer,
    delivery: number,
    signal: AbortSignal | (() => AbortSignal),
    private readonly codec: Codec<T>,
    private readonly touchFn: (job: Job<T>, leaseMs?: number) => Promise<number>,
  ) {
    this.rawId = rawId;
    this.id = rawId.toString('utf8');
    this.queue = queue.toString('utf8');
    this.payload = payload;
    this.delivery = delivery;
    this.signalSource = signal;
  }

  /** the payload decoded with the worker's codec (decoded on first access; DecodeError fails the job for good) */
  get data(): T {
    if (!this.decoded) {
      try {
        this.value = this.codec.decode(this.payload);
      } catch (err) {
        if (err instanceof ResqError) throw err;
        throw new DecodeError('DECODE', `cannot decode the payload with the ${this.codec.name} codec: ${(err as Error).message}`, { cause: err });
      }
      this.decoded = true;
    }
    return this.value as T;
  }

  /**
   * Extends the lease now (TOUCH id LEASE ms DELIVERY d); resolves with the
   * new deadline (unix ms). The worker already does this every `heartbeat`
   * ms; rejects with StaleError if the lease was lost.
   */
  touch(leaseMs?: number): Promise<number> {
    return this.touchFn(this, leaseMs);
  }
}
