/**
 * How the store keys a job by its id. Ids the server makes are decimal
 * counters ("1", "2", ...); such an id is kept as its number, a small
 * integer V8 stores inside the field or Map slot itself, instead of as a
 * string of 24+ bytes per job. Any other id (a producer's own, or a
 * counter past 9 digits) stays the string. The mapping is one-to-one:
 * a number key is always the canonical decimal form of its id (no sign,
 * no leading zero), so "007" and "7" remain two different ids.
 */
export type JobKey = number | string;

/** 9 digits: below 2^31, so every number key is a small integer (Smi) */
const MAX_DIGITS = 9;

export function jobKey(id: string): JobKey {
  const n = id.length;
  if (n === 0 || n > MAX_DIGITS) return id;
  const c0 = id.charCodeAt(0);
  if (c0 < 48 || c0 > 57 || (c0 === 48 && n > 1)) return id;
  let v = c0 - 48;
  for (let i = 1; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return id;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** jobKey of the latin1 id in bytes[s, e) when that is a number key, else -1 (the same rules, read in place: no string made) */
export function numberKeyAt(bytes: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0 || n > MAX_DIGITS) return -1;
  const c0 = bytes[s];
  if (c0 < 48 || c0 > 57 || (c0 === 48 && n > 1)) return -1;
  let v = c0 - 48;
  for (let i = s + 1; i < e; i++) {
    const c = bytes[i];
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

export function idOfKey(key: JobKey): string {
  return typeof key === 'number' ? String(key) : key;
}
