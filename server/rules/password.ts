import * as crypto from 'crypto';

function digest(b: Buffer): Buffer {
  return crypto.createHash('sha256').update(b).digest();
}

/**
 * Constant-time password check for every transport (AUTH, HELLO AUTH, HTTP
 * Bearer). Both sides are hashed first, so neither the length nor the
 * content of the secret leaks through timing. A password arrives as bytes
 * (latin1 string); the setting may hold UTF-8 text, so both readings of it
 * are compared, always both.
 */
export function passwordMatches(given: string, required: string): boolean {
  const g = digest(Buffer.from(given, 'latin1'));
  const asBytes = crypto.timingSafeEqual(g, digest(Buffer.from(required, 'latin1')));
  const asUtf8 = crypto.timingSafeEqual(g, digest(Buffer.from(required, 'utf8')));
  return asBytes || asUtf8;
}
