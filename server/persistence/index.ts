// Placeholder until the append-only log lands: memory only (the persistence work replaces this file).
import { JobStore } from '../engine/job-store';
import { MemoryPersistence, Persistence } from './types';

export interface PersistenceOptions {
  dir: string;
  appendfsync: () => 'always' | 'everysec' | 'no';
  segmentSize: () => number;
  snapshotLogSize: () => number;
  snapshotSlice: () => number;
  repair: boolean;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

export interface RecoveryReport {
  jobs: number;
  records: number;
  snapshotLoaded: boolean;
  ms: number;
}

export async function openPersistence(_store: JobStore, _opts: PersistenceOptions): Promise<{ persistence: Persistence; report: RecoveryReport }> {
  return { persistence: new MemoryPersistence(), report: { jobs: 0, records: 0, snapshotLoaded: false, ms: 0 } };
}
