import { expect } from 'chai';
import fc from 'fast-check';
import { ParserLimits, ProtocolError, RequestParser } from '../protocol/request-parser';

/**
 * Property tests of the request parser (fast-check): generated requests,
 * and random or mutated bytes, fed whole, in random chunks and one byte at a
 * time. Small limits, so that mutations run into them. Each property is
 * bounded in runs and time.
 */

const LIMITS: ParserLimits = { maxArgs: 8, maxBulk: 64, maxInline: 128 };
/** the most a parser may hold for an incomplete request under LIMITS */
const MAX_BUFFERED = LIMITS.maxArgs * LIMITS.maxBulk + LIMITS.maxInline;
const TIME_LIMIT_MS = 3000;

type Outcome = { requests: string[][]; error: string | null; buffered: number };

/** feeds the chunks; a ProtocolError ends the run; any other exception fails the test */
function run(chunks: Buffer[], limits: ParserLimits = LIMITS): Outcome {
  const parser = new RequestParser(limits);
  const requests: string[][] = [];
  try {
    for (const c of chunks) {
      parser.feed(c, (args) => {
        expect(args.length, 'args within maxArgs').to.be.within(1, limits.maxArgs);
        requests.push(args);
      });
      expect(parser.bufferedBytes, 'buffered bytes within the limits').to.be.at.most(MAX_BUFFERED);
    }
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { requests, error: e.message, buffered: parser.bufferedBytes };
  }
  return { requests, error: null, buffered: parser.bufferedBytes };
}

/** splits buf at the given cut points (any numbers: taken modulo the length) */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  if (buf.length === 0) return [buf];
  const at = [...new Set(cuts.map((c) => c % buf.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

function bytewise(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) out.push(buf.subarray(i, i + 1));
  return out;
}

const byteString = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a).toString('latin1'));
/** words an inline line splits back into unchanged: no white space, quotes or backslashes */
const plainWord = fc.stringMatching(/^[A-Za-z0-9_:.-]{1,12}$/);

const multibulk = fc.array(byteString(LIMITS.maxBulk), { minLength: 1, maxLength: LIMITS.maxArgs });
const inline = fc
  .array(plainWord, { minLength: 1, maxLength: LIMITS.maxArgs })
  // an HTTP-looking line is refused on purpose (see CrossProtocolError)
  .filter((ws) => ws[0].toLowerCase() !== 'host:' && !(ws.length >= 3 && ws[2].toUpperCase().startsWith('HTTP/')));
const request = fc.oneof(
  multibulk.map((args) => ({ args, bytes: `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}` })),
  inline.map((args) => ({ args, bytes: `${args.join(' ')}\r\n` })),
);
const requests = fc.array(request, { minLength: 1, maxLength: 6 });

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'truncate' | 'set'; at: number; value: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('flip', 'insert', 'delete', 'truncate', 'set'),
  at: fc.nat(),
  // bytes that matter to the grammar are likelier than others
  value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(13, 10, 42, 36, 45, 48, 57, 32, 34, 39, 92)),
});

function mutate(buf: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of ms) {
    if (b.length === 0) break;
    const i = m.at % b.length;
    if (m.kind === 'flip') b[i] ^= 1 << (m.value % 8);
    else if (m.kind === 'set') b[i] = m.value;
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([m.value]), b.subarray(i)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    else b = b.subarray(0, i);
  }
  return b;
}

describe('request parser: properties (fast-check)', function () {
  this.timeout(20_000);

  it('valid requests come out exactly as encoded, however the bytes are split', () => {
    fc.assert(
      fc.property(requests, fc.array(fc.nat(), { maxLength: 12 }), (reqs, cuts) => {
        const buf = Buffer.from(reqs.map((r) => r.bytes).join(''), 'latin1');
        const expected = reqs.map((r) => r.args);
        for (const chunks of [[buf], split(buf, cuts), bytewise(buf)]) {
          const out = run(chunks);
          expect(out.error).to.equal(null);
          expect(out.requests).to.deep.equal(expected);
          expect(out.buffered).to.equal(0);
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });

  it('mutated requests: the same requests or the same ProtocolError whole, split and byte by byte; never another exception', () => {
    fc.assert(
      fc.property(requests, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (reqs, ms, cuts) => {
        const buf = mutate(Buffer.from(reqs.map((r) => r.bytes).join(''), 'latin1'), ms);
        const whole = run([buf]);
        for (const chunks of [split(buf, cuts), bytewise(buf)]) expect(run(chunks)).to.deep.equal(whole);
      }),
      { numRuns: 400, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });

  it('random bytes: requests within the limits or a ProtocolError, the same however split', () => {
    const noisy = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // mostly grammar bytes: deeper into the states
      fc.array(fc.constantFrom(13, 10, 42, 36, 45, 48, 49, 50, 57, 32, 34, 39, 92, 120, 65), { maxLength: 600 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(noisy, fc.array(fc.nat(), { maxLength: 12 }), (arr, cuts) => {
        const buf = Buffer.from(arr);
        const whole = run([buf]);
        for (const r of whole.requests) for (const a of r) expect(a.length).to.be.at.most(Math.max(LIMITS.maxBulk, LIMITS.maxInline));
        expect(run(split(buf, cuts))).to.deep.equal(whole);
        expect(run(bytewise(buf))).to.deep.equal(whole);
      }),
      { numRuns: 400, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });

  it('a header announcing more than the limits fails before the data arrives', () => {
    fc.assert(
      fc.property(fc.integer({ min: LIMITS.maxBulk + 1, max: 2 ** 40 }), fc.integer({ min: LIMITS.maxArgs + 1, max: 2 ** 40 }), (bulk, args) => {
        expect(run([Buffer.from(`*1\r\n$${bulk}\r\n`)]).error).to.equal('invalid bulk length');
        expect(run([Buffer.from(`*${args}\r\n`)]).error).to.equal('invalid multibulk length');
      }),
      { numRuns: 100, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });
});
