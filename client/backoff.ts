/** Backoff functions for `WorkerOptions.backoff` (pure: no I/O, no state). */

/** (attempt, err) -> delay in ms; attempt is the job's delivery count, 1 on the first failure. */
export type BackoffFn = (attempt: number, err: Error) => number;

export interface ExponentialBackoffOptions {
  /** delay after the first failure, ms; default 1000 */
  base?: number;
  /** cap, ms; default 60000 */
  max?: number;
  /** fraction of the delay taken off at random (0 = none, 1 = "full jitter"); default 0.2 */
  jitter?: number;
  /** random source in [0, 1), for tests; default Math.random */
  random?: () => number;
}

/** min(max, base * 2^(attempt-1)), minus up to `jitter` of it at random, rounded to whole ms. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): BackoffFn {
  const base = options.base ?? 1000;
  const max = options.max ?? 60_000;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  const random = options.random ?? Math.random;
  return (attempt: number) => {
    const k = Math.max(1, Math.floor(attempt));
    const capped = Math.min(max, base * 2 ** Math.min(k - 1, 52));
    return Math.max(0, Math.round(capped * (1 - jitter * random())));
  };
}
