import { parsePriorityWeights, Settings } from '../config/settings';
import type { EngineConfig } from './engine/engine';
import type { RetentionPolicy } from './engine/job-store';

/** the engine's view of the settings (read again on every CONFIG SET) */
export function engineConfig(s: Settings): EngineConfig {
  return {
    defaultRetries: s.int('default-retries'),
    defaultBackoff: s.int('default-backoff'),
    defaultBackoffMax: s.int('default-backoff-max'),
    backoffJitter: s.get('backoff-jitter') as number,
    defaultLease: s.int('default-lease'),
    defaultMaxlen: s.int('default-maxlen'),
    requeueOnDisconnect: s.bool('requeue-on-disconnect'),
    priorityWeights: parsePriorityWeights(s.str('priority-weights')),
  };
}

export function retentionPolicy(s: Settings): RetentionPolicy {
  return {
    completedMs: s.int('completed-retention'),
    completedMax: s.int('completed-max'),
    deadMs: s.int('dead-retention'),
    deadMax: s.int('dead-max'),
    cancelledMs: s.int('cancelled-retention'),
  };
}
