import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { JobState } from '../server/engine/job';
import { LogRecord } from '../server/engine/records';
import { RecoveryError } from '../server/persistence';
import { MANIFEST, listDataDir, segmentName, snapshotName } from '../server/persistence/data-files';
import { readManifest } from '../server/persistence/manifest';
import { encodeRecord } from '../server/persistence/record-codec';
import { TestFs, sleep, tick, tmpDir, until } from './helpers/persistence-fs';
import { dumpStore, openDir, OpenOpts, runWorkload } from './helpers/persistence-workload';

async function loadFails(dir: string, o: OpenOpts = {}): Promise<RecoveryError> {
  try {
    const x = await openDir(dir, o);
    await x.p.close();
  } catch (e) {
    expect(e).to.be.instanceOf(RecoveryError);
    return e as RecoveryError;
  }
  throw new Error('expected loading to fail');
}

function copyDir(from: string): string {
  const to = tmpDir();
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(to, f));
  return to;
}

function segPath(dir: string, n: number): string {
  return path.join(dir, segmentName(n));
}

/** offsets of the frames in a segment file */
function frameOffsets(file: string): number[] {
  const buf = fs.readFileSync(file);
  const out: number[] = [];
  for (let off = 0; off < buf.length; off += 8 + buf.readUInt32LE(off)) out.push(off);
  return out;
}

