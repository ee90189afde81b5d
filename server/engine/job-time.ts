/**
 * A job's createdAt and updatedAt, as stored in the Job. Unix ms (about
 * 1.8e12) are not small integers, so V8 would box each one in a 16-byte
 * heap number per field per job; an offset from a base near them is a
 * small integer (Smi, kept inside the field) for 24 days either side of
 * the base. The base is the first time stored in this process (no clock
 * read here); later or earlier times still round-trip exactly and only
 * cost the box again.
 *
 * Exact: for integer times below 2^52 (engine times are integer ms), and for
 * any time within a factor of two of the base (the subtraction is then
 * exact, Sterbenz), so any unix ms time of this century.
 */
let base = NaN;

export function toEngineTime(t: number): number {
  return t - timeBase(t);
}

/**
 * the base, set from `t` the first time. Callers on hot paths use
 * `timeBase()` then subtract inline: a time passed as an argument to a
 * call V8 does not inline is boxed (16 bytes of garbage per job on a
 * snapshot load, perf-step-14-restart.md), and the no-argument call only
 * returns the box already held here.
 */
export function timeBase(): number;
export function timeBase(t: number): number;
export function timeBase(t?: number): number {
  if (base !== base && t !== undefined) base = Number.isFinite(t) ? Math.floor(t) : 0;
  return base;
}

export function fromEngineTime(v: number): number {
  return v + base;
}
