import type * as Prom from 'prom-client';
import type { Settings } from '../../config/settings';
import type { Engine, EngineMetrics } from '../engine/engine';
import type { FsyncObserver } from '../persistence/types';
import type { CommandStats } from './command-stats';
import { Bytes, Job, PRIORITY_NAMES, STATE_NAMES } from '../engine/job';
import { QueueCounters } from '../engine/queue-state';
import { QueueFigures, selectQueues } from './queue-selection';
import { CellHistogram, HistogramCells } from './timings';

interface QueueTimings {
  wait: HistogramCells;
  processing: HistogramCells;
}

/** records per group commit: 1 to 16384 in powers of 4 */
const BATCH_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384];
/** fsync duration, ms: 0.1 ms to 5 s */
const FSYNC_BOUNDS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/** What the metrics read when Prometheus scrapes; the composition root provides it. */
export interface MetricsSource {
  readonly engine: Engine;
  readonly settings: Settings;
  readonly stats: CommandStats;
  readonly clients: { readonly size: number; all(): Iterable<{ readonly isBlocked: boolean }> };
  readonly gate: { readonly loading: boolean };
  readonly persistence: {
    readonly writable: boolean;
    readonly lastLsn: number;
    readonly durableLsn: number;
    readonly lastSaveTime: number;
    info(): Array<[string, string | number]>;
  };
}

type Labels = Record<string, string>;
type Emit = (labels: Labels, value: number) => void;

/** the per-queue totals exported as counters: metric suffix, help, field of QueueCounters */
const QUEUE_COUNTERS: ReadonlyArray<[string, string, keyof QueueCounters]> = [
  ['enqueued', 'Jobs created (an idempotent repeat of ENQUEUE ... ID is not counted).', 'enqueued'],
  ['claimed', 'Deliveries: jobs handed to workers by CLAIM.', 'claimed'],
  ['completed', 'Jobs acknowledged (ACKs that replied 1).', 'acked'],
  ['failed', 'Failed deliveries: NACK, lease expiry, or closed connection with requeue-on-disconnect.', 'failed'],
  ['retried', 'Failed deliveries after which the job got another delivery (ready or scheduled).', 'retried'],
  ['dead', 'Failed deliveries after which the job became dead (retries exhausted or NORETRY).', 'dead'],
  ['expired_leases', 'Deliveries whose lease ran out.', 'expiredLeases'],
];

/** the contentType of prom-client's Registry (Prometheus text format), known before the registry is built */
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Everything /metrics shows, in one prom-client registry. Gauges and
 * counters are read from the broker's own state when Prometheus scrapes
 * (collect callbacks), so commands pay nothing for them. The only work on
 * the hot path is the engine hook below: one histogram observation per
 * CLAIMed job and one per ACK.
 *
 * prom-client is loaded and the registry built at the first scrape: loading
 * it is a good part of start-up (bench/results/perf-step-13-restart.md), and
 * everything it shows is kept here meanwhile, except prom-client's process
 * metrics (nodejs_gc_*, nodejs_eventloop_lag_*), which count from then on.
 */
export class BrokerMetrics implements EngineMetrics, FsyncObserver {
  private registry: Promise<Prom.Registry> | null = null;
  /** prom-client while the registry is built */
  private prom!: typeof Prom;
  private reg!: Prom.Registry;
  private readonly timings = new Map<Bytes, QueueTimings>();
  /**
   * Claim time of touched jobs, whose updatedAt no longer is. Only TOUCH adds
   * entries (long jobs with heartbeats); untouched jobs need no bookkeeping.
   * Weak: an entry goes with its job.
   */
  private readonly touchedClaims = new WeakMap<Job, { delivery: number; claimedAt: number }>();
  private touches = 0;
  /** HTTP requests served, by route, method and status */
  private readonly httpRequests = new Map<string, { route: string; method: string; status: string; n: number }>();
  private readonly fsync = new HistogramCells(FSYNC_BOUNDS_MS);
  private readonly batch = new HistogramCells(BATCH_BOUNDS);
  private opsPerSec = 0;
  private lastCommands = 0;
  private readonly sampler: NodeJS.Timeout;

  constructor(private readonly b: MetricsSource) {
    this.lastCommands = b.stats.commandsProcessed;
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref();
  }

