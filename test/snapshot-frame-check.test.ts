/**
 * A large snapshot's CRCs are checked on another thread while the loading
 * thread decodes without them (frame-check.ts): damage must still be found,
 * at the same frame, whatever the decoder made of the bytes.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Job } from '../server/engine/job';
import { payloads } from '../server/engine/payload-arena';
import { FrameCheck } from '../server/persistence/frame-check';
import { FRAME_HEADER } from '../server/persistence/record-codec';
import { SNAP_FORMAT, encodeEnd, encodeHeader, encodeJob } from '../server/persistence/snapshot-codec';
import { SnapshotError, readSnapshot } from '../server/persistence/snapshot-reader';

const JOBS = 90_000; // ~200 bytes a frame: past the 16 MB from which the CRCs go to a thread

describe('snapshot CRCs checked on another thread (large snapshots)', function () {
  this.timeout(60000);
  let dir: string;
  let good: Buffer;
  /** file offsets of the job frames */
  const offsets: number[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-framecheck-'));
    const frames = [encodeHeader({ format: SNAP_FORMAT, createdAt: 1, firstSegment: 2, nextSeq: JOBS + 1, jobs: JOBS })];
    let at = frames[0].length;
    for (let i = 0; i < JOBS; i++) {
      const job = new Job(String(i + 1), 'q', `job ${i} `.padEnd(150, 'x'), 1, 1_790_000_000_000 + i, 3, 1000, 60_000, 30_000, 0);
      const f = encodeJob(job);
      job.releasePayload();
      offsets.push(at);
      at += f.length;
      frames.push(f);
    }
    frames.push(encodeEnd(JOBS, 0, 0));
    good = Buffer.concat(frames);
    expect(good.length).to.be.above(16 * 1024 * 1024);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(name: string, bytes: Buffer): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  async function rejection(file: string): Promise<SnapshotError> {
    const before = payloads.stats().payloads;
    const err = await readSnapshot(file, path.basename(file)).then(
      () => expect.fail('a damaged snapshot loaded'),
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(SnapshotError);
    expect(payloads.stats().payloads, 'arena slots given back').to.equal(before);
    return err as SnapshotError;
  }

  it('loads an undamaged one whole', async () => {
    const snap = await readSnapshot(write('snapshot-000002.rsnap', good), 'snapshot-000002.rsnap');
    expect(snap.jobs.length).to.equal(JOBS);
    expect(snap.jobs[JOBS - 1].payload).to.equal(`job ${JOBS - 1} `.padEnd(150, 'x'));
    for (const j of snap.jobs) j.releasePayload();
  });

  it('rejects a flipped payload byte, which decodes fine, at its frame: CRC mismatch', async () => {
    const bad = Buffer.from(good);
    const k = 61_234;
    bad[offsets[k + 1] - 20] ^= 0x01; // inside job k's payload
    const err = await rejection(write('snapshot-000003.rsnap', bad));
    expect(err.message).to.match(/CRC mismatch/);
    expect(err.offset).to.equal(offsets[k]);
  });

  it('rejects damage that the decoder trips over first at the first damaged frame, not a later one', async () => {
    const bad = Buffer.from(good);
    const k = 20_000;
    bad.fill(0xc1, offsets[k] + FRAME_HEADER, offsets[k] + FRAME_HEADER + 8); // 0xc1: never valid msgpack
    bad[offsets[k + 5000] + FRAME_HEADER + 30] ^= 0x40; // and a later one
    const err = await rejection(write('snapshot-000004.rsnap', bad));
    expect(err.offset).to.equal(offsets[k]);
    expect(err.message).to.match(/CRC mismatch/);
  });

  it('FrameCheck reports damage only up to where the loader read', async () => {
    const bad = Buffer.from(good);
    bad[offsets[100] + FRAME_HEADER + 40] ^= 0x08;
    const file = write('snapshot-000005.rsnap', bad);
    const check = new FrameCheck(file);
    expect(await check.damageBefore(offsets[50])).to.equal(null);
    const damage = await check.damageBefore(bad.length);
    expect(damage).to.include({ kind: 'corrupt', offset: offsets[100], reason: 'CRC mismatch' });
  });
});
