/**
 * Request parser benchmark: resq's RequestParser against the `redis-parser`
 * package on the same bytes, in one run, reported as ratios because the
 * machine is noisy.
 *
 * Input: 100,000 pipelined `ENQUEUE q <100-byte payload>` RESP arrays, fed in
 * 64 KB chunks (chunks are prepared up front, so only parsing is timed).
 * Variants are interleaved in every round, rounds are repeated, and the
 * median round is reported.
 *
 * redis-parser only parses RESP arrays (no inline commands) and returns
 * Buffers (returnBuffers: true) or utf8 strings. resq returns latin1 byte
 * strings, so the like-for-like variant is "redis-parser Buffers + latin1",
 * which converts every element with toString('latin1'). The raw Buffer and
 * utf8 variants are shown too: Buffers are cheaper but retain the socket
 * chunk; utf8 strings are not binary-safe.
 *
 * Run: npx tsc -p . && node dist/bench/parser-bench.js [requests] [rounds]
 */
import Parser from 'redis-parser';
import { RequestParser } from '../protocol/request-parser';

const REQUESTS = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const CHUNK = 64 * 1024;
const PAYLOAD_BYTES = 100;

interface Variant {
  name: string;
  /** parses every chunk; returns a checksum (request count plus payload bytes) */
  run(chunks: Buffer[]): number;
}

function buildInput(): Buffer {
  const payload = 'p'.repeat(PAYLOAD_BYTES - 6);
  const parts: string[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const body = payload + String(i % 1_000_000).padStart(6, '0');
    parts.push(`*3\r\n$7\r\nENQUEUE\r\n$1\r\nq\r\n$${body.length}\r\n${body}\r\n`);
  }
  return Buffer.from(parts.join(''), 'latin1');
}

function split(buf: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < buf.length; pos += CHUNK) chunks.push(buf.subarray(pos, pos + CHUNK));
  return chunks;
}

const resq: Variant = {
  name: 'resq RequestParser (latin1 strings)',
  run(chunks) {
    let sum = 0;
    const parser = new RequestParser({ maxArgs: 1024 * 1024, maxBulk: 512 * 1024 * 1024, maxInline: 64 * 1024 });
    const onRequest = (args: string[]): void => {
      sum += 1 + args[2].length;
    };
    for (const c of chunks) parser.feed(c, onRequest);
    return sum;
  },
};

function redisParser(name: string, returnBuffers: boolean, toLatin1: boolean): Variant {
  return {
    name,
    run(chunks) {
      let sum = 0;
      const parser = new Parser({
        returnBuffers,
        returnReply: (reply: Array<Buffer | string>) => {
          if (toLatin1) {
            const args = (reply as Buffer[]).map((b) => b.toString('latin1'));
            sum += 1 + args[2].length;
          } else {
            sum += 1 + reply[2].length;
          }
        },
        returnError: (err) => {
          throw err;
        },
      });
      for (const c of chunks) parser.execute(c);
      return sum;
    },
  };
}

const VARIANTS: Variant[] = [
  resq,
  redisParser('redis-parser Buffers + latin1 (like for like)', true, true),
  redisParser('redis-parser Buffers (no conversion)', true, false),
  redisParser('redis-parser utf8 strings', false, false),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main(): void {
  const input = buildInput();
  const chunks = split(input);
  const expected = REQUESTS * (1 + PAYLOAD_BYTES);
  console.log(
    `node ${process.version}, ${REQUESTS} requests (${(input.length / 1e6).toFixed(1)} MB) in ${chunks.length} chunks of 64 KB, ${ROUNDS} rounds + 1 warm-up`,
  );

  const times = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    // Rotate the order so no variant always runs right after GC pressure from another.
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(round + k) % VARIANTS.length];
      const t0 = process.hrtime.bigint();
      const sum = v.run(chunks);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (sum !== expected) throw new Error(`${v.name}: checksum ${sum} != ${expected}`);
      if (round > 0) times.get(v)?.push(ms);
    }
  }

  const base = median(times.get(resq) ?? []);
  console.log('');
  console.log('| parser | median ms | requests/s | resq speed-up (x) |');
  console.log('|---|---:|---:|---:|');
  for (const v of VARIANTS) {
    const ms = median(times.get(v) ?? []);
    const rps = Math.round(REQUESTS / (ms / 1000));
    console.log(`| ${v.name} | ${ms.toFixed(1)} | ${rps.toLocaleString('en-US')} | ${(ms / base).toFixed(2)} |`);
  }
  console.log('');
  console.log('speed-up = variant median time / resq median time (> 1: resq is faster)');
}

main();
