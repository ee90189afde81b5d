/**
 * Typed errors of the resq SDK.
 *
 * The broker's error replies start with an upper-case code (`FULL queue is
 * full`, `STALE ...`); ioredis hands them over as a `ReplyError` whose message
 * is the reply text. `toResqError()` turns that into an instance of one class
 * per code, so callers can use `instanceof` (or `err.code`) instead of parsing
 * messages. The original error is kept as `cause`.
 */

export interface ResqErrorOptions {
  cause?: unknown;
  /** the command that failed, e.g. 'ENQUEUE' */
  command?: string;
}

/** Base class of every error the SDK throws on purpose. */
export class ResqError extends Error {
  /** the broker's error code (`FULL`, `STALE`, ...), or `CONNECTION` / `DECODE` for client-side failures */
  readonly code: string;
  /** the command that failed, when known */
  readonly command?: string;

  constructor(code: string, message: string, options: ResqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.command !== undefined) this.command = options.command;
  }

  override get name(): string {
    return 'ResqError';
  }
}

/** `-ERR`: syntax, arity, bad number, unknown command or option. */
export class CommandError extends ResqError {
  override get name(): string {
    return 'CommandError';
  }
}
/** `-FULL`: the queue is at its max length (and BLOCK was not given or timed out). */
export class FullError extends ResqError {
  override get name(): string {
    return 'FullError';
  }
}
/** `-TOOBIG`: the payload exceeds the broker's `max-payload`. */
export class TooBigError extends ResqError {
  override get name(): string {
    return 'TooBigError';
  }
}
/** `-NOJOB`: unknown job id. */
export class NoJobError extends ResqError {
  override get name(): string {
    return 'NoJobError';
  }
}
/** `-STATE`: the job is not in a state that allows the command (e.g. ACK of a ready job). */
export class StateError extends ResqError {
  override get name(): string {
    return 'StateError';
  }
}
/** `-STALE`: the delivery given with DELIVERY is no longer the active one: the lease was lost. */
export class StaleError extends ResqError {
  override get name(): string {
    return 'StaleError';
  }
}
/** `-NOAUTH`: authentication required. */
export class NoAuthError extends ResqError {
  override get name(): string {
    return 'NoAuthError';
  }
}
/** `-WRONGPASS`: invalid user name or password. */
export class WrongPassError extends ResqError {
  override get name(): string {
    return 'WrongPassError';
  }
}
/** `-NOPERM`: the user may not run this command. */
export class NoPermError extends ResqError {
  override get name(): string {
    return 'NoPermError';
  }
}
/** `-NOPROTO`: unsupported protocol version in HELLO. */
export class NoProtoError extends ResqError {
  override get name(): string {
    return 'NoProtoError';
  }
}
/** `-LOADING`: the broker is still replaying its log at start-up. */
export class LoadingError extends ResqError {
  override get name(): string {
    return 'LoadingError';
  }
}
/** `-MISCONF`: the broker cannot write its log; writes are refused. */
export class MisconfError extends ResqError {
  override get name(): string {
    return 'MisconfError';
  }
}
/** The connection to the broker failed or closed before a reply arrived (no reply code). */
export class ConnectionError extends ResqError {
  override get name(): string {
    return 'ConnectionError';
  }
}
/** A payload or result could not be decoded by the configured codec. */
export class DecodeError extends ResqError {
  override get name(): string {
    return 'DecodeError';
  }
}

/**
 * Thrown by a worker's handler to fail the job for good: the worker NACKs it
 * with NORETRY, so it goes to the dead-letter queue whatever retries are left.
 */
export class NoRetryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  override get name(): string {
    return 'NoRetryError';
  }
}

type ErrorClass = new (code: string, message: string, options?: ResqErrorOptions) => ResqError;

const BY_CODE = new Map<string, ErrorClass>([
  ['ERR', CommandError],
  ['FULL', FullError],
  ['TOOBIG', TooBigError],
  ['NOJOB', NoJobError],
  ['STATE', StateError],
  ['STALE', StaleError],
  ['NOAUTH', NoAuthError],
  ['WRONGPASS', WrongPassError],
  ['NOPERM', NoPermError],
  ['NOPROTO', NoProtoError],
  ['LOADING', LoadingError],
  ['MISCONF', MisconfError],
]);

/** The upper-case code an error reply starts with, or undefined. */
export function replyCode(message: string): string | undefined {
  const m = /^([A-Z][A-Z0-9_]*)(?:\s|$)/.exec(message);
  return m ? m[1] : undefined;
}

function isReplyError(err: Error): boolean {
  // ioredis re-exports redis-errors' ReplyError; match by name so that two
  // copies of redis-errors in node_modules cannot break instanceof.
  return err.name === 'ReplyError';
}

/**
 * Maps an error from ioredis to a typed ResqError: reply errors by their
 * code (an unknown code gives a plain ResqError with that code), everything
 * else (connection closed, max retries, aborted pipeline) to ConnectionError.
 * A ResqError passes through unchanged.
 */
export function toResqError(err: unknown, command?: string): ResqError {
  if (err instanceof ResqError) return err;
  if (!(err instanceof Error)) return new ResqError('ERR', String(err), { command });
  if (isReplyError(err)) {
    const code = replyCode(err.message) ?? 'ERR';
    const Cls = BY_CODE.get(code) ?? ResqError;
    return new Cls(code, err.message, { cause: err, command });
  }
  return new ConnectionError('CONNECTION', err.message, { cause: err, command });
}

/**
 * `Queue.enqueueMany` failed for some items. `ids[i]` is the id of item i if
 * it was enqueued, `errors[i]` its error if it failed; both are null for
 * items not sent (batches after the first failing one are not sent).
 */
export class BatchError extends ResqError {
  readonly ids: (string | null)[];
  readonly errors: (ResqError | null)[];

  constructor(ids: (string | null)[], errors: (ResqError | null)[]) {
    const first = errors.find((e) => e !== null);
    const failed = errors.filter((e) => e !== null).length;
    super(first?.code ?? 'ERR', `${failed} of ${ids.length} jobs failed to enqueue: ${first?.message ?? 'unknown error'}`, {
      cause: first,
      command: 'ENQUEUE',
    });
    this.ids = ids;
    this.errors = errors;
  }

  override get name(): string {
    return 'BatchError';
  }
}
