import { EngineError, EngineErrorCode } from '../engine/engine-errors';

/** Error codes of the HTTP API: the RESP codes, plus NOTFOUND / METHOD / MEDIA for routing. */
export type HttpErrorCode = EngineErrorCode | 'NOTFOUND' | 'METHOD' | 'MEDIA' | 'DENIED';

/**
 * HTTP status per error code. The code and message in the JSON body are the
 * ones RESP would send, so a client can handle both the same way.
 */
const STATUS: Record<HttpErrorCode, number> = {
  ERR: 400, // bad argument, bad JSON
  NOTFOUND: 404, // no such endpoint
  METHOD: 405,
  MEDIA: 415, // a POST that is not application/json
  DENIED: 403, // protected mode: /v1 from another host with no password set
  NOJOB: 404,
  STATE: 409, // the job is not in a state the request applies to
  STALE: 409,
  FULL: 429, // queue at its MAXLEN: back-pressure, retry later (Retry-After)
  TOOBIG: 413,
  NOAUTH: 401,
  WRONGPASS: 401,
  NOPERM: 403,
  NOPROTO: 400,
  LOADING: 503, // still replaying the log: retry later
  MISCONF: 503, // the log cannot be written: writes refused, reads served
};

export class HttpError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }

  static from(e: EngineError): HttpError {
    const retry: Record<string, string> = e.code === 'FULL' || e.code === 'LOADING' ? { 'Retry-After': '1' } : {};
    return new HttpError(e.code, e.message, retry);
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const badRequest = (message: string) => new HttpError('ERR', message);
