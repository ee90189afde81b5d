import type { EnqueueOptions } from './enqueue-options';
import { Bytes, JobState, Priority } from './job';

/**
 * Every state change is one small record. The engine decides a change,
 * applies it with applyRecord(), and hands it to the journal; start-up
 * replays the same records through the same applyRecord(). Records carry
 * their outcome (e.g. `to`) and their times, so replay needs no clock and
 * no randomness.
 */
export type LogRecord =
  | EnqueueRecord
  | { type: 'claim'; at: number; id: Bytes; leaseUntil: number; deliveryLease: number }
  | { type: 'ack'; at: number; id: Bytes; result: Bytes | null }
  | { type: 'nack'; at: number; id: Bytes; to: JobState.Ready | JobState.Scheduled | JobState.Dead; runAt: number; error: Bytes | null }
  | { type: 'touch'; at: number; id: Bytes; leaseUntil: number }
  /** a delivery that failed without a NACK: its lease ran out, or (requeue-on-disconnect) its connection closed */
  | { type: 'lease-lost'; at: number; id: Bytes; to: JobState.Ready | JobState.Dead; reason: 'expired' | 'disconnect' }
  | { type: 'ttl-expired'; at: number; id: Bytes }
  | { type: 'cancel'; at: number; id: Bytes }
  | { type: 'requeue'; at: number; id: Bytes }
  /** PROMOTE: a scheduled job made ready before its run time */
  | { type: 'promote'; at: number; id: Bytes }
  | { type: 'purge'; at: number; queue: Bytes; what: PurgeWhat }
  | QueueConfigRecord
  | GroupConfigRecord
  /** QDEL: the queue's settings and its finished jobs go; it had no waiting or active job */
  | { type: 'queue-delete'; at: number; queue: Bytes }
  | CronSetRecord
  | { type: 'cron-del'; at: number; name: Bytes }
  /** a recurring job fired (or was caught up); nextRunAt tells a restart whether a run was missed */
  | { type: 'cron-run'; at: number; name: Bytes; nextRunAt: number };

/** every setting of a queue (fields added later load as null from older records: no limit) */
export interface QueueConfigRecord {
  type: 'queue-config';
  at: number;
  queue: Bytes;
  maxlen: number | null;
  paused: boolean;
  concurrency: number | null;
  rate: number | null;
  ratePer: number | null;
  groupConcurrency: number | null;
  groupRate: number | null;
  groupRatePer: number | null;
  groupMaxlen: number | null;
}

/** GROUP CONFIG: one group's overrides of the queue's group limits (null = the default; all null = no override) */
export interface GroupConfigRecord {
  type: 'group-config';
  at: number;
  queue: Bytes;
  group: Bytes;
  concurrency: number | null;
  rate: number | null;
  ratePer: number | null;
  maxlen: number | null;
}

export interface EnqueueRecord {
  type: 'enqueue';
  at: number;
  id: Bytes;
  /** the server id counter this id used; 0 for a client-chosen id */
  seq: number;
  queue: Bytes;
  payload: Bytes;
  priority: Priority;
  /** 0 = ready now */
  runAt: number;
  retries: number;
  backoffBase: number;
  backoffMax: number;
  lease: number;
  expiresAt: number;
  /** GROUP key, '' = none (older records: none) */
  group: Bytes;
}

export interface CronSetRecord {
  type: 'cron-set';
  at: number;
  name: Bytes;
  expression: string;
  timezone: string;
  queue: Bytes;
  payload: Bytes;
  /** ENQUEUE options of each run, validated when the entry was set (never an ID: each run gets its own) */
  options: EnqueueOptions;
  /** when it is due next (unix ms; 0 = never) */
  nextRunAt: number;
}

export type PurgeWhat = 'dead' | 'completed' | 'cancelled' | 'all' | 'waiting';

export type RecordType = LogRecord['type'];