describe('persistence: recovery', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const mkdir = () => {
    const d = tmpDir();
    dirs.push(d);
    return d;
  };
  const copy = (d: string) => {
    const c = copyDir(d);
    dirs.push(c);
    return c;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a fresh directory (created if missing) loads empty', async () => {
    const dir = path.join(mkdir(), 'sub', 'data');
    const a = await openDir(dir);
    expect(a.report).to.include({ jobs: 0, records: 0, snapshotLoaded: false });
    expect(listDataDir(dir).segments).to.deep.equal([1]);
    await a.p.close();
  });

  it('log only: a store built by the engine reloads into a fresh store with the same jobs, states, list order, deadlines, crons', async () => {
    const dir = mkdir();
    const a = await openDir(dir);
    runWorkload(a.engine, a.clock, 3000, 1);
    const before = dumpStore(a.engine.store);
    expect(before.jobs).to.be.greaterThan(100);
    await a.p.close();
    const b = await openDir(dir);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    expect(b.report.snapshotLoaded).to.equal(false);
    expect(b.report.records).to.equal(a.p.lastLsn);
    expect(b.report.jobs).to.equal(before.jobs);
    await b.p.close();
  });

  it('keeps working across restarts: each start appends to a new segment after the old ones', async () => {
    const dir = mkdir();
    let last: ReturnType<typeof dumpStore> | null = null;
    for (let round = 0; round < 4; round++) {
      const x = await openDir(dir);
      if (last) expect(dumpStore(x.engine.store)).to.deep.equal(last);
      x.clock.t += round * 100_000;
      runWorkload(x.engine, x.clock, 500, 10 + round);
      last = dumpStore(x.engine.store);
      await x.p.close();
    }
    expect(listDataDir(dir).segments).to.deep.equal([1, 2, 3, 4]);
  });

  it('snapshot + log: SAVE in the middle, more changes after; reload is identical and replays only the log after the snapshot', async () => {
    const dir = mkdir();
    const a = await openDir(dir);
    runWorkload(a.engine, a.clock, 2000, 2);
    await a.p.save();
    const lsnAtSave = a.p.lastLsn;
    expect(a.p.lastSaveTime).to.be.closeTo(Date.now() / 1000, 5);
    runWorkload(a.engine, a.clock, 1000, 3);
    const before = dumpStore(a.engine.store);
    await a.p.close();
    const m = readManifest(dir);
    expect(m.kind).to.equal('ok');
    const b = await openDir(dir);
    expect(b.report.snapshotLoaded).to.equal(true);
    expect(b.report.records).to.equal(a.p.lastLsn - lsnAtSave);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    expect(b.p.lastSaveTime).to.be.greaterThan(0);
    await b.p.close();
  });

  it('a snapshot taken while the store keeps changing (copy-on-write, slices of 10 jobs) is point-in-time: snapshot + log == live', async () => {
    const dir = mkdir();
    const a = await openDir(dir, { slice: 10 });
    runWorkload(a.engine, a.clock, 4000, 4);
    const jobsAtStart = a.engine.store.jobs.size;
    let turns = 0;
    const saved = a.p.save();
    const atStart = dumpStore(a.engine.store); // the snapshot's point in time
    // change the store between the slices: claims, acks, enqueues, purges, retention drops
    let done = false;
    saved.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      runWorkload(a.engine, a.clock, 20, 100 + turns++);
      await tick();
    }
    await saved;
    expect(turns, 'the snapshot took several event-loop turns').to.be.greaterThan(jobsAtStart / 10 / 2);
    runWorkload(a.engine, a.clock, 300, 5);
    const before = dumpStore(a.engine.store);
    await a.p.close();
    const b = await openDir(dir);
    expect(b.report.snapshotLoaded).to.equal(true);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    await b.p.close();

    // the snapshot alone (the log after it emptied) is the state at its start
    const only = copy(dir);
    const l = listDataDir(only);
    for (const n of l.segments) if (n >= l.snapshots.at(-1)!) fs.writeFileSync(segPath(only, n), '');
    const c = await openDir(only);
    expect(c.report.records).to.equal(0);
    expect(dumpStore(c.engine.store)).to.deep.equal(atStart);
    await c.p.close();
  });

  it('copy-on-write under many interleavings (20 seeds, slices of 1..31 jobs): snapshot == state at its start, snapshot + log == live', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const dir = mkdir();
      const a = await openDir(dir, { slice: 1 + (seed % 7) * 5 });
      runWorkload(a.engine, a.clock, 1500 + seed * 40, 1000 + seed);
      const saved = a.p.save();
      const atStart = dumpStore(a.engine.store);
      let done = false;
      let turns = 0;
      saved.then(
        () => (done = true),
        () => (done = true),
      );
      while (!done) {
        runWorkload(a.engine, a.clock, 1 + (turns % 30), seed * 1000 + turns++);
        await tick();
      }
      await saved;
      runWorkload(a.engine, a.clock, 100, seed + 7);
      const live = dumpStore(a.engine.store);
      await a.p.close();
      const b = await openDir(dir);
      expect(b.report.snapshotLoaded).to.equal(true);
      expect(dumpStore(b.engine.store), `seed ${seed}: snapshot + log`).to.deep.equal(live);
      await b.p.close();
      const only = copy(dir);
      const l = listDataDir(only);
      for (const n of l.segments) if (n >= l.snapshots.at(-1)!) fs.writeFileSync(segPath(only, n), '');
      const c = await openDir(only);
      expect(dumpStore(c.engine.store), `seed ${seed}: snapshot alone`).to.deep.equal(atStart);
      await c.p.close();
    }
  });

  it('the snapshot alone (no log after it) holds every field, byte ids and an empty payload', async () => {
    const dir = mkdir();
    const a = await openDir(dir);
    const e = a.engine;
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    e.enqueue(all, '', { id: all, priority: 0, ttl: 99_999 });
    e.enqueue('q', all.repeat(4000), { delay: 1e9, retries: 7, backoffBase: 5, backoffMax: 50, lease: 1234 });
    e.enqueue('q', 'x', {});
    const [claimed] = e.claim('q', { count: 1, owner: 1, lease: 777 });
    e.touch(claimed.id, 5000);
    e.setPaused('other', true);
    e.setMaxlen('q', 99);
    await a.p.save();
    const before = dumpStore(e.store);
    await a.p.close();
    const b = await openDir(dir);
    expect(b.report.records).to.equal(0);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    const j = b.engine.store.jobs.get(claimed.id)!;
    expect(j.state).to.equal(JobState.Active);
    expect(j.leaseUntil).to.equal(claimed.leaseUntil);
    expect(b.engine.store.nextSeq).to.equal(e.store.nextSeq);
    await b.p.close();
  });

  it('removes what a snapshot made obsolete, keeping one previous generation', async () => {
    const dir = mkdir();
    const a = await openDir(dir);
    const gens: number[] = [];
    for (let i = 0; i < 4; i++) {
      runWorkload(a.engine, a.clock, 200, 20 + i);
      await a.p.save();
      gens.push(readManifest(dir).kind === 'ok' ? (readManifest(dir) as { manifest: { current: { firstSegment: number } } }).manifest.current.firstSegment : 0);
    }
    const l = listDataDir(dir);
    expect(l.snapshots).to.deep.equal(gens.slice(-2));
    expect(l.segments[0]).to.equal(gens[2]);
    const before = dumpStore(a.engine.store);
    await a.p.close();
    const b = await openDir(dir);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    await b.p.close();
  });

  it('takes a snapshot automatically once the log since the last one passes snapshot-log-size', async () => {
    const dir = mkdir();
    const a = await openDir(dir, { snapshotLogSize: 20_000 });
    for (let i = 0; i < 30 && listDataDir(dir).snapshots.length === 0; i++) {
      runWorkload(a.engine, a.clock, 100, 200 + i);
      await sleep(5); // a pause between workload chunks lets the background snapshot start (the loop ends once it exists)
    }
    await until(() => listDataDir(dir).snapshots.length > 0 && !a.p.snapshotRunning);
    expect(a.p.logBytesSinceSnapshot).to.be.lessThan(20_000);
    const before = dumpStore(a.engine.store);
    await a.p.close();
    const b = await openDir(dir);
    expect(b.report.snapshotLoaded).to.equal(true);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    await b.p.close();
  });

  it('BGSAVE answers false while one runs; SAVE during a BGSAVE waits and then snapshots the later state', async () => {
    const dir = mkdir();
    const a = await openDir(dir, { slice: 100 });
    runWorkload(a.engine, a.clock, 3000, 6);
    expect(a.p.bgsave()).to.equal(true);
    expect(a.p.bgsave()).to.equal(false);
    a.engine.enqueue('late', 'after bgsave', {});
    await a.p.save();
    expect(listDataDir(dir).snapshots.length).to.equal(2);
    fs.rmSync(segPath(dir, listDataDir(dir).segments.at(-1)!)); // the log after the last snapshot is empty anyway
    fs.writeFileSync(segPath(dir, listDataDir(dir).segments.at(-1)! + 1), '');
    const before = dumpStore(a.engine.store);
    await a.p.close();
    const b = await openDir(dir);
    expect(dumpStore(b.engine.store)).to.deep.equal(before);
    await b.p.close();
  });

  describe('damage', () => {
    /** a directory with a few segments and a known record count; the last segment ends with small records */
    async function build(): Promise<{ dir: string; before: ReturnType<typeof dumpStore>; lsn: number }> {
      const dir = mkdir();
      const a = await openDir(dir, { segmentSize: 16 * 1024 });
      runWorkload(a.engine, a.clock, 1500, 7);
      const lsn = a.p.lastLsn;
      const before = dumpStore(a.engine.store);
      await a.p.close();
      expect(listDataDir(dir).segments.length).to.be.greaterThan(3);
      return { dir, before, lsn };
    }

    it('a torn record at the tail of the last segment, cut at EVERY byte of the last 3 records: cut off with a warning, earlier records survive', async () => {
      const { dir, lsn } = await build();
      const last = listDataDir(dir).segments.at(-1)!;
      const file = segPath(dir, last);
      const offsets = frameOffsets(file);
      const size = fs.statSync(file).size;
      const firstCut = offsets[offsets.length - 3];
      // the expected state after the first k records: replay a copy cut cleanly at each frame boundary
      const expected = new Map<number, ReturnType<typeof dumpStore>>();
      for (let k = offsets.length - 3; k < offsets.length; k++) {
        const d = copy(dir);
        fs.truncateSync(segPath(d, last), offsets[k]);
        const x = await openDir(d);
        expected.set(offsets[k], dumpStore(x.engine.store));
        expect(x.report.truncatedTail).to.equal(undefined);
        await x.p.close();
      }
      let checked = 0;
      for (let cut = firstCut + 1; cut < size; cut++) {
        if (offsets.includes(cut)) continue;
        const frameStart = [...offsets].reverse().find((o) => o < cut)!;
        const d = copyDir(dir);
        try {
          fs.truncateSync(segPath(d, last), cut);
          const x = await openDir(d);
          expect(x.report.truncatedTail, `cut at ${cut}`).to.deep.equal({ file: segmentName(last), offset: frameStart });
          expect(x.logs.some((l) => l.startsWith('warn') && l.includes(segmentName(last)) && l.includes(`offset ${frameStart}`))).to.equal(true);
          expect(fs.statSync(segPath(d, last)).size).to.equal(frameStart);
          expect(dumpStore(x.engine.store)).to.deep.equal(expected.get(frameStart));
          expect(x.report.records).to.be.lessThan(lsn);
          await x.p.close();
          checked++;
        } finally {
          fs.rmSync(d, { recursive: true, force: true });
        }
      }
      expect(checked).to.equal(size - firstCut - 3);
    });

    it('a zero-filled tail and a last frame failing its CRC right at the end of the file count as torn', async () => {
      const { dir } = await build();
      const last = listDataDir(dir).segments.at(-1)!;
      const size = fs.statSync(segPath(dir, last)).size;
      const d1 = copy(dir);
      fs.appendFileSync(segPath(d1, last), Buffer.alloc(4096));
      const x = await openDir(d1);
      expect(x.report.truncatedTail).to.deep.equal({ file: segmentName(last), offset: size });
      await x.p.close();

      const d2 = copy(dir);
      const offs = frameOffsets(segPath(d2, last));
      const buf = fs.readFileSync(segPath(d2, last));
      buf[buf.length - 1] ^= 0xff;
      fs.writeFileSync(segPath(d2, last), buf);
      const y = await openDir(d2);
      expect(y.report.truncatedTail).to.deep.equal({ file: segmentName(last), offset: offs.at(-1) });
      await y.p.close();
    });

    it('a flipped byte in the middle stops start-up naming the file and offset; repair cuts there and sets the rest aside', async () => {
      const { dir } = await build();
      const segs = listDataDir(dir).segments;
      const mid = segs[1];
      const offs = frameOffsets(segPath(dir, mid));
      const bad = offs[Math.floor(offs.length / 2)];
      const buf = fs.readFileSync(segPath(dir, mid));
      buf[bad + 12] ^= 0x01;
      fs.writeFileSync(segPath(dir, mid), buf);

      const err = await loadFails(dir);
      expect(err.message).to.include(segmentName(mid)).and.include(`offset ${bad}`).and.include('--repair');
      expect(err.file).to.equal(segmentName(mid));
      expect(err.offset).to.equal(bad);
      expect(fs.statSync(segPath(dir, mid)).size, 'nothing changed without repair').to.equal(buf.length);

      // the expected state: everything before the bad record
      const ref = copy(dir);
      for (const n of segs) if (n > mid) fs.rmSync(segPath(ref, n));
      fs.truncateSync(segPath(ref, mid), bad);
      const r = await openDir(ref);
      const expected = dumpStore(r.engine.store);
      await r.p.close();

      const x = await openDir(dir, { repair: true });
      expect(x.report.repaired!.length).to.equal(1 + segs.filter((n) => n > mid).length);
      expect(x.logs.some((l) => l.startsWith('error') && l.includes(`offset ${bad}`) && l.includes('dropping'))).to.equal(true);
      expect(dumpStore(x.engine.store)).to.deep.equal(expected);
      expect(fs.statSync(segPath(dir, mid)).size).to.equal(bad);
      const names = fs.readdirSync(dir);
      expect(names.filter((n) => n.includes('.dropped-')).length).to.equal(1 + segs.filter((n) => n > mid).length);
      // the next segment continues right after the cut one, so the log has no gap at the next start
      x.engine.enqueue('q', 'after repair', {});
      await x.p.close();
      const y = await openDir(dir);
      expect(y.engine.store.jobs.size).to.equal(expected.jobs + 1);
      await y.p.close();
    });

    it('a torn record in a segment that is not the last is corruption', async () => {
      const { dir } = await build();
      const segs = listDataDir(dir).segments;
      const size = fs.statSync(segPath(dir, segs[0])).size;
      fs.truncateSync(segPath(dir, segs[0]), size - 3);
      const err = await loadFails(dir);
      expect(err.message).to.include(segmentName(segs[0])).and.include('not the last');
    });

    it('a missing segment stops start-up naming it; repair loads up to the gap', async () => {
      const { dir } = await build();
      const segs = listDataDir(dir).segments;
      fs.rmSync(segPath(dir, segs[2]));
      const err = await loadFails(dir);
      expect(err.message).to.include(`${segmentName(segs[2])} is missing`);
      const x = await openDir(dir, { repair: true });
      expect(x.report.repaired!.length).to.equal(segs.length - 3);
      await x.p.close();
    });

    it('a missing first segment (no snapshot) stops start-up', async () => {
      const { dir } = await build();
      fs.rmSync(segPath(dir, 1));
      const err = await loadFails(dir);
      expect(err.message).to.include(segmentName(1));
    });

    it('a record that cannot be applied (unknown job) stops start-up naming file and offset; repair skips it', async () => {
      const dir = mkdir();
      const a = await openDir(dir);
      a.engine.enqueue('q', 'a', {});
      await a.p.close();
      const stray: LogRecord = { type: 'ack', at: 1, id: 'nope', result: null };
      fs.appendFileSync(segPath(dir, 1), encodeRecord(stray));
      const err = await loadFails(dir);
      expect(err.message).to.include('nope').and.include(segmentName(1)).and.include('offset');
      const x = await openDir(dir, { repair: true });
      expect(x.engine.store.jobs.size).to.equal(1);
      await x.p.close();
    });
  });

  describe('a crash during a snapshot, or a damaged snapshot or manifest', () => {
    /** two snapshots and log after each; returns the final state */
    async function build(): Promise<{ dir: string; before: ReturnType<typeof dumpStore> }> {
      const dir = mkdir();
      const a = await openDir(dir);
      runWorkload(a.engine, a.clock, 800, 30);
      await a.p.save();
      runWorkload(a.engine, a.clock, 800, 31);
      await a.p.save();
      runWorkload(a.engine, a.clock, 800, 32);
      const before = dumpStore(a.engine.store);
      await a.p.close();
      expect(listDataDir(dir).snapshots.length).to.equal(2);
      return { dir, before };
    }

    it('a leftover partial snapshot .tmp and manifest .tmp are ignored and removed', async () => {
      const { dir, before } = await build();
      fs.writeFileSync(path.join(dir, snapshotName(99) + '.tmp'), Buffer.alloc(1000, 7));
      fs.writeFileSync(path.join(dir, MANIFEST + '.tmp'), '{"form');
      const x = await openDir(dir);
      expect(dumpStore(x.engine.store)).to.deep.equal(before);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
      await x.p.close();
    });

    for (const [what, damage] of [
      ['an empty MANIFEST', (f: string) => fs.writeFileSync(f, '')],
      ['a partial MANIFEST', (f: string) => fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 30))],
      ['a MANIFEST with garbage', (f: string) => fs.writeFileSync(f, '{"format": 1, "current": 3}')],
    ] as const) {
      it(`${what}: warns and finds the newest snapshot by name; same state`, async () => {
        const { dir, before } = await build();
        damage(path.join(dir, MANIFEST));
        const x = await openDir(dir);
        expect(x.logs.some((l) => l.startsWith('warn') && l.includes('MANIFEST'))).to.equal(true);
        expect(x.report.snapshotLoaded).to.equal(true);
        expect(dumpStore(x.engine.store)).to.deep.equal(before);
        await x.p.close();
      });
    }

    for (const [what, damage] of [
      ['an empty newest snapshot', (f: string) => fs.writeFileSync(f, '')],
      ['a partial newest snapshot', (f: string) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2))],
      ['a newest snapshot without its end frame', (f: string) => fs.truncateSync(f, fs.statSync(f).size - frameLen(f))],
      ['a newest snapshot with a flipped byte', (f: string) => flip(f, 100)],
      ['a missing newest snapshot', (f: string) => fs.rmSync(f)],
    ] as const) {
      it(`${what}: falls back to the previous snapshot and the log after it; same state`, async () => {
        const { dir, before } = await build();
        const m = readManifest(dir);
        if (m.kind !== 'ok') throw new Error('no manifest');
        damage(path.join(dir, m.manifest.current.snapshot));
        const x = await openDir(dir);
        expect(x.logs.some((l) => l.startsWith('warn') && l.includes(m.manifest.current.snapshot))).to.equal(true);
        expect(x.report.snapshotLoaded).to.equal(true);
        expect(dumpStore(x.engine.store)).to.deep.equal(before);
        await x.p.close();
      });
    }

    it('both snapshots damaged, the log from segment 1 still there: replays the whole log; same state', async () => {
      const dir = mkdir();
      const a = await openDir(dir);
      runWorkload(a.engine, a.clock, 800, 40);
      await a.p.save();
      runWorkload(a.engine, a.clock, 800, 41);
      const before = dumpStore(a.engine.store);
      await a.p.close();
      for (const n of listDataDir(dir).snapshots) fs.writeFileSync(path.join(dir, snapshotName(n)), '');
      const x = await openDir(dir);
      expect(x.report.snapshotLoaded).to.equal(false);
      expect(dumpStore(x.engine.store)).to.deep.equal(before);
      await x.p.close();
    });

    it('both snapshots damaged and the early log gone: stops start-up', async () => {
      const dir = mkdir();
      const a = await openDir(dir);
      for (let i = 0; i < 3; i++) {
        runWorkload(a.engine, a.clock, 300, 50 + i);
        await a.p.save();
      }
      await a.p.close();
      for (const n of listDataDir(dir).snapshots) fs.writeFileSync(path.join(dir, snapshotName(n)), 'x');
      const err = await loadFails(dir);
      expect(err.message).to.include('no usable snapshot');
    });

    it('a snapshot that fails while being written leaves the previous one in use; the next one works', async () => {
      const dir = mkdir();
      const tfs = new TestFs();
      const a = await openDir(dir, { fs: tfs, slice: 50 });
      runWorkload(a.engine, a.clock, 1000, 60);
      await a.p.save();
      const m1 = readManifest(dir);
      runWorkload(a.engine, a.clock, 500, 61);
      tfs.failRename = 'EIO';
      let failed = false;
      await a.p.save().catch(() => (failed = true));
      expect(failed).to.equal(true);
      expect(a.logs.some((l) => l.startsWith('error') && l.includes('previous snapshot stays in use'))).to.equal(true);
      expect(readManifest(dir)).to.deep.equal(m1);
      expect(a.engine.store.observers.length).to.equal(1); // the engine's own; the snapshot's is gone
      tfs.failRename = null;
      runWorkload(a.engine, a.clock, 300, 62);
      const mid = dumpStore(a.engine.store);
      await a.p.log.flush();
      let x = await openDir(copy(dir));
      expect(dumpStore(x.engine.store)).to.deep.equal(mid);
      await x.p.close();
      await a.p.save();
      const before = dumpStore(a.engine.store);
      await a.p.close();
      x = await openDir(dir);
      expect(dumpStore(x.engine.store)).to.deep.equal(before);
      await x.p.close();
    });
  });

  it('loading yields to the event loop (the server answers -LOADING and PING meanwhile)', async () => {
    const dir = mkdir();
    const a = await openDir(dir);
    for (let i = 0; i < 20_000; i++) a.engine.enqueue('q', 'p'.repeat(100), {});
    await a.p.save();
    for (let i = 0; i < 20_000; i++) a.engine.enqueue('q', 'p'.repeat(100), {});
    await a.p.close();
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const b = await openDir(dir);
    clearInterval(timer);
    expect(b.report.jobs).to.equal(40_000);
    expect(turns).to.be.greaterThan(4);
    await b.p.close();
  });
});

function frameLen(file: string): number {
  const offs = frameOffsets(file);
  return fs.statSync(file).size - offs[offs.length - 1];
}

function flip(file: string, at: number): void {
  const buf = fs.readFileSync(file);
  buf[at] ^= 0x10;
  fs.writeFileSync(file, buf);
}
