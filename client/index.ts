/**
 * resq client SDK: the public API. Everything a user may import is listed
 * here explicitly; other modules of client/ are internals.
 */
export { Queue } from './queue';
export type { QueueOptions, QueueEvents, StatusOptions } from './queue';
export { Worker } from './worker';
export type { WorkerOptions, WorkerEvents, Processor, NackState, StalledDuring } from './worker';
export { Job } from './job';
export { codecs, jsonCodec, msgpackCodec, stringCodec, rawCodec } from './codecs';
export type { Codec, CodecName } from './codecs';
export { exponentialBackoff } from './backoff';
export type { BackoffFn, ExponentialBackoffOptions } from './backoff';
export {
  ResqError,
  CommandError,
  FullError,
  TooBigError,
  NoJobError,
  StateError,
  StaleError,
  NoAuthError,
  WrongPassError,
  NoPermError,
  NoProtoError,
  LoadingError,
  MisconfError,
  ConnectionError,
  DecodeError,
  BatchError,
  NoRetryError,
  toResqError,
} from './errors';
export { DEFAULT_URL } from './connection';
export type { ConnectionLike, UrlConnection } from './connection';
export { FINAL_STATES } from './types';
export type {
  Priority,
  JobState,
  EnqueueOptions,
  EnqueueItem,
  JobStatus,
  QueueStats,
  PeekedJob,
  DeadJob,
  PurgeTarget,
  ListedJob,
  JobsOptions,
  JobsPage,
  QueueLimits,
  GroupLimitsOptions,
  GroupStats,
  GroupSummary,
} from './types';
