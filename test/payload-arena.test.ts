import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Job } from '../server/engine/job';
import { MAX_STORED, PayloadArena, SIZE_CLASSES, payloads } from '../server/engine/payload-arena';
import { SNAP_FORMAT, encodeEnd, encodeHeader, encodeJob } from '../server/persistence/snapshot-codec';
import { readSnapshot } from '../server/persistence/snapshot-reader';
import { prng as rng } from './helpers/prng';

function bytesString(random: () => number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(random() * 256));
  return s;
}

describe('payload arena', () => {
  it('gives back every byte 0-255 of payloads of every stored length, from strings and from bytes', () => {
    const arena = new PayloadArena();
    const random = rng(1);
    const lengths = [1, 2, 7, 8, 9, 100, 254, 255, 256, 257, 1000, 4000, MAX_STORED];
    for (const len of lengths) {
      const s = bytesString(random, len);
      const a = arena.storeString(s);
      expect(a, `length ${len}`).to.be.a('number');
      const src = Buffer.concat([Buffer.from('pre'), Buffer.from(s, 'latin1'), Buffer.from('post')]);
      const b = arena.storeBytes(src, 3, 3 + len);
      expect(b).to.be.a('number');
      for (const ref of [a, b] as number[]) {
        expect(arena.read(ref)).to.equal(s);
        expect(arena.size(ref)).to.equal(len);
        expect(arena.head(ref, 5)).to.equal(s.slice(0, 5));
        expect(arena.head(ref, len + 10)).to.equal(s);
        expect(arena.view(ref).equals(Buffer.from(s, 'latin1'))).to.equal(true);
      }
    }
  });

  it('keeps empty and large payloads as the strings themselves', () => {
    const arena = new PayloadArena();
    expect(arena.storeString('')).to.equal('');
    const big = 'x'.repeat(MAX_STORED + 1);
    expect(arena.storeString(big)).to.equal(big);
    expect(arena.storeBytes(Buffer.from(big, 'latin1'), 0, big.length)).to.equal(big);
    expect(arena.stats().payloads).to.equal(0);
  });

  it('reuses freed slots: a steady flow of store and free does not grow the arena', () => {
    const arena = new PayloadArena();
    const live: number[] = [];
    for (let i = 0; i < 1000; i++) live.push(arena.storeString('p'.repeat(100)) as number);
    const bytes = arena.stats().bytes;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 500; i++) arena.free(live.shift()!);
      for (let i = 0; i < 500; i++) live.push(arena.storeString('q'.repeat(100)) as number);
    }
    expect(arena.stats().bytes).to.equal(bytes);
    expect(arena.stats().payloads).to.equal(1000);
  });

  it('matches a model under random stores and frees, and gives emptied chunks back', () => {
    const arena = new PayloadArena();
    const random = rng(7);
    const model = new Map<number, string>();
    let peak = 0;
    let peakChunks = 0;
    for (let step = 0; step < 40_000; step++) {
      if (model.size > 0 && random() < 0.4) {
        // free a random live one
        const keys = [...model.keys()];
        const ref = keys[Math.floor(random() * keys.length)];
        arena.free(ref);
        model.delete(ref);
      } else {
        // mostly small, some up to the limit
        const len = 1 + Math.floor(random() < 0.9 ? random() * 300 : random() * MAX_STORED);
        const s = bytesString(random, len);
        const ref = arena.storeString(s) as number;
        expect(model.has(ref), 'a ref handed out twice').to.equal(false);
        model.set(ref, s);
      }
      if (step % 4000 === 0) for (const [ref, s] of model) expect(arena.read(ref)).to.equal(s);
      peak = Math.max(peak, arena.stats().bytes);
      peakChunks = Math.max(peakChunks, arena.stats().chunks);
    }
    for (const [ref, s] of model) expect(arena.read(ref)).to.equal(s);
    const used = [...model.keys()].reduce((sum, ref) => sum + arena.size(ref), 0);
    expect(arena.stats().payloads).to.equal(model.size);
    expect(arena.stats().used).to.be.at.least(used);
    for (const ref of model.keys()) arena.free(ref);
    const after = arena.stats();
    expect(after.payloads).to.equal(0);
    expect(after.used).to.equal(0);
    // at most one empty chunk kept per size class
    expect(after.chunks).to.be.at.most(SIZE_CLASSES);
    expect(after.chunks).to.be.below(peakChunks);
    expect(after.bytes).to.equal(after.chunks * 64 * 1024);
  });

  it('refuses a ref it does not hold instead of reading another payload', () => {
    const arena = new PayloadArena();
    expect(() => arena.read(123_456_789)).to.throw(/not in the arena/);
  });

  it('a snapshot that fails to load gives back the slots of the jobs it read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-arena-'));
    try {
      const jobs = Array.from(
        { length: 50 },
        (_, i) => new Job(String(i + 1), 'q', `payload ${i}`.repeat(5), 1, 1_790_000_000_000, 3, 1000, 60_000, 30_000, 0),
      );
      const frames = [encodeHeader({ format: SNAP_FORMAT, createdAt: 1, firstSegment: 2, nextSeq: 51, jobs: 50 }), ...jobs.map((j) => encodeJob(j))];
      for (const j of jobs) j.releasePayload();
      const file = path.join(dir, 'snapshot-000002.rsnap');
      const before = payloads.stats().payloads;
      // no end frame: an incomplete snapshot
      fs.writeFileSync(file, Buffer.concat(frames));
      await readSnapshot(file, 'snapshot-000002.rsnap').then(
        () => expect.fail('an incomplete snapshot loaded'),
        (e: Error) => expect(e.message).to.match(/no end frame/),
      );
      expect(payloads.stats().payloads).to.equal(before);
      // the same frames with their end frame load, and hold their slots
      fs.writeFileSync(file, Buffer.concat([...frames, encodeEnd(50, 0, 0)]));
      const snap = await readSnapshot(file, 'snapshot-000002.rsnap');
      expect(payloads.stats().payloads).to.equal(before + 50);
      expect(snap.jobs[7].payload).to.equal('payload 7'.repeat(5));
      for (const j of snap.jobs) j.releasePayload();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
