import { expect } from 'chai';
import { ParserLimits, ProtocolError, RequestParser } from '../protocol/request-parser';
import { prng as rng } from './helpers/prng';

const LIMITS: ParserLimits = { maxArgs: 1024 * 1024, maxBulk: 512 * 1024 * 1024, maxInline: 64 * 1024 };

/** A byte string (one char per byte) as a Buffer. */
function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** The RESP array encoding of args (byte strings). */
function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join('');
}

/** Feeds the chunks in order and returns every request parsed. */
function parseChunks(chunks: Buffer[], limits: ParserLimits = LIMITS): string[][] {
  const parser = new RequestParser(limits);
  const out: string[][] = [];
  for (const c of chunks) parser.feed(c, (args) => out.push(args));
  expect(parser.bufferedBytes, 'nothing left buffered').to.equal(0);
  return out;
}

function parseWhole(s: string, limits?: ParserLimits): string[][] {
  return parseChunks([bytes(s)], limits);
}

function oneByteAtATime(s: string): Buffer[] {
  const b = bytes(s);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');

/** [wire bytes, expected requests] */
const CORPUS: Array<[string, string[][]]> = [
  [resp('ENQUEUE', 'q', 'hello'), [['ENQUEUE', 'q', 'hello']]],
  [resp('', 'a', ''), [['', 'a', '']]],
  [resp('SET', 'bin', ALL_BYTES), [['SET', 'bin', ALL_BYTES]]],
  [resp('\r\n', 'a\r\nb', '\r\n\r\n', '*1\r\n$1\r\nx\r\n'), [['\r\n', 'a\r\nb', '\r\n\r\n', '*1\r\n$1\r\nx\r\n']]],
  ['*0\r\n', []],
  ['*-1\r\n', []],
  ['\r\n', []],
  ['\n', []],
  ['   \t \r\n', []],
  ['PING\r\n', [['PING']]],
  ['PING\n', [['PING']]],
  ['  ENQUEUE\tq  payload  \r\n', [['ENQUEUE', 'q', 'payload']]],
  ["ENQUEUE q \"hello world\" 'it\\'s'\r\n", [['ENQUEUE', 'q', 'hello world', "it's"]]],
  ['SET k "\\x41\\x00\\xff\\n\\r\\t\\"q\\\\"\r\n', [['SET', 'k', 'A\x00\xff\n\r\t"q\\']]],
  ['ECHO "\\xZZ" "\\q" \'a\\nb\'\r\n', [['ECHO', 'xZZ', 'q', 'a\\nb']]],
  ['ECHO "" \'\' foo"bar baz"\r\n', [['ECHO', '', '', 'foobar baz']]],
  ['ECHO caf\xe9 \x00\x01\r\n', [['ECHO', 'caf\xe9', '\x00\x01']]],
  [resp('X', 'y'.repeat(70_000)), [['X', 'y'.repeat(70_000)]]],
];

describe('RequestParser', () => {
  describe('valid input', () => {
    for (const [wire, expected] of CORPUS) {
      const name = JSON.stringify(wire.length > 60 ? wire.slice(0, 60) + '...' : wire);
      it(`parses ${name} whole, byte by byte, and split at every offset`, () => {
        expect(parseWhole(wire)).to.deep.equal(expected);
        expect(parseChunks(oneByteAtATime(wire))).to.deep.equal(expected);
        const b = bytes(wire);
        const step = b.length > 2000 ? 997 : 1;
        for (let i = 0; i <= b.length; i += step) {
          expect(parseChunks([b.subarray(0, i), b.subarray(i)]), `split at ${i}`).to.deep.equal(expected);
        }
      });
    }

    const small = CORPUS.filter(([w]) => w.length < 2000);
    const pipeline = small.map(([w]) => w).join('');
    const pipelineExpected = small.flatMap(([, e]) => e);

    it('parses the whole corpus pipelined in one chunk', () => {
      expect(parseWhole(pipeline)).to.deep.equal(pipelineExpected);
    });

    it('parses the pipelined corpus split at every offset', () => {
      const b = bytes(pipeline);
      for (let i = 0; i <= b.length; i++) {
        expect(parseChunks([b.subarray(0, i), b.subarray(i)]), `split at ${i}`).to.deep.equal(pipelineExpected);
      }
    });

    it('parses the pipelined corpus one byte at a time', () => {
      expect(parseChunks(oneByteAtATime(pipeline))).to.deep.equal(pipelineExpected);
    });

    it('parses requests split in three at every pair of offsets', () => {
      const wire = resp('ENQUEUE', 'q', 'a\r\nb', '') + 'PING "x y"\r\n' + '*0\r\n' + resp('ACK', '7');
      const expected = [
        ['ENQUEUE', 'q', 'a\r\nb', ''],
        ['PING', 'x y'],
        ['ACK', '7'],
      ];
      const b = bytes(wire);
      for (let i = 0; i <= b.length; i++) {
        for (let j = i; j <= b.length; j++) {
          const got = parseChunks([b.subarray(0, i), b.subarray(i, j), b.subarray(j)]);
          expect(got, `split at ${i}, ${j}`).to.deep.equal(expected);
        }
      }
    });

    it('parses many pipelined requests under random chunkings', () => {
      const random = rng(42);
      const expected: string[][] = [];
      let wire = '';
      for (let i = 0; i < 2000; i++) {
        const payload = ALL_BYTES.slice(0, Math.floor(random() * 300));
        if (i % 7 === 0) {
          wire += `CLAIM q${i} COUNT ${i}\r\n`;
          expected.push(['CLAIM', `q${i}`, 'COUNT', String(i)]);
        } else {
          wire += resp('ENQUEUE', `q${i}`, payload);
          expected.push(['ENQUEUE', `q${i}`, payload]);
        }
      }
      const b = bytes(wire);
      for (let round = 0; round < 20; round++) {
        const chunks: Buffer[] = [];
        for (let pos = 0; pos < b.length;) {
          const n = 1 + Math.floor(random() * (round % 2 ? 40 : 5000));
          chunks.push(b.subarray(pos, pos + n));
          pos += n;
        }
        expect(parseChunks(chunks)).to.deep.equal(expected);
      }
    });

    it('parses an 8 MB bulk arriving in 64 KB chunks, in linear time', () => {
      const payload = Buffer.alloc(8 * 1024 * 1024, 0xab);
      const wire = Buffer.concat([bytes('*2\r\n$7\r\nENQUEUE\r\n$8388608\r\n'), payload, bytes('\r\n')]);
      const parser = new RequestParser(LIMITS);
      const out: string[][] = [];
      const started = Date.now();
      for (let pos = 0; pos < wire.length; pos += 65536) {
        parser.feed(wire.subarray(pos, pos + 65536), (a) => out.push(a));
        if (out.length === 0) expect(parser.bufferedBytes).to.be.within(Math.min(pos, 8 * 1024 * 1024) - 40, pos + 65536);
      }
      expect(Date.now() - started).to.be.below(2000);
      expect(out).to.have.length(1);
      expect(out[0][0]).to.equal('ENQUEUE');
      expect(out[0][1]).to.have.length(8 * 1024 * 1024);
      expect(Buffer.from(out[0][1], 'latin1').equals(payload)).to.equal(true);
      expect(parser.bufferedBytes).to.equal(0);
    });

    it('hands out strings that do not depend on the chunk after feed()', () => {
      const parser = new RequestParser(LIMITS);
      const out: string[][] = [];
      const chunk = bytes(resp('A', 'bcd') + '*1\r\n$3\r\nxy');
      parser.feed(chunk, (a) => out.push(a));
      chunk.fill(0x7a);
      parser.feed(bytes('z\r\n'), (a) => out.push(a));
      expect(out).to.deep.equal([['A', 'bcd'], ['xyz']]);
    });

    it('reports bufferedBytes for an incomplete request', () => {
      const parser = new RequestParser(LIMITS);
      const noop = (): void => undefined;
      parser.feed(bytes('*3\r\n$5\r\nhello\r\n$5\r\nwo'), noop);
      expect(parser.bufferedBytes).to.equal(7);
      parser.feed(bytes('rl'), noop);
      expect(parser.bufferedBytes).to.equal(9);
      parser.feed(bytes('d\r'), noop);
      expect(parser.bufferedBytes).to.equal(10);
      parser.feed(bytes('\n$'), noop);
      expect(parser.bufferedBytes).to.equal(10);
      parser.feed(bytes('1\r\nx\r\nPING ab'), noop);
      expect(parser.bufferedBytes).to.equal(7);
      parser.feed(bytes('c\r\n'), noop);
      expect(parser.bufferedBytes).to.equal(0);
    });

    it('applies limits changed by a callback to the rest of the chunk', () => {
      const parser = new RequestParser({ maxArgs: 10, maxBulk: 16, maxInline: 1024 });
      const out: string[][] = [];
      parser.feed(bytes(resp('AUTH', 'pw') + resp('ENQUEUE', 'q', 'x'.repeat(100))), (args) => {
        out.push(args);
        if (args[0] === 'AUTH') parser.setLimits(LIMITS);
      });
      expect(out).to.deep.equal([
        ['AUTH', 'pw'],
        ['ENQUEUE', 'q', 'x'.repeat(100)],
      ]);
    });
  });

  describe('bad input', () => {
    const TIGHT: ParserLimits = { maxArgs: 10, maxBulk: 16, maxInline: 32 };
    const BAD: Array<[string, string, string]> = [
      ['bad multibulk length', '*1x\r\n$1\r\na\r\n', 'invalid multibulk length'],
      ['non-numeric multibulk length', '*abc\r\n', 'invalid multibulk length'],
      ['empty multibulk length', '*\r\n', 'invalid multibulk length'],
      ['negative multibulk length other than -1', '*-2\r\n', 'invalid multibulk length'],
      ['multibulk length -0', '*-0\r\n', 'invalid multibulk length'],
      ['leading zero in multibulk length', '*01\r\n', 'invalid multibulk length'],
      ['signed multibulk length', '*+1\r\n', 'invalid multibulk length'],
      ['space in multibulk length', '*1 \r\n', 'invalid multibulk length'],
      ['multibulk length ended by LF only', '*1\n$1\r\na\r\n', 'invalid multibulk length'],
      ['CR not followed by LF in multibulk header', '*1\rx', 'invalid multibulk length'],
      ['bad bulk length', '*1\r\n$abc\r\n', 'invalid bulk length'],
      ['bulk length with junk', '*1\r\n$1x\r\na\r\n', 'invalid bulk length'],
      ['negative bulk length', '*1\r\n$-1\r\n', 'invalid bulk length'],
      ['empty bulk length', '*1\r\n$\r\n', 'invalid bulk length'],
      ['CR not followed by LF in bulk header', '*1\r\n$1\rxa\r\n', 'invalid bulk length'],
      ['too many args', '*11\r\n', 'invalid multibulk length'],
      ['too big bulk', '*1\r\n$17\r\n', 'invalid bulk length'],
      ['too big inline request', 'x'.repeat(33), 'too big inline request'],
      ['too big inline line with its newline', 'x'.repeat(33) + '\r\n', 'too big inline request'],
      ['too many inline arguments', 'a b c d e f g h i j k\r\n', 'too many arguments in inline request'],
      ['missing CRLF after bulk', '*1\r\n$1\r\nab\r\n', 'bulk data not followed by CRLF'],
      ['CR without LF after bulk', '*1\r\n$1\r\na\rb', 'bulk data not followed by CRLF'],
      ['non-$ element', '*1\r\n:1\r\n', "expected '$', got ':'"],
      ['inline where an element is expected', '*2\r\n$1\r\na\r\nPING\r\n', "expected '$', got 'P'"],
      ['unprintable element type', '*1\r\n\x00', "expected '$', got '\\x00'"],
      ['unbalanced double quote', 'SET "abc\r\n', 'unbalanced quotes in request'],
      ['unbalanced single quote', "SET 'abc\r\n", 'unbalanced quotes in request'],
      ['closing quote followed by a letter', 'SET "abc"x\r\n', 'unbalanced quotes in request'],
      ['escape at the end of a quoted word', 'SET "abc\\\r\n', 'unbalanced quotes in request'],
    ];

    function expectProtocolError(chunks: Buffer[], message: string, limits: ParserLimits): void {
      const parser = new RequestParser(limits);
      let thrown: unknown;
      try {
        for (const c of chunks) parser.feed(c, () => undefined);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).to.be.instanceOf(ProtocolError);
      expect((thrown as ProtocolError).message).to.equal(message);
      expect((thrown as ProtocolError).name).to.equal('ProtocolError');
    }

    for (const [name, wire, message] of BAD) {
      it(`rejects ${name}: ${JSON.stringify(wire.slice(0, 40))}`, () => {
        expectProtocolError([bytes(wire)], message, TIGHT);
        expectProtocolError(oneByteAtATime(wire), message, TIGHT);
        const b = bytes(wire);
        for (let i = 0; i <= b.length; i++) expectProtocolError([b.subarray(0, i), b.subarray(i)], message, TIGHT);
      });
    }

    it('delivers the requests before a malformed one', () => {
      const parser = new RequestParser(TIGHT);
      const out: string[][] = [];
      expect(() => parser.feed(bytes('PING\r\n' + resp('ECHO', 'a') + '*1\r\n+x\r\n'), (a) => out.push(a))).to.throw(ProtocolError, "expected '$', got '+'");
      expect(out).to.deep.equal([['PING'], ['ECHO', 'a']]);
    });

    it('rejects a too long bulk from its header, before any data arrives', () => {
      const parser = new RequestParser({ maxArgs: 1024, maxBulk: 1024 * 1024, maxInline: 65536 });
      expect(() => parser.feed(bytes('*1\r\n$999999999\r\n'), () => undefined)).to.throw(ProtocolError, 'invalid bulk length');
    });

    it('rejects a too long bulk or count as soon as its digits exceed the limit', () => {
      const parser = new RequestParser({ maxArgs: 1024, maxBulk: 1024 * 1024, maxInline: 65536 });
      parser.feed(bytes('*1\r\n$200000'), () => undefined); // 200,000 <= 1 MiB: still fine
      expect(() => parser.feed(bytes('0'), () => undefined)).to.throw(ProtocolError, 'invalid bulk length');
      const p2 = new RequestParser({ maxArgs: 1024, maxBulk: 1024, maxInline: 65536 });
      expect(() => p2.feed(bytes('*2000'), () => undefined)).to.throw(ProtocolError, 'invalid multibulk length');
    });

    it('never buffers a header line: junk fails within a few bytes', () => {
      for (const junk of ['*1' + ' '.repeat(2000), '*' + '9'.repeat(2000), '*1\r\n$' + '0'.repeat(2000), '*1\r\n$1' + '\r'.repeat(2000)]) {
        const parser = new RequestParser(LIMITS);
        const b = bytes(junk);
        let failedAt = -1;
        for (let i = 0; i < b.length && failedAt < 0; i++) {
          try {
            parser.feed(b.subarray(i, i + 1), () => undefined);
          } catch (e) {
            expect(e).to.be.instanceOf(ProtocolError);
            failedAt = i;
          }
          expect(parser.bufferedBytes).to.equal(0);
        }
        expect(failedAt, JSON.stringify(junk.slice(0, 10))).to.be.within(0, 24);
      }
    });

    it('rejects a too long inline line before its newline arrives', () => {
      const parser = new RequestParser({ maxArgs: 10, maxBulk: 1024, maxInline: 1000 });
      parser.feed(bytes('x'.repeat(1000)), () => undefined);
      expect(parser.bufferedBytes).to.equal(1000);
      expect(() => parser.feed(bytes('x'), () => undefined)).to.throw(ProtocolError, 'too big inline request');
    });

    it('accepts an inline line of exactly maxInline bytes', () => {
      const line = 'ECHO ' + 'x'.repeat(27);
      expect(parseChunks(oneByteAtATime(line + '\n'), TIGHT)).to.deep.equal([['ECHO', 'x'.repeat(27)]]);
    });

    it('accepts exactly maxArgs elements and a bulk of exactly maxBulk bytes', () => {
      const args = ['A', 'x'.repeat(16), '', '', '', '', '', '', '', ''];
      expect(parseWhole(resp(...args), TIGHT)).to.deep.equal([args]);
    });

    it('starts afresh after an error', () => {
      const parser = new RequestParser(TIGHT);
      const out: string[][] = [];
      expect(() => parser.feed(bytes('*1\r\n$3\r\nab'), (a) => out.push(a))).to.not.throw();
      expect(() => parser.feed(bytes('cd'), (a) => out.push(a))).to.throw(ProtocolError);
      expect(parser.bufferedBytes).to.equal(0);
      parser.feed(bytes('PING\r\n'), (a) => out.push(a));
      expect(out).to.deep.equal([['PING']]);
    });
  });
});
