import type { Bytes, Priority } from './job';

/** A job's options as ENQUEUE, the HTTP API and CRON give them; absent fields take the broker's defaults. */
export interface EnqueueOptions {
  priority?: Priority;
  delay?: number;
  at?: number;
  retries?: number;
  backoffBase?: number;
  backoffMax?: number;
  lease?: number;
  ttl?: number;
  id?: Bytes;
  /** GROUP key: fair turns, per-group limits, FIFO under a concurrency of 1 */
  group?: Bytes;
}
