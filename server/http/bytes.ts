import { Bytes } from '../engine/job';

/**
 * Conversions between the broker's byte strings (one char per byte, see
 * engine/job.ts) and what HTTP and JSON carry. The rule: text on the HTTP
 * side is UTF-8, so a queue named "café" over HTTP is the same queue as
 * `redis-cli ENQUEUE café ...` (which sends the UTF-8 bytes).
 */

/** JS text (from JSON) -> its UTF-8 bytes */
export function textToBytes(s: string): Bytes {
  return Buffer.from(s, 'utf8').toString('latin1');
}

const NON_ASCII = /[\u0080-\uffff]/;

/** bytes -> JS text for JSON; invalid UTF-8 sequences become U+FFFD (use the *_base64 fields for exact bytes) */
export function bytesToText(b: Bytes): string {
  // ASCII fast path: ids made by the server and most names
  if (!NON_ASCII.test(b)) return b;
  return Buffer.from(b, 'latin1').toString('utf8');
}

export function bytesToBase64(b: Bytes): string {
  return Buffer.from(b, 'latin1').toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** strict standard base64 (padding required, no whitespace); undefined when malformed */
export function base64ToBytes(s: string): Bytes | undefined {
  if (!BASE64.test(s)) return undefined;
  return Buffer.from(s, 'base64').toString('latin1');
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * One path segment, percent-decoded straight to bytes: %XX is the byte XX
 * (so any byte can be named, %FF included), other characters are their
 * UTF-8 bytes. Returns undefined for a malformed escape ("%4", "%zz").
 */
export function decodeSegment(segment: string): Bytes | undefined {
  if (segment.indexOf('%') < 0) return textToBytes(segment);
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment.charCodeAt(i);
    if (ch !== 0x25) {
      out += ch < 0x80 ? segment[i] : textToBytes(segment[i]);
      continue;
    }
    const hi = hexValue(segment.charCodeAt(i + 1));
    const lo = hexValue(segment.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return undefined;
    out += String.fromCharCode(hi * 16 + lo);
    i += 2;
  }
  return out;
}

/** bytes -> a path segment (for Location headers): unreserved characters as is, every other byte %XX */
export function encodeSegment(b: Bytes): string {
  return b.replace(/[^A-Za-z0-9\-._~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
