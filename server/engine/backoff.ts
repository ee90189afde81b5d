/**
 * Retry delay after the k-th failed delivery (k >= 1):
 * min(max, base * 2^(k-1)), plus up to `jitter` of that as random extra.
 * Pure: the random draw is a parameter so tests can pin it.
 */
export function backoffDelay(k: number, base: number, max: number, jitter: number, random: number): number {
  const exp = Math.min(Math.max(k - 1, 0), 62);
  const plain = Math.min(max, base * 2 ** exp);
  return Math.round(plain + plain * jitter * random);
}
