import type { Bytes } from '../engine/job';
import type { QueueState } from '../engine/queue-state';

/** one queue's recent history: enqueued and acknowledged jobs per bucket, oldest first */
export interface QueueRateSeries {
  enqueued: number[];
  completed: number[];
}

interface Ring {
  lastEnqueued: number;
  lastAcked: number;
  enqueued: Float64Array;
  completed: Float64Array;
}

/**
 * Enqueue and completion rates per queue over the last minutes, for the
 * dashboard's charts: a ring of `buckets` counts per queue, each the growth
 * of the queue's totals over `bucketMs`, filled by sample() on a timer. No
 * work on the job path (it reads the totals the engine keeps anyway), and
 * bounded: buckets x 2 numbers per existing queue; a forgotten queue's ring
 * goes at the next sample.
 */
export class QueueRates {
  private readonly rings = new Map<Bytes, Ring>();
  /** index of the bucket the next sample() writes */
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly queues: ReadonlyMap<Bytes, QueueState>,
    readonly bucketMs = 10_000,
    readonly buckets = 60,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), this.bucketMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** closes the current bucket of every queue */
  sample(): void {
    for (const name of this.rings.keys()) if (!this.queues.has(name)) this.rings.delete(name);
    for (const q of this.queues.values()) {
      const ring = this.ring(q);
      const [e, a] = this.growth(ring, q);
      ring.enqueued[this.head] = e;
      ring.completed[this.head] = a;
      ring.lastEnqueued = q.counters.enqueued;
      ring.lastAcked = q.counters.acked;
    }
    this.head = (this.head + 1) % this.buckets;
  }

  /** the closed buckets, oldest first, then the current partial one (growth since the last sample) */
  series(q: QueueState): QueueRateSeries {
    const ring = this.rings.get(q.name);
    const out: QueueRateSeries = { enqueued: [], completed: [] };
    for (let i = 0; i < this.buckets; i++) {
      const k = (this.head + i) % this.buckets;
      out.enqueued.push(ring ? ring.enqueued[k] : 0);
      out.completed.push(ring ? ring.completed[k] : 0);
    }
    const [e, a] = ring ? this.growth(ring, q) : [q.counters.enqueued, q.counters.acked];
    out.enqueued.push(e);
    out.completed.push(a);
    return out;
  }

  private ring(q: QueueState): Ring {
    let ring = this.rings.get(q.name);
    if (!ring) {
      // a queue seen for the first time: its totals so far count as this bucket's
      ring = { lastEnqueued: 0, lastAcked: 0, enqueued: new Float64Array(this.buckets), completed: new Float64Array(this.buckets) };
      this.rings.set(q.name, ring);
    }
    return ring;
  }

  /** totals start again at 0 after CONFIG RESETSTAT or when a queue is forgotten and made again: then all of it is new */
  private growth(ring: Ring, q: QueueState): [number, number] {
    const c = q.counters;
    return [c.enqueued >= ring.lastEnqueued ? c.enqueued - ring.lastEnqueued : c.enqueued, c.acked >= ring.lastAcked ? c.acked - ring.lastAcked : c.acked];
  }
}
