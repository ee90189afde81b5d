/**
 * Redis's glob matching (stringmatchlen), used for ACL queue patterns: `*`
 * any run, `?` any one char, `[abc]` `[^abc]` `[a-z]` classes, `\x` the char
 * x. Case-sensitive, like Redis keys. Greedy with one backtrack point, so a
 * hostile pattern costs O(pattern * text), never exponential time.
 */
export function globMatch(pattern: string, text: string): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < text.length) {
    if (pi < pattern.length && pattern[pi] === '*') {
      while (pi < pattern.length && pattern[pi] === '*') pi++;
      if (pi === pattern.length) return true;
      starP = pi;
      starS = si;
      continue;
    }
    if (pi < pattern.length) {
      const next = matchOne(pattern, pi, text[si]);
      if (next > 0) {
        pi = next;
        si++;
        continue;
      }
    }
    if (starP < 0) return false;
    // let the last * take one more char and retry from there
    si = ++starS;
    pi = starP;
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** matches one pattern element at pi against c: the index after the element, or -1 */
function matchOne(p: string, pi: number, c: string): number {
  const ch = p[pi];
  if (ch === '?') return pi + 1;
  if (ch === '\\') {
    if (pi + 1 < p.length) return p[pi + 1] === c ? pi + 2 : -1;
    return c === '\\' ? pi + 1 : -1; // a trailing backslash is itself
  }
  if (ch !== '[') return ch === c ? pi + 1 : -1;
  let i = pi + 1;
  const not = p[i] === '^';
  if (not) i++;
  let match = false;
  while (i < p.length && p[i] !== ']') {
    if (p[i] === '\\' && i + 1 < p.length) {
      if (p[i + 1] === c) match = true;
      i += 2;
    } else if (i + 2 < p.length && p[i + 1] === '-' && p[i + 2] !== ']') {
      let lo = p[i];
      let hi = p[i + 2];
      if (lo > hi) [lo, hi] = [hi, lo];
      if (c >= lo && c <= hi) match = true;
      i += 3;
    } else {
      if (p[i] === c) match = true;
      i++;
    }
  }
  if (i < p.length) i++; // the closing ]; an unclosed class ends with the pattern, as in Redis
  return match !== not ? i : -1;
}