  private build(prom: typeof Prom): Prom.Registry {
    this.prom = prom;
    this.reg = new prom.Registry();
    // nodejs_eventloop_lag_*: prom-client's monitorEventLoopDelay, 10 ms resolution by default;
    // RESQ_EVENTLOOP_RESOLUTION_MS=1 (the benchmark sets it) sees sub-10 ms stalls, at the cost of a 1 ms timer
    const resolution = Number(process.env.RESQ_EVENTLOOP_RESOLUTION_MS ?? '');
    prom.collectDefaultMetrics({ register: this.reg, eventLoopMonitoringPrecision: resolution >= 1 ? Math.floor(resolution) : 10 });
    this.queueMetrics();
    this.serverMetrics();
    this.persistenceMetrics();
    this.total('resq_http_requests_total', 'Requests served by the HTTP listener, by route, method and status code.', ['route', 'method', 'status'], (emit) => {
      for (const r of this.httpRequests.values()) emit({ route: r.route, method: r.method, status: r.status }, r.n);
    });
    return this.reg;
  }

  // ---- hot path (EngineMetrics) ----------------------------------------

  claimed(job: Job, waitMs: number): void {
    (this.timings.get(job.queue) ?? this.addQueue(job.queue)).wait.observe(waitMs);
  }

  touching(job: Job): void {
    const t = this.touchedClaims.get(job);
    if (t && t.delivery === job.deliveries) return; // already touched in this delivery: keeps the claim time
    this.touchedClaims.set(job, { delivery: job.deliveries, claimedAt: job.updatedAt });
    this.touches++;
  }

  acked(job: Job, activeSince: number, at: number): void {
    let claimedAt = activeSince;
    if (this.touches > 0) {
      const t = this.touchedClaims.get(job);
      if (t && t.delivery === job.deliveries) claimedAt = t.claimedAt;
    }
    (this.timings.get(job.queue) ?? this.addQueue(job.queue)).processing.observe(at - claimedAt);
  }

  fsynced(ms: number, records: number): void {
    this.fsync.observe(ms);
    this.batch.observe(records);
  }

  private addQueue(name: Bytes): QueueTimings {
    // queue names come from clients: histograms of queues that no longer exist are dropped, so they stay bounded
    if (this.timings.size >= 2 * this.b.engine.store.queues.size + 64) this.prune();
    const t = { wait: new HistogramCells(), processing: new HistogramCells() };
    this.timings.set(name, t);
    return t;
  }

  private prune(): void {
    const queues = this.b.engine.store.queues;
    for (const name of this.timings.keys()) if (!queues.has(name)) this.timings.delete(name);
  }

  // ---- other observations -----------------------------------------------

  httpRequest(route: string, method: string, status: number): void {
    const key = `${route} ${method} ${status}`;
    const r = this.httpRequests.get(key);
    if (r) r.n++;
    else this.httpRequests.set(key, { route, method, status: String(status), n: 1 });
  }

