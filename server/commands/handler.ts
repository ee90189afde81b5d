import { EngineError } from '../engine/engine-errors';
import type { Broker } from '../broker';
import type { ClientConnection } from '../net/client-connection';

/** A command handler: parse arguments, call the engine, write the reply. Name and arity are already checked. */
export type Handler = (broker: Broker, conn: ClientConnection, args: string[]) => void;

/** longest wait a BLOCK option accepts (ms); 0 means forever */
export const MAX_BLOCK_MS = 365 * 24 * 3600 * 1000;
/** longest delay, lease or TTL (ms): ten years */
export const MAX_DURATION_MS = 10 * 365 * 24 * 3600 * 1000;

/** for replies written outside dispatch (a parked request resuming): engine errors become error replies */
export function replyOrError(conn: ClientConnection, write: () => void): void {
  try {
    write();
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    conn.writer.error(e.wire);
  }
}
