/**
 * CRC-32 of consecutive ranges of one big buffer, as the frame walker sums
 * frames: `node dist/bench/crc-bench.js [--frames N]`. Per range length, ns
 * per range of zlib.crc32(buf.subarray(s, e)) (a view per range) and of the
 * JS slice-by-8 loop crc32Js(buf, s, e) (server/persistence/crc32.ts), best
 * of 5 alternating rounds. crc32() takes the JS loop below LARGE, zlib above.
 */
import * as zlib from 'zlib';
import { crc32Js, LARGE } from '../server/persistence/crc32';

const i = process.argv.indexOf('--frames');
const frames = i > 0 ? Number(process.argv[i + 1]) : 200_000;
const now = () => Number(process.hrtime.bigint());

function round(len: number, n: number, f: (s: number, e: number) => number): { ns: number; x: number } {
  let x = 0;
  const t0 = now();
  for (let k = 0; k < n; k++) x ^= f(k * len, k * len + len);
  return { ns: (now() - t0) / n, x };
}

console.log(`CRC-32 per range, ${frames} ranges (fewer above 1 KB), best of 5; crc32() switches to zlib at ${LARGE} bytes\n`);
console.log(`| bytes | zlib.crc32(subarray) ns | JS slice-by-8 ns | JS / zlib |`);
console.log(`|---:|---:|---:|---:|`);
for (const len of [32, 100, 170, 256, 384, 512, 1024, 4096, 65536]) {
  const n = Math.min(frames, Math.floor((64 * 1024 * 1024) / len));
  const buf = Buffer.allocUnsafe(len * n);
  for (let k = 0; k < buf.length; k++) buf[k] = (k * 2654435761) >>> 24;
  const z = (s: number, e: number) => zlib.crc32(buf.subarray(s, e));
  const js = (s: number, e: number) => crc32Js(buf, s, e);
  let bz = Infinity;
  let bj = Infinity;
  for (let r = 0; r < 5; r++) {
    const a = round(len, n, z);
    const b = round(len, n, js);
    if (a.x !== b.x) throw new Error(`CRCs differ at ${len} bytes`);
    bz = Math.min(bz, a.ns);
    bj = Math.min(bj, b.ns);
  }
  console.log(`| ${len} | ${bz.toFixed(0)} | ${bj.toFixed(0)} | ${(bj / bz).toFixed(2)} |`);
}
