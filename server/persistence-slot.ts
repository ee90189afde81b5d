import { LogRecord } from './engine/records';
import { FsyncObserver, MemoryPersistence, Persistence } from './persistence/types';

/**
 * The persistence the rest of the server holds on to: a memory placeholder
 * while the data directory loads (nothing is journaled then), the disk log
 * once it is open. Everything above it keeps one reference for the
 * broker's whole life.
 */
export class PersistenceSlot implements Persistence {
  private current: Persistence = new MemoryPersistence();
  private observer: FsyncObserver | null = null;
  private readonly durableListeners: Array<(lsn: number) => void> = [];
  private readonly writtenListeners: Array<(lsn: number) => void> = [];

  attach(p: Persistence): void {
    this.current = p;
    if (this.observer) p.setFsyncObserver(this.observer);
    for (const l of this.durableListeners) p.onDurable(l);
    for (const l of this.writtenListeners) p.onWritten(l);
  }

  append(rec: LogRecord): void {
    this.current.append(rec);
  }
  get lastLsn(): number {
    return this.current.lastLsn;
  }
  get durableLsn(): number {
    return this.current.durableLsn;
  }
  get writtenLsn(): number {
    return this.current.writtenLsn;
  }
  get writable(): boolean {
    return this.current.writable;
  }
  get lastError(): string | null {
    return this.current.lastError;
  }
  get lastSaveTime(): number {
    return this.current.lastSaveTime;
  }
  onDurable(listener: (lsn: number) => void): void {
    this.durableListeners.push(listener);
    this.current.onDurable(listener);
  }
  onWritten(listener: (lsn: number) => void): void {
    this.writtenListeners.push(listener);
    this.current.onWritten(listener);
  }
  wantDurable(lsn: number): void {
    this.current.wantDurable(lsn);
  }
  save(): Promise<void> {
    return this.current.save();
  }
  bgsave(): boolean {
    return this.current.bgsave();
  }
  close(): Promise<void> {
    return this.current.close();
  }
  info(): Array<[string, string | number]> {
    return this.current.info();
  }
  setFsyncObserver(o: FsyncObserver): void {
    this.observer = o;
    this.current.setFsyncObserver(o);
  }
}
