import type { Metric } from 'prom-client';

/**
 * Bucket upper bounds of the wait and processing time histograms, in ms:
 * 1 ms to 1 h (exported in seconds, as Prometheus expects).
 */
export const TIMING_BOUNDS_MS: readonly number[] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];

/**
 * One histogram series, observed on the hot path: a bucket search over a
 * short fixed array and three additions, no allocation, no label hashing.
 * (prom-client's own Histogram.observe hashes the label set on every call,
 * about 300 ns; this is about 10 ns. CellHistogram renders the same text.)
 */
export class HistogramCells {
  /** per bucket (not cumulative); the last cell is +Inf */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = TIMING_BOUNDS_MS) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    if (!(v > 0)) v = 0; // a clock step or NaN never makes a negative observation
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/** one sample as prom-client's Registry renders it */
interface Value {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A labelled histogram whose cells are kept by the caller (HistogramCells)
 * and read only at scrape time. It implements the part of prom-client's
 * metric interface the Registry uses (name, help, type, get, reset), so it
 * is registered and rendered like any prom-client metric. `scale` converts
 * observed units to exported ones (ms -> s: 0.001).
 */
export class CellHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: () => Iterable<[Record<string, string>, HistogramCells]>,
    private readonly scale = 1,
    private readonly onReset: () => void = () => {},
  ) {}

  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Value[] }> {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [labels, cells] of this.series()) {
      let acc = 0;
      for (let i = 0; i < cells.bounds.length; i++) {
        acc += cells.counts[i];
        values.push({ metricName: bucket, labels: { ...labels, le: String(round(cells.bounds[i] * this.scale)) }, value: acc });
      }
      values.push({ metricName: bucket, labels: { ...labels, le: '+Inf' }, value: cells.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: round(cells.sum * this.scale) });
      values.push({ metricName: `${this.name}_count`, labels, value: cells.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.onReset();
  }

  /** for Registry.registerMetric, whose parameter type names prom-client's own classes */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}

/** 0.001 * 5 is 0.005000000000000001 in binary floating point; bucket labels should read 0.005 */
function round(v: number): number {
  return Number(v.toPrecision(12));
}
