/**
 * Logs a noisy kind of event as bursts: the first at once, then at most one
 * line per interval with the count and the last example, so a misbehaving
 * client cannot flood the log.
 */
export class BurstLog {
  private count = 0;
  private last = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (line: string) => void,
    /** e.g. "protocol error(s)": named in the summary line */
    private readonly what: string,
    private readonly intervalMs = 10_000,
  ) {}

  report(example: string): void {
    if (this.timer) {
      this.count++;
      this.last = example;
      return;
    }
    this.write(example);
    this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      if (this.count === 0) {
        this.timer = null;
        return;
      }
      this.write(`${this.count} more ${this.what} in ${this.intervalMs / 1000} s, the last: ${this.last}`);
      this.count = 0;
      this.arm();
    }, this.intervalMs);
    this.timer.unref();
  }
}
