import type { KeyArg } from '../../protocol/command-specs';
import { EngineError } from '../engine/engine-errors';
import { ackBatchIds, isAckBatch } from './ack-batch';

/** What the gate needs of a user: the ACL user (server/acl) implements it. */
export interface UserPermissions {
  readonly name: string;
  /** every command allowed: the per-command check is skipped */
  readonly allCommands: boolean;
  /** every queue allowed (~* / allkeys): the queue check is skipped */
  readonly allQueues: boolean;
  canRun(command: string): boolean;
  canAccess(queue: string): boolean;
}

/** A refusal for ACL LOG: which rule, what was refused, to whom. */
export interface Denial {
  readonly reason: 'command' | 'key';
  /** the command ("config|set") or the queue */
  readonly object: string;
  readonly username: string;
}

/** The users, as the gate reads them. */
export interface AccessControl {
  /** the user an authenticated requester acts as; undefined once deleted or switched off */
  user(name: string): UserPermissions | undefined;
  /** the default user while it is on and needs no password: a requester that did not authenticate acts as it */
  readonly openDefault: UserPermissions | undefined;
  /** records a refusal in ACL LOG */
  denied(d: Denial, who: Requester): void;
}

/** job id -> its queue, for requests naming a job (ACK, STATUS, ...) */
export interface JobQueues {
  queueOf(id: string): string | undefined;
}

/** What the gate reads of the server, whichever transport asks. */
export interface GateState {
  /** start-up replay still running */
  readonly loading: boolean;
  /** false while the log cannot be written (disk full, I/O error) */
  readonly logWritable: boolean;
  readonly logError: string | null;
  /** a requester must authenticate (the default user has a password or is off) */
  readonly authRequired: boolean;
  readonly acl: AccessControl;
  readonly jobs: JobQueues;
}

/** Who asks: a RESP connection or one HTTP request. */
export interface Requester {
  /** authenticated (AUTH, HELLO AUTH, HTTP credentials) as `user` */
  readonly authed: boolean;
  readonly user: string;
}

/** What a request needs, from its command spec (RESP) or its route (HTTP). */
export interface Requirement {
  /** the RESP command name (for HTTP: the command the route performs): what the ACL checks and error texts name */
  readonly command: string;
  /** allowed before authentication, and to every user (AUTH, HELLO, QUIT, RESET; as in Redis) */
  readonly noauth?: boolean;
  /** allowed while the log is replayed */
  readonly loading?: boolean;
  /** changes state: refused while the log cannot be written */
  readonly write?: boolean;
  /** the argument naming the queue the request touches (checked against the user's queue patterns) */
  readonly key?: KeyArg | null;
}

export const NOAUTH_TEXT = 'Authentication required.';
export const LOADING_TEXT = 'resq is loading the log and snapshot into memory';

const NO_ARGS: readonly string[] = [];

/** the queue a request touches, or undefined (no such argument, or a job id that does not exist: the command answers that) */
function touchedQueue(state: GateState, key: KeyArg, args: readonly string[]): string | undefined {
  const word = args[key.at];
  if (word === undefined) return undefined;
  const isQueue = key.is === 'queue' || (key.is === 'job-or-queue' && args[key.at + 1]?.toUpperCase() === 'ALL');
  return isQueue ? word : state.jobs.queueOf(word);
}

/** the first queue of the request the user may not access, or undefined */
function refusedQueue(state: GateState, user: UserPermissions, key: KeyArg, args: readonly string[]): string | undefined {
  if (key.is === 'job-or-ids' && isAckBatch(args)) {
    for (const id of ackBatchIds(args)) {
      const queue = state.jobs.queueOf(id);
      if (queue !== undefined && !user.canAccess(queue)) return queue;
    }
    return undefined;
  }
  const queue = touchedQueue(state, key, args);
  return queue !== undefined && !user.canAccess(queue) ? queue : undefined;
}

function deny(state: GateState, who: Requester, d: Denial): EngineError {
  state.acl.denied(d, who);
  const object = d.object.slice(0, 128);
  const what = d.reason === 'command' ? `run the '${object}' command` : `access the '${object}' queue`;
  return new EngineError('NOPERM', `User ${d.username} has no permissions to ${what}`);
}

/**
 * The one request gate, called by RESP dispatch and the HTTP API alike:
 * NOAUTH, the user's command permission (NOPERM), LOADING, the user's queue
 * patterns for the queue the request touches (NOPERM; a job's queue is
 * looked up), MISCONF. Every NOPERM goes to ACL LOG. Returns the refusal,
 * or null to go on. `args`: the request words (RESP) or path parameters
 * (HTTP) that need.key indexes.
 */
export function gateRefusal(state: GateState, who: Requester, need: Requirement, args: readonly string[] = NO_ARGS): EngineError | null {
  if (!need.noauth) {
    const user = who.authed ? state.acl.user(who.user) : state.acl.openDefault;
    if (!user) return new EngineError('NOAUTH', NOAUTH_TEXT);
    if (!user.allCommands && !user.canRun(need.command)) return deny(state, who, { reason: 'command', object: need.command, username: user.name });
    if (state.loading && !need.loading) return new EngineError('LOADING', LOADING_TEXT);
    if (need.key && !user.allQueues) {
      const queue = refusedQueue(state, user, need.key, args);
      if (queue !== undefined) return deny(state, who, { reason: 'key', object: queue, username: user.name });
    }
  } else if (state.loading && !need.loading) {
    return new EngineError('LOADING', LOADING_TEXT);
  }
  if (need.write && !state.logWritable) {
    return new EngineError(
      'MISCONF',
      `the log cannot be written (${state.logError ?? 'I/O error'}); writes are refused until the disk accepts them, reads still work`,
    );
  }
  return null;
}
