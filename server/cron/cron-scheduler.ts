import type * as NodeCron from 'node-cron';
import { Engine } from '../engine/engine';
import { EngineError } from '../engine/engine-errors';
import { CronSetRecord } from '../engine/records';
import { Logger } from '../log';

let loaded: typeof NodeCron | undefined;
/**
 * node-cron, loaded on first use: it is a fair part of start-up
 * (bench/results/perf-step-13-restart.md) and most brokers have no crons.
 */
function cron(): typeof NodeCron {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('node-cron') as typeof NodeCron);
}

/** checks a 5- or 6-field expression and a time zone; returns an error text or undefined */
export function cronExpressionError(expression: string, timezone: string): string | undefined {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `cron expression needs 5 or 6 fields, got ${fields}`;
  if (!cron().validate(expression)) return `invalid cron expression '${expression}'`;
  if (timezone !== '') {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      return `unknown time zone '${timezone}'`;
    }
  }
  return undefined;
}

/** the next run of an expression from now, unix ms (0 if none) */
export function nextRun(expression: string, timezone: string): number {
  const task = cron().createTask(expression, () => {}, timezone ? { timezone } : {});
  const next = task.getNextRuns(1)[0];
  void task.destroy();
  return next ? next.getTime() : 0;
}

/**
 * Runs the recurring jobs of the store with node-cron. Each run enqueues
 * with the id `cron:<name>:<scheduled unix ms>`, so a run that is caught up
 * after a crash cannot enqueue twice while the first job still exists.
 * After a restart, a job whose persisted next run is in the past gets one
 * catch-up run (`cron-catchup one`) or none (`none`).
 */
export class CronScheduler {
  private readonly tasks = new Map<string, NodeCron.ScheduledTask>();

  constructor(
    private readonly engine: Engine,
    private readonly log: Logger,
    private readonly catchup: () => string,
    private readonly defaultTimezone: string,
  ) {}

  timezoneOf(entry: CronSetRecord): string {
    return entry.timezone || this.defaultTimezone;
  }

  /** after start-up replay: start every stored entry, catching up missed runs */
  start(): void {
    const now = Date.now();
    for (const entry of this.engine.store.crons.values()) {
      const missed = entry.nextRunAt > 0 && entry.nextRunAt < now;
      this.schedule(entry.name);
      if (missed && this.catchup() === 'one') {
        this.log('info', `cron ${JSON.stringify(entry.name)}: catching up the run due at ${new Date(entry.nextRunAt).toISOString()}`);
        this.fire(entry.name, entry.nextRunAt);
      }
    }
  }

  /** (re)starts the task of a stored entry */
  schedule(name: string): void {
    this.unschedule(name);
    const entry = this.engine.store.crons.get(name);
    if (!entry) return;
    const tz = this.timezoneOf(entry);
    const task = cron().createTask(entry.expression, (ctx) => this.fire(name, ctx.date.getTime()), {
      name: `resq-cron-${this.tasks.size}`,
      ...(tz ? { timezone: tz } : {}),
    });
    this.tasks.set(name, task);
    void task.start();
  }

  unschedule(name: string): void {
    const task = this.tasks.get(name);
    if (!task) return;
    this.tasks.delete(name);
    void task.destroy();
  }

  nextRunOf(name: string): number {
    const next = this.tasks.get(name)?.getNextRun();
    return next ? next.getTime() : 0;
  }

  private fire(name: string, scheduledAt: number): void {
    const entry = this.engine.store.crons.get(name);
    if (!entry) return;
    const scheduledSecond = Math.floor(scheduledAt / 1000) * 1000;
    try {
      this.engine.enqueue(entry.queue, entry.payload, { ...entry.options, id: `cron:${name}:${scheduledSecond}` });
      this.engine.cronRan(name, this.nextRunOf(name) || nextRun(entry.expression, this.timezoneOf(entry)));
    } catch (e) {
      const why = e instanceof EngineError ? e.wire : (e as Error).message;
      this.log('warn', `cron ${JSON.stringify(name)}: run skipped: ${why}`);
    }
  }

  stop(): void {
    for (const name of [...this.tasks.keys()]) this.unschedule(name);
  }
}
