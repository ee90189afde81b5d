import * as zlib from 'zlib';

/**
 * CRC-32 (the zlib / IEEE 802.3 one, as zlib.crc32) of buf[start, end)
 * without a Buffer view of the range. A snapshot is a million frames of
 * ~170 bytes: zlib.crc32 needs a view per frame (subarray: one object each)
 * and a call into C++, which together cost more than the sum itself, so
 * short ranges are summed in JS (slice-by-8) and long ones, where zlib's
 * vectorised code wins, by zlib (the crossover: bench/crc-bench.ts).
 */
export function crc32(buf: Uint8Array, start: number, end: number): number {
  return crc32Int(buf, start, end) >>> 0;
}

/** ranges this long and longer go to zlib */
export const LARGE = 256;

/**
 * crc32 as a signed 32-bit integer (the same bits as crc32, as readInt32LE reads them):
 * always a small integer to V8, where half of the unsigned values are boxed numbers,
 * a heap allocation per frame checked
 */
export function crc32Int(buf: Uint8Array, start: number, end: number): number {
  return end - start < LARGE ? crc32JsInt(buf, start, end) : zlib.crc32(buf.subarray(start, end)) | 0;
}

/** crc32 in JS for any length (crc32 uses it below LARGE) */
export function crc32Js(buf: Uint8Array, start: number, end: number): number {
  return crc32JsInt(buf, start, end) >>> 0;
}

function crc32JsInt(buf: Uint8Array, start: number, end: number): number {
  let c = ~0;
  let i = start;
  const t = T;
  for (const last = end - 8; i <= last; i += 8) {
    const a = c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    const b = buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24);
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + (b & 0xff)] ^
      t[512 + ((b >>> 8) & 0xff)] ^
      t[256 + ((b >>> 16) & 0xff)] ^
      t[b >>> 24];
  }
  for (; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c;
}

/** T[k * 256 + b]: the CRC register after byte b then k zero bytes (T[0..255] is the classic byte table) */
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n];
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff] ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}
