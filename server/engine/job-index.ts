import type { Bytes, Job } from './job';
import { JobKey, idOfKey, jobKey } from './job-key';

/**
 * Every job of the store by its id. Keyed by the job's key (job-key.ts): a
 * decimal id is looked up by its number, so the million ids of a million
 * server-made jobs need no strings at all; the API still speaks ids.
 */
export class JobIndex {
  private readonly byKey = new Map<JobKey, Job>();

  get size(): number {
    return this.byKey.size;
  }

  get(id: Bytes): Job | undefined {
    return this.byKey.get(jobKey(id));
  }

  has(id: Bytes): boolean {
    return this.byKey.has(jobKey(id));
  }

  /** adds the job under its id (replacing a job with that id, if any) */
  set(job: Job): void {
    this.byKey.set(job.key, job);
  }

  delete(job: Job): void {
    this.byKey.delete(job.key);
  }

  clear(): void {
    this.byKey.clear();
  }

  /** in insertion order; like a Map's, the iterator survives changes made while it runs */
  values(): IterableIterator<Job> {
    return this.byKey.values();
  }

  *keys(): IterableIterator<Bytes> {
    for (const k of this.byKey.keys()) yield idOfKey(k);
  }
}
