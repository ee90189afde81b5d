/** Error codes of the contract; the message text follows the code on the wire ("-NOJOB no such job"). */
export type EngineErrorCode = 'ERR' | 'NOJOB' | 'STATE' | 'STALE' | 'FULL' | 'TOOBIG' | 'MISCONF' | 'LOADING' | 'NOAUTH' | 'WRONGPASS' | 'NOPERM' | 'NOPROTO';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** the error line as sent on the wire, without the leading '-' */
  get wire(): string {
    return `${this.code} ${this.message}`;
  }
}

export const noJob = () => new EngineError('NOJOB', 'no such job');
export const notActive = (state: string) => new EngineError('STATE', `job is ${state}, not active`);
export const stale = () => new EngineError('STALE', 'delivery is no longer active (lease lost or job redelivered)');
