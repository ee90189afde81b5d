import { Bytes, Job, JobState, PRIORITY_NAMES, STATE_NAMES } from '../engine/job';

/** how a field is shown: bytes from the wire, server text, or an integer; null = absent (nil / JSON null) */
export type FieldKind = 'bytes' | 'text' | 'int';

export interface JobField {
  readonly name: string;
  readonly kind: FieldKind;
  value(j: Job): Bytes | string | number | null;
}

const zeroIsNull = (n: number): number | null => (n === 0 ? null : n);

/**
 * STATUS: every field of a job, in order. The RESP reply and the HTTP JSON
 * body are both rendered from this list, so they cannot drift apart.
 */
export const STATUS_FIELDS: readonly JobField[] = [
  { name: 'id', kind: 'bytes', value: (j) => j.id },
  { name: 'queue', kind: 'bytes', value: (j) => j.queue },
  { name: 'state', kind: 'text', value: (j) => STATE_NAMES[j.state] },
  { name: 'priority', kind: 'text', value: (j) => PRIORITY_NAMES[j.priority] },
  { name: 'deliveries', kind: 'int', value: (j) => j.deliveries },
  { name: 'retries', kind: 'int', value: (j) => j.retries },
  { name: 'created-at', kind: 'int', value: (j) => j.createdAt },
  { name: 'updated-at', kind: 'int', value: (j) => j.updatedAt },
  { name: 'run-at', kind: 'int', value: (j) => (j.state === JobState.Scheduled ? zeroIsNull(j.runAt) : null) },
  { name: 'lease-until', kind: 'int', value: (j) => (j.state === JobState.Active ? zeroIsNull(j.leaseUntil) : null) },
  { name: 'last-error', kind: 'bytes', value: (j) => j.lastError },
  { name: 'result', kind: 'bytes', value: (j) => j.result },
  { name: 'lease', kind: 'int', value: (j) => j.lease },
  { name: 'backoff', kind: 'int', value: (j) => j.backoffBase },
  { name: 'backoff-max', kind: 'int', value: (j) => j.backoffMax },
  { name: 'expires-at', kind: 'int', value: (j) => zeroIsNull(j.expiresAt) },
  { name: 'group', kind: 'bytes', value: (j) => (j.group === '' ? null : j.group) },
];

/** STATUS ... WITHPAYLOAD adds this one last */
export const PAYLOAD_FIELD: JobField = { name: 'payload', kind: 'bytes', value: (j) => j.payload };
