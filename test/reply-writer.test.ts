import { expect } from 'chai';
import Parser from 'redis-parser';
import { ReplyWriter, RespVersion, SHARED, formatDouble } from '../protocol/reply-writer';

/** Writes with a fresh writer of the given version and returns the bytes as a latin1 string. */
function encode(resp: RespVersion, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter(64);
  w.resp = resp;
  write(w);
  const n = w.length;
  const out = w.take();
  expect(out.length).to.equal(n);
  return out.toString('latin1');
}

/** Decodes RESP2 bytes with redis-parser; errors become { error: message }. */
function decode(buf: Buffer): unknown[] {
  const out: unknown[] = [];
  const parser = new Parser({
    returnReply: (r: unknown) => out.push(r),
    returnError: (e: Error) => out.push({ error: e.message }),
    returnFatalError: (e: Error) => {
      throw e;
    },
    returnBuffers: true,
  });
  parser.execute(buf);
  return out;
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('ReplyWriter', () => {
  describe('encodings', () => {
    const CASES: Array<[string, (w: ReplyWriter) => void, string, string]> = [
      ['simple', (w) => w.simple('OK'), '+OK\r\n', '+OK\r\n'],
      ['simple with CR/LF', (w) => w.simple('a\r\nb'), '+a  b\r\n', '+a  b\r\n'],
      ['error', (w) => w.error("ERR unknown command 'x'"), "-ERR unknown command 'x'\r\n", "-ERR unknown command 'x'\r\n"],
      ['error with CR/LF', (w) => w.error('ERR a\nb\rc'), '-ERR a b c\r\n', '-ERR a b c\r\n'],
      ['int 0', (w) => w.int(0), ':0\r\n', ':0\r\n'],
      ['int 7', (w) => w.int(7), ':7\r\n', ':7\r\n'],
      ['int 10', (w) => w.int(10), ':10\r\n', ':10\r\n'],
      ['int -1', (w) => w.int(-1), ':-1\r\n', ':-1\r\n'],
      ['int -10', (w) => w.int(-10), ':-10\r\n', ':-10\r\n'],
      ['int 1700000000123', (w) => w.int(1700000000123), ':1700000000123\r\n', ':1700000000123\r\n'],
      ['int max safe', (w) => w.int(Number.MAX_SAFE_INTEGER), ':9007199254740991\r\n', ':9007199254740991\r\n'],
      ['int min safe', (w) => w.int(Number.MIN_SAFE_INTEGER), ':-9007199254740991\r\n', ':-9007199254740991\r\n'],
      ['int 1e21', (w) => w.int(1e21), ':1000000000000000000000\r\n', ':1000000000000000000000\r\n'],
      ['bulk string', (w) => w.bulk('hello'), '$5\r\nhello\r\n', '$5\r\nhello\r\n'],
      ['empty bulk', (w) => w.bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
      ['bulk byte string', (w) => w.bulk('\xff\x00\r\n'), '$4\r\n\xff\x00\r\n\r\n', '$4\r\n\xff\x00\r\n\r\n'],
      ['bulk Buffer', (w) => w.bulk(Buffer.from([1, 2, 255])), '$3\r\n\x01\x02\xff\r\n', '$3\r\n\x01\x02\xff\r\n'],
      ['nil', (w) => w.nil(), '$-1\r\n', '_\r\n'],
      ['nilArray', (w) => w.nilArray(), '*-1\r\n', '_\r\n'],
      ['arrayHeader', (w) => w.arrayHeader(3), '*3\r\n', '*3\r\n'],
      ['mapHeader', (w) => w.mapHeader(2), '*4\r\n', '%2\r\n'],
      ['setHeader', (w) => w.setHeader(2), '*2\r\n', '~2\r\n'],
      ['pushHeader', (w) => w.pushHeader(3), '*3\r\n', '>3\r\n'],
      ['double 1.5', (w) => w.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
      ['double 10', (w) => w.double(10), '$2\r\n10\r\n', ',10\r\n'],
      ['double -0.25', (w) => w.double(-0.25), '$5\r\n-0.25\r\n', ',-0.25\r\n'],
      ['double 1e-7', (w) => w.double(1e-7), '$4\r\n1e-7\r\n', ',1e-7\r\n'],
      ['double inf', (w) => w.double(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
      ['double -inf', (w) => w.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
      ['double nan', (w) => w.double(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
      ['bool true', (w) => w.bool(true), ':1\r\n', '#t\r\n'],
      ['bool false', (w) => w.bool(false), ':0\r\n', '#f\r\n'],
      ['verbatim', (w) => w.verbatim('a:1\r\n'), '$5\r\na:1\r\n\r\n', '=9\r\ntxt:a:1\r\n\r\n'],
      ['verbatim markdown', (w) => w.verbatim('# x', 'mkd'), '$3\r\n# x\r\n', '=7\r\nmkd:# x\r\n'],
      ['raw', (w) => w.raw(SHARED.ok), '+OK\r\n', '+OK\r\n'],
    ];

    for (const [name, write, resp2, resp3] of CASES) {
      it(`${name}: RESP2 ${JSON.stringify(resp2)}, RESP3 ${JSON.stringify(resp3)}`, () => {
        expect(encode(2, write)).to.equal(resp2);
        expect(encode(3, write)).to.equal(resp3);
      });
    }

    it('defaults to RESP2', () => {
      const w = new ReplyWriter();
      expect(w.resp).to.equal(2);
      w.nil();
      expect(w.take().toString()).to.equal('$-1\r\n');
    });

    it('rejects a non-integer int and a verbatim format that is not 3 bytes', () => {
      const w = new ReplyWriter();
      expect(() => w.int(1.5)).to.throw(RangeError);
      expect(() => w.int(NaN)).to.throw(RangeError);
      w.resp = 3;
      expect(() => w.verbatim('x', 'text')).to.throw(RangeError);
    });

    it('has pre-encoded shared replies', () => {
      expect(SHARED.ok.toString()).to.equal('+OK\r\n');
      expect(SHARED.pong.toString()).to.equal('+PONG\r\n');
      expect(SHARED.zero.toString()).to.equal(':0\r\n');
      expect(SHARED.one.toString()).to.equal(':1\r\n');
      expect(SHARED.emptyArray.toString()).to.equal('*0\r\n');
      expect(formatDouble(3.25)).to.equal('3.25');
    });
  });

  describe('RESP2 round trips through redis-parser', () => {
    it('decodes a mix of replies', () => {
      const w = new ReplyWriter(64);
      w.simple('OK');
      w.error('NOJOB no such job');
      w.int(-42);
      w.bulk('payload');
      w.bulk(ALL_BYTES);
      w.nil();
      w.nilArray();
      w.arrayHeader(2);
      w.arrayHeader(4);
      w.bulk('id-1');
      w.bulk('q');
      w.bulk('\r\n');
      w.int(1);
      w.arrayHeader(0);
      w.mapHeader(2);
      w.bulk('state');
      w.bulk('ready');
      w.bulk('lease-until');
      w.nil();
      w.setHeader(1);
      w.bulk('q');
      w.pushHeader(2);
      w.bulk('message');
      w.double(2.5);
      w.bool(true);
      w.verbatim('# Server\r\nversion:1\r\n');
      w.raw(SHARED.pong);
      const b = (s: string): Buffer => Buffer.from(s, 'latin1');
      expect(decode(w.take())).to.deep.equal([
        b('OK'),
        { error: 'NOJOB no such job' },
        -42,
        b('payload'),
        ALL_BYTES,
        null,
        null,
        [[b('id-1'), b('q'), b('\r\n'), 1], []],
        [b('state'), b('ready'), b('lease-until'), null],
        [b('q')],
        [b('message'), b('2.5')],
        1,
        b('# Server\r\nversion:1\r\n'),
        b('PONG'),
      ]);
    });

    it('round-trips many replies through arena growth', () => {
      const w = new ReplyWriter(64);
      const expected: unknown[] = [];
      for (let i = 0; i < 5000; i++) {
        const s = 'x'.repeat(i % 300) + i;
        w.bulk(s);
        w.int(i * 1000);
        expected.push(Buffer.from(s), i * 1000);
      }
      expect(decode(w.take())).to.deep.equal(expected);
    });

    it('round-trips an 8 MB bulk', () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 0x5a);
      const w = new ReplyWriter();
      w.arrayHeader(1);
      w.bulk(big);
      const out = decode(w.take()) as Buffer[][];
      expect(out).to.have.length(1);
      expect(out[0][0].equals(big)).to.equal(true);
    });
  });

  describe('take()', () => {
    it('returns what was written and resets', () => {
      const w = new ReplyWriter();
      expect(w.length).to.equal(0);
      expect(w.take()).to.have.length(0);
      w.simple('OK');
      expect(w.length).to.equal(5);
      expect(w.take().toString()).to.equal('+OK\r\n');
      expect(w.length).to.equal(0);
      w.int(5);
      expect(w.take().toString()).to.equal(':5\r\n');
    });

    it('never hands out memory that later writes overwrite', () => {
      const w = new ReplyWriter(64);
      const taken: Array<[Buffer, string]> = [];
      let pending = '';
      for (let i = 0; i < 2000; i++) {
        const s = `reply-${i}-` + 'y'.repeat(i % 97);
        w.bulk(s);
        pending += `$${s.length}\r\n${s}\r\n`;
        if (i % 3 === 0) {
          w.int(i);
          pending += `:${i}\r\n`;
        }
        if (i % 5 !== 4) {
          // every fifth reply is left for the next take()
          taken.push([w.take(), pending]);
          pending = '';
        }
      }
      for (const [buf, expected] of taken) expect(buf.toString('latin1')).to.equal(expected);
    });

    it('keeps a taken Buffer intact when a later reply forces growth', () => {
      const w = new ReplyWriter(64);
      w.simple('first');
      const first = w.take();
      w.bulk('z'.repeat(100_000));
      const second = w.take();
      w.simple('third');
      expect(first.toString()).to.equal('+first\r\n');
      expect(second.length).to.equal(100_000 + 11); // "$100000\r\n" + data + "\r\n"
      expect(w.take().toString()).to.equal('+third\r\n');
    });
  });
});