  /**
   * The text Prometheus scrapes, built one metric at a time with a yield to
   * the event loop in between, so a scrape never holds the loop for long.
   */
  async text(): Promise<string> {
    // in one turn: with the counts-based selection 20,000 queues take a few ms (a version yielding
    // every 2,000 queues showed an unexplained 128 ms slice, bench/results/perf-step-8.md)
    const registry = await (this.registry ??= import('prom-client').then((prom) => this.build(prom)));
    this.figures = this.selectQueues();
    try {
      const parts: string[] = [];
      for (const m of registry.getMetricsAsArray()) {
        parts.push(await registry.getSingleMetricAsString(m.name));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return parts.join('\n') + '\n';
    } finally {
      this.figures = null;
    }
  }

  private selectQueues(): QueueFigures[] {
    const s = this.b.settings;
    return selectQueues(this.b.engine.store.queues.values(), s.int('metrics-max-queues'), s.int('default-maxlen'));
  }

  get contentType(): string {
    return PROMETHEUS_TEXT;
  }

  stop(): void {
    clearInterval(this.sampler);
  }

  /** commands per second over the last second, as Redis's instantaneous_ops_per_sec */
  private sample(): void {
    const now = this.b.stats.commandsProcessed;
    // CONFIG RESETSTAT sets the total back to 0
    this.opsPerSec = now >= this.lastCommands ? now - this.lastCommands : now;
    this.lastCommands = now;
  }

  // ---- definitions --------------------------------------------------------

  private gauge(name: string, help: string, labelNames: string[], fill: (emit: Emit) => void): void {
    new this.prom.Gauge({
      name,
      help,
      labelNames,
      registers: [this.reg],
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  }

  /** a counter whose value is a total the broker keeps (queue counters, stats) */
  private total(name: string, help: string, labelNames: string[], fill: (emit: Emit) => void): void {
    new this.prom.Counter({
      name,
      help,
      labelNames,
      registers: [this.reg],
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });
  }

  /** the queues of the scrape in progress (see text()) */
  private figures: QueueFigures[] | null = null;

  private eachQueue(fn: (labels: Labels, q: QueueFigures) => void): void {
    for (const q of this.figures ?? this.selectQueues()) fn({ queue: q.label }, q);
  }

  private queueMetrics(): void {
    this.gauge('resq_queue_jobs', 'Jobs in the queue now, by state.', ['queue', 'state'], (emit) =>
      this.eachQueue((l, q) => q.states.forEach((n, i) => emit({ ...l, state: STATE_NAMES[i] }, n))),
    );
    this.gauge('resq_queue_ready_jobs', 'Ready jobs in the queue now, by priority.', ['queue', 'priority'], (emit) =>
      this.eachQueue((l, q) => q.ready.forEach((n, p) => emit({ ...l, priority: PRIORITY_NAMES[p] }, n))),
    );
    this.gauge('resq_queue_paused', '1 while the queue is paused (for queue="(other)": how many of those are).', ['queue'], (emit) =>
      this.eachQueue((l, q) => emit(l, q.paused)),
    );
    this.gauge('resq_queue_maxlen', 'Max length of the queue (ready + scheduled + active); 0 = unlimited.', ['queue'], (emit) =>
      this.eachQueue((l, q) => q.maxlen !== null && emit(l, q.maxlen)),
    );
    // flow control: settings and the number of groups, per shown queue (not for queue="(other)"); never a label per group (unbounded)
    this.gauge(
      'resq_queue_concurrency',
      'Concurrency cap of the queue (QCONFIG CONCURRENCY): most active jobs across all workers; 0 = none.',
      ['queue'],
      (emit) => this.eachQueue((l, q) => q.queue && emit(l, q.queue.concurrency ?? 0)),
    );
    this.gauge(
      'resq_queue_rate_limit_per_second',
      'Rate limit of the queue (QCONFIG RATE n PER ms) as jobs handed out per second; 0 = none.',
      ['queue'],
      (emit) => this.eachQueue((l, q) => q.queue && emit(l, q.queue.rate ? (q.queue.rate.rate * 1000) / q.queue.rate.per : 0)),
    );
    this.gauge('resq_queue_groups', 'Groups (ENQUEUE ... GROUP key) of the queue with waiting or active jobs now (QSTATS groups).', ['queue'], (emit) =>
      this.eachQueue((l, q) => q.queue && emit(l, q.queue.groupCount)),
    );
    for (const [suffix, help, field] of QUEUE_COUNTERS) {
      this.total(`resq_queue_${suffix}_total`, `${help} Since start or CONFIG RESETSTAT.`, ['queue'], (emit) =>
        this.eachQueue((l, q) => emit(l, q.counters[field])),
      );
    }
    // per shown queue only: the histograms of queues summed under "(other)" are left out
    const series = (pick: (t: QueueTimings) => HistogramCells) => () => {
      this.prune();
      const out: Array<[Labels, HistogramCells]> = [];
      for (const f of this.figures ?? this.selectQueues()) {
        const t = f.queue && this.timings.get(f.queue.name);
        if (t) out.push([{ queue: f.label }, pick(t)]);
      }
      return out;
    };
    const resetAll = () => this.timings.clear();
    this.reg.registerMetric(
      new CellHistogram(
        'resq_queue_wait_seconds',
        'Time from ready (enqueue, end of delay or backoff) to claim, per delivery.',
        series((t) => t.wait),
        0.001,
        resetAll,
      ).asMetric(),
    );
    this.reg.registerMetric(
      new CellHistogram(
        'resq_queue_processing_seconds',
        'Time from claim to ACK of the delivery that completed the job.',
        series((t) => t.processing),
        0.001,
        resetAll,
      ).asMetric(),
    );
  }

  private serverMetrics(): void {
    const b = this.b;
    this.gauge('resq_connected_clients', 'RESP connections open now.', [], (emit) => emit({}, b.clients.size));
    this.gauge('resq_payload_arena_bytes', 'Memory of the payload arena (queued payloads outside the JS heap), by what it holds.', ['kind'], (emit) => {
      const a = b.engine.payloadStats();
      emit({ kind: 'chunks' }, a.bytes);
      emit({ kind: 'used' }, a.used);
    });
    this.gauge('resq_blocked_clients', 'RESP connections parked in a BLOCK (CLAIM, ENQUEUE, WAITJOB).', [], (emit) => {
      let n = 0;
      for (const c of b.clients.all()) if (c.isBlocked) n++;
      emit({}, n);
    });
    this.gauge('resq_blocked_requests', 'Parked requests by kind.', ['kind'], (emit) => {
      const w = b.engine.waiterCounts();
      emit({ kind: 'claim' }, w.claim);
      emit({ kind: 'enqueue' }, w.enqueue);
      emit({ kind: 'waitjob' }, w.job);
    });
    this.total('resq_connections_received_total', 'RESP connections accepted or refused since start.', [], (emit) => emit({}, b.stats.connectionsReceived));
    this.total('resq_rejected_connections_total', 'RESP connections refused (max-clients, shutdown).', [], (emit) => emit({}, b.stats.rejectedConnections));
    this.total('resq_commands_processed_total', 'Commands run (after lookup, arity and auth checks).', [], (emit) => emit({}, b.stats.commandsProcessed));
    this.total('resq_error_replies_total', 'Error replies sent.', [], (emit) => emit({}, b.stats.errorReplies));
    this.gauge('resq_commands_per_second', 'Commands run during the last second.', [], (emit) => emit({}, this.opsPerSec));
    const perCommand = (name: string, help: string, value: (s: { calls: number; usec: number; rejected: number; failed: number }) => number) =>
      this.total(name, help, ['command'], (emit) => {
        for (const [cmd, s] of b.stats.commands) emit({ command: cmd }, value(s));
      });
    perCommand('resq_command_calls_total', 'Calls per command (INFO commandstats calls).', (s) => s.calls);
    perCommand('resq_command_duration_seconds_total', 'Time spent executing each command (INFO commandstats usec).', (s) => s.usec / 1e6);
    perCommand('resq_command_rejected_calls_total', 'Calls refused before running (NOAUTH, LOADING, MISCONF).', (s) => s.rejected);
    perCommand('resq_command_failed_calls_total', 'Calls that ran and replied an error.', (s) => s.failed);
    this.gauge('resq_jobs', 'Jobs stored (DBSIZE).', [], (emit) => emit({}, b.engine.store.jobs.size));
    this.gauge('resq_queues', 'Queues that exist.', [], (emit) => emit({}, b.engine.store.queues.size));
    this.gauge('resq_recurring_jobs', 'Recurring (CRON) jobs.', [], (emit) => emit({}, b.engine.store.crons.size));
    this.gauge('resq_slowlog_length', 'Entries in SLOWLOG.', [], (emit) => emit({}, b.stats.slowlog.length));
  }

  private persistenceMetrics(): void {
    const b = this.b;
    this.gauge('resq_loading', '1 while the log and snapshot are being loaded at start-up.', [], (emit) => emit({}, b.gate.loading ? 1 : 0));
    this.gauge('resq_log_writable', '0 while the log cannot be written (writes get MISCONF).', [], (emit) => emit({}, b.persistence.writable ? 1 : 0));
    this.gauge('resq_log_last_lsn', 'Sequence number of the last log record appended.', [], (emit) => emit({}, b.persistence.lastLsn));
    this.gauge('resq_log_durable_lsn', 'Records up to this sequence number are durable (per appendfsync).', [], (emit) => emit({}, b.persistence.durableLsn));
    this.gauge('resq_last_snapshot_timestamp_seconds', 'Unix time of the last successful snapshot (0 = never), as LASTSAVE.', [], (emit) =>
      emit({}, b.persistence.lastSaveTime),
    );
    this.reg.registerMetric(
      new CellHistogram(
        'resq_log_fsync_seconds',
        'Duration of each log fsync (when the log reports them).',
        () => (this.fsync.count > 0 ? [[{}, this.fsync]] : []),
        0.001,
      ).asMetric(),
    );
    this.reg.registerMetric(
      new CellHistogram('resq_log_group_commit_records', 'Records made durable by each fsync: the group-commit batch size (when the log reports them).', () =>
        this.batch.count > 0 ? [[{}, this.batch]] : [],
      ).asMetric(),
    );
    this.gauge('resq_log_size_bytes', 'Bytes in the log since the last snapshot (INFO persistence aof_size_since_snapshot).', [], (emit) => {
      const v = b.persistence.info().find(([k]) => k === 'aof_size_since_snapshot')?.[1];
      if (typeof v === 'number') emit({}, v);
    });
    this.gauge(
      'resq_persistence',
      'Every numeric field of INFO persistence (log size, fsync and group-commit figures, ...), by field name.',
      ['field'],
      (emit) => {
        for (const [field, value] of b.persistence.info()) {
          const n = typeof value === 'number' ? value : Number(value);
          if (value !== '' && Number.isFinite(n)) emit({ field }, n);
        }
      },
    );
  }
}
