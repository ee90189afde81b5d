import { EngineError } from '../engine/engine-errors';

/** A wrong argument: replied as -ERR, the connection stays usable. */
export function argError(message: string): EngineError {
  return new EngineError('ERR', message);
}

const DIGITS = /^-?\d+$/;

/** Strict integer: "12abc", "1.5", "", overflow and (unless allowed) negatives are errors. */
export function parseInteger(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!DIGITS.test(text) || text.length > 17) throw argError(`value is not an integer or out of range (${what})`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw argError(`value is not an integer or out of range (${what})`);
  if (n < min || n > max) throw argError(`${what} must be between ${min} and ${max}`);
  return n;
}

/** Walks "KEYWORD value" options of a command, case-insensitively. */
export class OptionReader {
  private i: number;

  constructor(
    private readonly args: readonly string[],
    start: number,
  ) {
    this.i = start;
  }

  get done(): boolean {
    return this.i >= this.args.length;
  }

  /** the next keyword, upper-cased */
  keyword(): string {
    return this.args[this.i++].toUpperCase();
  }

  /** peeks the next word upper-cased without consuming it */
  peek(): string | undefined {
    return this.args[this.i]?.toUpperCase();
  }

  value(option: string): string {
    if (this.i >= this.args.length) throw argError(`syntax error: ${option} needs a value`);
    return this.args[this.i++];
  }

  int(option: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    return parseInteger(this.value(option), option, min, max);
  }

  unknown(word: string): never {
    throw argError(`syntax error: unknown option '${word}'`);
  }
}

/** longest wait a BLOCK option accepts (ms); 0 means forever */
export const MAX_BLOCK_MS = 365 * 24 * 3600 * 1000;
/** longest delay, lease or TTL (ms): ten years */
export const MAX_DURATION_MS = 10 * 365 * 24 * 3600 * 1000;
