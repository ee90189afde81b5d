import type { Bytes } from '../engine/job';
import { argError } from './args';

/** longest queue name and job id, in bytes: names are bytes from the wire, but never empty and never huge */
export const MAX_NAME_BYTES = 1024;

function checkName(what: string, name: Bytes): Bytes {
  if (name.length === 0) throw argError(`${what} must not be empty`);
  if (name.length > MAX_NAME_BYTES) throw argError(`${what} is ${name.length} bytes, at most ${MAX_NAME_BYTES} are allowed`);
  return name;
}

/** a queue name that may create a queue (ENQUEUE, PAUSE, QCONFIG, CRON SET, HTTP) */
export const checkQueueName = (name: Bytes): Bytes => checkName('queue name', name);

/** a client-chosen job id (ENQUEUE ... ID) */
export const checkJobId = (id: Bytes): Bytes => checkName('ID', id);

/** a group key (ENQUEUE ... GROUP, GROUP CONFIG) */
export const checkGroupKey = (key: Bytes): Bytes => checkName('GROUP', key);
