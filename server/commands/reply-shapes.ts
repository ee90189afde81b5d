import { ReplyWriter } from '../../protocol/reply-writer';
import { Job } from '../engine/job';
import type { JobPage } from '../engine/job-listing';
import { JobField, PAYLOAD_FIELD, STATUS_FIELDS } from '../rules/job-fields';
import { encodeCursor, jobEntryFields } from '../rules/job-listing';

/** CLAIM / PEEK entry: [id, queue, payload, deliveries] */
export function writeJobEntries(w: ReplyWriter, jobs: Job[]): void {
  w.arrayHeader(jobs.length);
  for (const j of jobs) {
    w.arrayHeader(4);
    w.bulk(j.id);
    w.bulk(j.queue);
    w.bulk(j.payload);
    w.int(j.deliveries);
  }
}

/** DLQ entry: [id, queue, payload, deliveries, last-error] */
export function writeDeadEntries(w: ReplyWriter, jobs: Job[]): void {
  w.arrayHeader(jobs.length);
  for (const j of jobs) {
    w.arrayHeader(5);
    w.bulk(j.id);
    w.bulk(j.queue);
    w.bulk(j.payload);
    w.int(j.deliveries);
    nullableBulk(w, j.lastError);
  }
}

function nullableBulk(w: ReplyWriter, s: string | null): void {
  if (s === null) w.nil();
  else w.bulk(s);
}

/** STATUS: every key always present, absent values nil; a map in RESP3, a flat array in RESP2 */
export function writeStatus(w: ReplyWriter, j: Job | null | undefined, withPayload: boolean): void {
  if (!j) {
    w.nil();
    return;
  }
  w.mapHeader(STATUS_FIELDS.length + (withPayload ? 1 : 0));
  for (const f of STATUS_FIELDS) writeField(w, f, j);
  if (withPayload) writeField(w, PAYLOAD_FIELD, j);
}

function writeField(w: ReplyWriter, f: JobField, j: Job): void {
  w.bulk(f.name);
  const v = f.value(j);
  if (v === null) w.nil();
  else if (typeof v === 'number') w.int(v);
  else w.bulk(v);
}

export function writeFieldMap(w: ReplyWriter, fields: Array<[string, number | string]>): void {
  w.mapHeader(fields.length);
  for (const [k, v] of fields) {
    w.bulk(k);
    if (typeof v === 'number') w.int(v);
    else w.bulk(v);
  }
}

/** JOBS: [next-cursor, [[id, queue, priority, deliveries, created-at, updated-at, due-at, payload-size, payload-head, last-error], ...]] */
export function writeListedJobs(w: ReplyWriter, page: JobPage, preview: number): void {
  const entry = jobEntryFields(preview);
  w.arrayHeader(2);
  w.bulk(encodeCursor(page.next));
  w.arrayHeader(page.jobs.length);
  for (const j of page.jobs) {
    w.arrayHeader(entry.length);
    for (const f of entry) {
      const v = f.value(j);
      if (v === null) w.nil();
      else if (typeof v === 'number') w.int(v);
      else w.bulk(v);
    }
  }
}
