import type { Engine, EnqueueOptions } from '../engine/engine';
import { Bytes } from '../engine/job';
import { argError } from '../rules/args';
import { checkQueueName } from '../rules/names';
import { checkPayload } from '../rules/payload';
import { cronExpressionError, nextRun } from './cron-scheduler';

export interface CronEntryRequest {
  name: Bytes;
  expression: string;
  /** '' = the timezone setting */
  timezone: string;
  queue: Bytes;
  payload: Bytes;
  /** parses and checks (validateEnqueueOptions) the options; called after the checks above, as RESP always did */
  options: () => EnqueueOptions;
}

/**
 * CRON SET, whichever transport asked (RESP words or an HTTP JSON body):
 * the same checks in the same order, then the record and the timer.
 */
export function setCronEntry(
  engine: Engine,
  timers: { schedule(name: string): void },
  limits: { defaultTimezone: string; maxPayload: number },
  e: CronEntryRequest,
): void {
  checkQueueName(e.queue);
  const tz = e.timezone || limits.defaultTimezone;
  const bad = cronExpressionError(e.expression, tz);
  if (bad) throw argError(bad);
  checkPayload(e.payload, limits.maxPayload);
  const options = e.options();
  if (options.id !== undefined) throw argError('CRON SET takes no ID or BLOCK (each run gets its own id)');
  const { name, expression, timezone, queue, payload } = e;
  engine.setCron({ name, expression, timezone, queue, payload, options, nextRunAt: nextRun(expression, tz) });
  timers.schedule(e.name);
}
