import type { FsyncObserver, Persistence } from '../../server/persistence/types';

/** a log whose durability, writability and fsync reports a test decides (for an in-process Broker) */
export class ScriptedLog implements Persistence {
  lastLsn = 0;
  durableLsn = 0;
  writtenLsn = 0;
  writable = true;
  lastError: string | null = null;
  lastSaveTime = 1_700_000_000;
  observer: FsyncObserver | null = null;
  /** sync() after every append, from a microtask: durable as soon as the command is done */
  autoSync = false;
  private listeners: Array<(lsn: number) => void> = [];
  private writtenListeners: Array<(lsn: number) => void> = [];
  append(): void {
    this.lastLsn++;
    if (this.autoSync) queueMicrotask(() => this.sync());
  }
  onDurable(listener: (lsn: number) => void): void {
    this.listeners.push(listener);
  }
  /** the highest LSN a reply said it waits for (wantDurable) */
  wanted = 0;
  wantDurable(lsn: number): void {
    this.wanted = Math.max(this.wanted, lsn);
  }
  onWritten(listener: (lsn: number) => void): void {
    this.writtenListeners.push(listener);
  }
  /** everything appended so far is written to the OS (not yet durable) */
  write(): void {
    if (this.writtenLsn === this.lastLsn) return;
    this.writtenLsn = this.lastLsn;
    for (const l of this.writtenListeners) l(this.writtenLsn);
  }
  /** everything appended so far becomes durable */
  sync(): void {
    const batch = this.lastLsn - this.durableLsn;
    if (batch === 0) return;
    this.write();
    this.durableLsn = this.lastLsn;
    this.observer?.fsynced(2, batch, batch * 100);
    for (const l of this.listeners) l(this.durableLsn);
  }
  setFsyncObserver(o: FsyncObserver): void {
    this.observer = o;
  }
  async save(): Promise<void> {}
  bgsave(): boolean {
    return true;
  }
  async close(): Promise<void> {
    this.sync();
  }
  info(): Array<[string, string | number]> {
    return [
      ['aof_enabled', 1],
      ['log_size', 1234],
      ['aof_last_write_status', this.writable ? 'ok' : 'err'],
    ];
  }
}
