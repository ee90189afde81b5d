import { expect } from 'chai';
import * as crypto from 'crypto';
import * as zlib from 'zlib';
import { LARGE, crc32, crc32Int, crc32Js } from '../server/persistence/crc32';

describe('crc32 (frame checksums without a Buffer view)', () => {
  const big = crypto.randomBytes(1 << 20);

  it('agrees with zlib.crc32 on every length from 0 to 2 KB at every alignment mod 8', () => {
    for (let len = 0; len <= 2048; len++) {
      const start = (len * 7) % 8;
      const want = zlib.crc32(big.subarray(start, start + len));
      expect(crc32Js(big, start, start + len), `JS, ${len} bytes`).to.equal(want);
      expect(crc32(big, start, start + len), `${len} bytes`).to.equal(want);
      expect(crc32Int(big, start, start + len), `signed, ${len} bytes`).to.equal(want | 0);
    }
  });

  it('agrees with zlib.crc32 on random ranges, large ones included', () => {
    for (let k = 0; k < 300; k++) {
      const len = k % 10 === 0 ? crypto.randomInt(LARGE, big.length) : crypto.randomInt(0, 4 * LARGE);
      const start = crypto.randomInt(0, big.length - len + 1);
      const want = zlib.crc32(big.subarray(start, start + len));
      expect(crc32(big, start, start + len)).to.equal(want);
      expect(crc32Js(big, start, start + len)).to.equal(want);
      expect(crc32Int(big, start, start + len)).to.equal(want | 0);
    }
    expect(crc32Js(big, 0, big.length)).to.equal(zlib.crc32(big));
  });

  it('gives 0 for an empty range, the standard check value, and an unsigned result', () => {
    expect(crc32(big, 5, 5)).to.equal(0);
    expect(crc32Js(Buffer.from('123456789'), 0, 9)).to.equal(0xcbf43926);
    const ff = Buffer.alloc(64, 0xff);
    for (let len = 0; len <= 64; len++) {
      expect(crc32(ff, 0, len))
        .to.equal(zlib.crc32(ff.subarray(0, len)))
        .and.to.be.at.least(0);
    }
  });

  it('reads a plain Uint8Array (not only a Buffer) the same', () => {
    const u = new Uint8Array(big.buffer, big.byteOffset + 3, 1000);
    expect(crc32(u, 10, 990)).to.equal(zlib.crc32(big.subarray(13, 993)));
  });
});
