import { Bytes, Job, JobState, PRIORITY_NAMES, STATE_NAMES } from '../engine/job';
import type { ListOrder, ListPosition } from '../engine/job-listing';
import { argError, parseInteger } from './args';
import { JobField } from './job-fields';

/**
 * JOBS (RESP) and GET /v1/queues/{queue}/jobs (HTTP) read the same
 * arguments and show the same entry: both come from here.
 */

export const JOBS_DEFAULT_COUNT = 10;
export const JOBS_MAX_COUNT = 1000;
export const JOBS_DEFAULT_PREVIEW = 64;
export const JOBS_MAX_PREVIEW = 4096;

export function parseJobState(word: string): JobState {
  const i = (STATE_NAMES as readonly string[]).indexOf(word.toLowerCase());
  if (i < 0) throw argError(`state must be one of ${STATE_NAMES.join(', ')}`);
  return i as JobState;
}

export function parseOrder(word: string): ListOrder {
  const w = word.toLowerCase();
  if (w !== 'asc' && w !== 'desc') throw argError('ORDER must be ASC or DESC');
  return w;
}

export const parseCount = (text: string) => parseInteger(text, 'COUNT', 1, JOBS_MAX_COUNT);
export const parsePreview = (text: string) => parseInteger(text, 'PREVIEW', 0, JOBS_MAX_PREVIEW);

/**
 * The cursor is opaque to clients: "0" starts (and, returned, ends) a walk;
 * otherwise "<list>.<listSeq>.<id as base64url>". The id lets the next page
 * start in O(1) while the last job shown is still in its list; the listSeq
 * alone is enough to resume correctly after it left.
 */
export function encodeCursor(p: ListPosition | null): string {
  if (p === null) return '0';
  return `${p.list}.${p.seq}.${Buffer.from(p.id, 'latin1').toString('base64url')}`;
}

const CURSOR = /^([0-2])\.(\d{1,15})\.([A-Za-z0-9_-]*)$/;

export function decodeCursor(text: string): ListPosition | null {
  if (text === '0') return null;
  const m = CURSOR.exec(text);
  if (!m) throw argError('invalid cursor');
  return { list: Number(m[1]), seq: Number(m[2]), id: Buffer.from(m[3], 'base64url').toString('latin1') };
}

const zeroIsNull = (n: number): number | null => (n === 0 ? null : n);

/** when the job's next timed event of its state is: the run time (scheduled) or the lease end (active) */
function dueAt(j: Job): number | null {
  if (j.state === JobState.Scheduled) return zeroIsNull(j.runAt);
  if (j.state === JobState.Active) return zeroIsNull(j.leaseUntil);
  return null;
}

/**
 * One JOBS entry, in this order: RESP sends the values as a flat array,
 * JSON an object with these names. payload-head is the first `preview`
 * bytes of the payload (STATUS ... WITHPAYLOAD has the whole of it).
 */
export function jobEntryFields(preview: number): readonly JobField[] {
  return [
    { name: 'id', kind: 'bytes', value: (j) => j.id },
    { name: 'queue', kind: 'bytes', value: (j) => j.queue },
    { name: 'priority', kind: 'text', value: (j) => PRIORITY_NAMES[j.priority] },
    { name: 'deliveries', kind: 'int', value: (j) => j.deliveries },
    { name: 'created-at', kind: 'int', value: (j) => j.createdAt },
    { name: 'updated-at', kind: 'int', value: (j) => j.updatedAt },
    { name: 'due-at', kind: 'int', value: dueAt },
    { name: 'payload-size', kind: 'int', value: (j) => j.payloadSize },
    { name: 'payload-head', kind: 'bytes', value: (j): Bytes => j.payloadHead(preview) },
    { name: 'last-error', kind: 'bytes', value: (j) => j.lastError },
  ];
}
