import { Journal } from '../engine/engine';

/** Told about each fsync of the log: how long it took and how many records (and bytes) it made durable. */
export interface FsyncObserver {
  fsynced(ms: number, records: number, bytes: number): void;
}

/**
 * What the network layer needs from persistence. The log knows nothing of
 * sockets: it reports, by log sequence number (LSN), how far records are
 * durable, and the server releases the replies that waited for them.
 */
export interface Persistence extends Journal {
  /** LSN of the last record appended (0 before any) */
  readonly lastLsn: number;
  /** every record with LSN <= this is as durable as the appendfsync policy promises (written; fsynced under `always`) */
  readonly durableLsn: number;
  /** false while the log cannot be written (disk full, I/O error): write commands get -MISCONF */
  readonly writable: boolean;
  /** the reason writable is false, for the MISCONF message and INFO */
  readonly lastError: string | null;
  /** every record with LSN <= this is written to the OS (survives a crash of the broker, not of the machine); >= durableLsn */
  readonly writtenLsn: number;
  /** called (asynchronously) each time durableLsn advances */
  onDurable(listener: (lsn: number) => void): void;
  /** called (asynchronously) each time writtenLsn advances (also when durableLsn does) */
  onWritten(listener: (lsn: number) => void): void;
  /** a reply waits for durableLsn to reach lsn (with writes ahead of the fsync, the log syncs on demand) */
  wantDurable(lsn: number): void;
  /** SAVE: a snapshot now; resolves when it is safely in place */
  save(): Promise<void>;
  /** BGSAVE: starts a snapshot in the background; false if one is already running */
  bgsave(): boolean;
  /** unix seconds of the last successful snapshot (0 = never) */
  readonly lastSaveTime: number;
  /** flush and fsync everything appended, then close files */
  close(): Promise<void>;
  /** field/value pairs for INFO persistence */
  info(): Array<[string, string | number]>;
  /** fsync latency and group-commit sizes go to this observer (metrics) */
  setFsyncObserver(o: FsyncObserver): void;
}

/** Memory only: records are dropped, every reply is released at once. For unit tests of the layers above. */
export class MemoryPersistence implements Persistence {
  lastLsn = 0;
  get durableLsn(): number {
    return this.lastLsn;
  }
  get writtenLsn(): number {
    return this.lastLsn;
  }
  readonly writable = true;
  readonly lastError = null;
  readonly lastSaveTime = 0;
  append(): void {
    this.lastLsn++;
  }
  onDurable(): void {}
  onWritten(): void {}
  wantDurable(): void {}
  async save(): Promise<void> {}
  bgsave(): boolean {
    return true;
  }
  async close(): Promise<void> {}
  info(): Array<[string, string | number]> {
    return [['aof_enabled', 0]];
  }
  setFsyncObserver(): void {}
}
