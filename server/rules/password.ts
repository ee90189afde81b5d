import * as crypto from 'crypto';

function digest(b: Buffer): Buffer {
  return crypto.createHash('sha256').update(b).digest();
}

/**
 * How a password is stored (ACL users, the aclfile, ACL GETUSER): the
 * SHA-256 of its bytes, as lower-case hex, as Redis stores them. A password
 * from the wire is a latin1 string (one char per byte).
 */
export function passwordHash(bytes: string): string {
  return digest(Buffer.from(bytes, 'latin1')).toString('hex');
}

/** the hashes a setting's text (requirepass) may be sent as: its UTF-8 bytes, and its latin1 bytes when it has such a reading */
export function settingPasswordHashes(text: string): string[] {
  const utf8 = digest(Buffer.from(text, 'utf8')).toString('hex');
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\xff]*$/.test(text)) return [utf8];
  const latin1 = passwordHash(text);
  return latin1 === utf8 ? [utf8] : [utf8, latin1];
}

/**
 * Constant-time password check for every transport (AUTH, HELLO AUTH, HTTP
 * Basic and Bearer): the given password is hashed, then compared with every
 * stored hash, always all of them, with timingSafeEqual. Neither the length
 * nor the content of a secret, nor which hash matched, leaks through timing.
 */
export function passwordMatchesHashes(given: string, hashes: Iterable<string>): boolean {
  const g = digest(Buffer.from(given, 'latin1'));
  let ok = false;
  for (const h of hashes) {
    const stored = Buffer.from(h, 'hex');
    if (stored.length === g.length && crypto.timingSafeEqual(g, stored)) ok = true;
  }
  return ok;
}
