/**
 * PrefaultedMemory and withPrefaultedArena: chunks cut from blocks a helper
 * thread has touched, never shared between two chunks, and the arena's
 * payloads unchanged whichever memory holds them.
 */
import { expect } from 'chai';
import { CHUNK_BYTES, payloads } from '../server/engine/payload-arena';
import { PrefaultedMemory, withPrefaultedArena } from '../server/persistence/prefaulted-memory';
import { prng } from './helpers/prng';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** take() until it gives a chunk (the helper needs a moment to start) */
async function firstChunk(memory: PrefaultedMemory): Promise<Buffer> {
  for (let i = 0; i < 500; i++) {
    const c = memory.take();
    if (c !== null) return c;
    await sleep(10);
  }
  throw new Error('the helper never sent a block');
}

describe('prefaulted memory for the payload arena', () => {
  it('hands out chunk-sized, writable, zeroed pieces of shared blocks, no two overlapping, and null once closed', async () => {
    const memory = new PrefaultedMemory(CHUNK_BYTES, 2, 4 * CHUNK_BYTES);
    try {
      const chunks = [await firstChunk(memory)];
      for (let i = 0; i < 2000 && chunks.length < 12; i++) {
        const c = memory.take();
        if (c === null) await sleep(5);
        else chunks.push(c);
      }
      expect(chunks.length).to.equal(12); // more than the 2 blocks asked for at first: it keeps asking
      const seen = new Map<SharedArrayBuffer, number[]>();
      for (const c of chunks) {
        expect(c.length).to.equal(CHUNK_BYTES);
        expect(c.buffer).to.be.instanceOf(SharedArrayBuffer);
        expect(c.every((b) => b === 0)).to.equal(true);
        const offsets = seen.get(c.buffer as SharedArrayBuffer) ?? [];
        expect(offsets).to.not.include(c.byteOffset);
        offsets.push(c.byteOffset);
        seen.set(c.buffer as SharedArrayBuffer, offsets);
      }
      chunks.forEach((c, i) => c.fill(i + 1));
      chunks.forEach((c, i) => expect(c.every((b) => b === i + 1)).to.equal(true));
    } finally {
      memory.close();
    }
    expect(memory.take()).to.equal(null);
  });

  it('never waits: take() answers null at once while the helper has nothing ready', () => {
    const memory = new PrefaultedMemory(CHUNK_BYTES);
    try {
      const t0 = performance.now();
      expect(memory.take()).to.equal(null); // the helper thread has not even started yet
      expect(performance.now() - t0).to.be.below(200); // a wait for the helper would be its whole start-up
    } finally {
      memory.close();
    }
  });

  it('stores payloads in the helper memory during a load, byte for byte, and gives the arena its own allocation back after', async () => {
    const random = prng(7);
    const stored: Array<{ ref: number; bytes: string }> = [];
    let shared = 0;
    const { prefaultedBytes } = await withPrefaultedArena(
      1,
      async () => {
        await sleep(100); // let the helper send its first blocks
        for (let i = 0; i < 3000; i++) {
          let s = '';
          const len = 1 + Math.floor(random() * 600);
          for (let k = 0; k < len; k++) s += String.fromCharCode(Math.floor(random() * 256));
          const ref = payloads.storeString(s);
          if (typeof ref !== 'number') throw new Error('not stored in the arena');
          stored.push({ ref, bytes: s });
          if (payloads.view(ref).buffer instanceof SharedArrayBuffer) shared++;
        }
      },
      0,
    );
    expect(shared, 'payloads in helper memory').to.be.above(0);
    expect(prefaultedBytes).to.be.above(0);
    expect(prefaultedBytes! % CHUNK_BYTES).to.equal(0);
    for (const { ref, bytes } of stored) expect(payloads.read(ref)).to.equal(bytes);
    // the source is uninstalled: a class never used before gets an ordinary chunk
    expect(payloads.useChunkMemory(null)).to.equal(null);
    for (const { ref } of stored) payloads.free(ref);
  });

  it('leaves small loads alone: no helper below the threshold', async () => {
    let during: unknown = 'unset';
    await withPrefaultedArena(1000, async () => {
      during = payloads.useChunkMemory(null);
    });
    expect(during).to.equal(null);
  });
});
