import { EngineError } from '../engine/engine-errors';
import type { Bytes } from '../engine/job';

/** max-payload, enforced here for every way a payload or result arrives (ENQUEUE, ACK RESULT, CRON SET, HTTP) */
export function checkPayload(payload: Bytes, maxPayload: number, what = 'payload'): void {
  if (payload.length > maxPayload) throw new EngineError('TOOBIG', `${what} is ${payload.length} bytes, max-payload is ${maxPayload}`);
}
