import type { Clock } from './engine/engine';

/** the longest setTimeout delay node accepts (about 24.8 days) */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * The one timer behind every job deadline (delays, leases, TTLs, retention):
 * the engine announces its earliest deadline, this arms a single setTimeout
 * for it and calls back with the time when it fires.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (now: number) => void,
  ) {}

  /** makes sure the timer fires by `at` (engine ms); a later deadline than the armed one changes nothing */
  arm(at: number): void {
    if (this.stopped || at >= this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    if (at === Infinity) return;
    const delay = Math.max(0, Math.min(at - this.clock.now(), MAX_DELAY));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedAt = Infinity;
      this.fire(this.clock.now());
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Unix ms driven by the monotonic clock: a wall-clock step while the broker
 * runs moves no deadline. Anchored to the wall clock at each start.
 */
export function monotonicClock(): Clock {
  const base = Date.now() - performance.now();
  return { now: () => Math.round(base + performance.now()) };
}
