/**
 * "Log before reply" for HTTP: a response that reports a change waits until
 * the log record is durable, exactly like a RESP reply held by its
 * connection. The broker calls release() from the same place it releases
 * RESP replies (the persistence's onDurable), and with Infinity at shutdown
 * once the log is flushed and closed.
 */
export class DurableWaiter {
  /** in LSN order: requests are appended in time order and LSNs only grow */
  private waiting: Array<{ lsn: number; resolve: () => void }> = [];

  constructor(
    private readonly durableLsn: () => number,
    /** tells the log somebody waits (see Persistence.wantDurable) */
    private readonly want: (lsn: number) => void,
  ) {}

  /** resolves once every record up to lsn is durable */
  wait(lsn: number): Promise<void> {
    if (lsn <= this.durableLsn()) return Promise.resolve();
    this.want(lsn);
    return new Promise((resolve) => this.waiting.push({ lsn, resolve }));
  }

  release(durable: number): void {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n].lsn <= durable) this.waiting[n++].resolve();
    if (n > 0) this.waiting.splice(0, n);
  }

  get pending(): number {
    return this.waiting.length;
  }
}
