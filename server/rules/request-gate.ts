import { EngineError } from '../engine/engine-errors';

/** What the gate reads of the server, whichever transport asks. */
export interface GateState {
  /** start-up replay still running */
  readonly loading: boolean;
  /** false while the log cannot be written (disk full, I/O error) */
  readonly logWritable: boolean;
  readonly logError: string | null;
  /** a password is set (requirepass) */
  readonly authRequired: boolean;
}

/** Who asks: a RESP connection or one HTTP request. */
export interface Requester {
  readonly authed: boolean;
}

/** What a request needs, from its command spec flags (RESP) or its route (HTTP). */
export interface Requirement {
  /** the RESP command name (for HTTP: the command the route performs), for error texts and the coming ACL check */
  readonly command: string;
  /** allowed before authentication */
  readonly noauth?: boolean;
  /** allowed while the log is replayed */
  readonly loading?: boolean;
  /** changes state: refused while the log cannot be written */
  readonly write?: boolean;
}

export const NOAUTH_TEXT = 'Authentication required.';
export const LOADING_TEXT = 'resq is loading the log and snapshot into memory';

/**
 * The one request gate, called by RESP dispatch and the HTTP API alike:
 * NOAUTH, then LOADING, then MISCONF. Returns the refusal, or null to go on.
 * Per-user permissions (ACL) will be checked here too, after NOAUTH.
 */
export function gateRefusal(state: GateState, who: Requester, need: Requirement): EngineError | null {
  if (!need.noauth && state.authRequired && !who.authed) return new EngineError('NOAUTH', NOAUTH_TEXT);
  if (state.loading && !need.loading) return new EngineError('LOADING', LOADING_TEXT);
  if (need.write && !state.logWritable) {
    return new EngineError(
      'MISCONF',
      `the log cannot be written (${state.logError ?? 'I/O error'}); writes are refused until the disk accepts them, reads still work`,
    );
  }
  return null;
}
