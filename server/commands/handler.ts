import type { HandlerName } from '../../protocol/command-specs';
import type { CommandContext } from '../context/command-context';
import { EngineError } from '../engine/engine-errors';
import type { ClientConnection } from '../net/client-connection';

/** A command handler: parse arguments, call the engine, write the reply. Name, arity and the gate are already checked. */
export type Handler = (ctx: CommandContext, conn: ClientConnection, args: string[]) => void;

/** the handlers of one group, keyed by spec name ("client|list" for subcommands); a name without a spec does not compile */
export type HandlerGroup = { readonly [K in HandlerName]?: Handler };

/** for replies written outside dispatch (a parked request resuming): engine errors become error replies */
export function replyOrError(conn: ClientConnection, write: () => void): void {
  try {
    write();
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    conn.writer.error(e.wire);
  }
}
