import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { applyRecord } from '../server/engine/apply-record';
import { RecoveryError } from '../server/persistence';
import { listDataDir, segmentName, snapshotName, MANIFEST } from '../server/persistence/data-files';
import { DiskPersistence } from '../server/persistence/disk-persistence';
import { decodeRecord, walkFrames } from '../server/persistence/record-codec';
import { tmpDir } from './helpers/persistence-fs';
import { dumpStore, newEngine, openDir, runWorkload } from './helpers/persistence-workload';

/**
 * Property tests of start-up loading (fast-check): random truncation and
 * corruption of log segments, snapshots and the manifest. Loading either
 * yields a state the writer really had (a prefix of the log, or the final
 * state when only a snapshot that the log can stand in for is damaged), or
 * refuses with a RecoveryError naming the file and offset; never another
 * exception, never garbage.
 */

type Dump = ReturnType<typeof dumpStore>;
const TIME_LIMIT_MS = 4000;

async function open(dir: string): Promise<{ p: DiskPersistence; dump: Dump }> {
  const { p, engine } = await openDir(dir);
  return { p, dump: dumpStore(engine.store) };
}

function copyDir(from: string): string {
  const to = tmpDir();
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(to, f));
  return to;
}

type Damage = { kind: 'truncate' | 'flip' | 'zero' | 'junk' | 'set'; at: number; len: number; value: number };
const damage: fc.Arbitrary<Damage> = fc.record({
  kind: fc.constantFrom<Damage['kind']>('truncate', 'flip', 'zero', 'junk', 'set'),
  at: fc.nat(),
  len: fc.integer({ min: 1, max: 64 }),
  value: fc.integer({ min: 0, max: 255 }),
});

/** damages the file; returns the first offset whose byte changed (the file's size for appended junk) */
function applyDamage(file: string, d: Damage): number {
  const buf = fs.readFileSync(file);
  if (buf.length === 0) return 0;
  const at = d.at % buf.length;
  switch (d.kind) {
    case 'truncate':
      fs.truncateSync(file, at);
      return at;
    case 'flip':
      buf[at] ^= 1 << (d.value % 8);
      break;
    case 'set':
      if (buf[at] === d.value) return buf.length; // no change
      buf[at] = d.value;
      break;
    case 'zero': {
      const end = Math.min(buf.length, at + d.len);
      let first = -1;
      for (let i = at; i < end; i++) if (buf[i] !== 0 && first < 0) first = i;
      if (first < 0) return buf.length;
      buf.fill(0, at, end);
      fs.writeFileSync(file, buf);
      return first;
    }
    case 'junk': {
      const junk = Buffer.alloc(d.len, d.value);
      fs.appendFileSync(file, junk);
      return buf.length;
    }
  }
  fs.writeFileSync(file, buf);
  return at;
}

describe('persistence: loading damaged files (fast-check properties)', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a damaged log segment loads a prefix of what was written (never past the damage) or is refused naming file and offset', async () => {
    const dir = tmpDir();
    dirs.push(dir);
    {
      const { engine, clock, p } = await openDir(dir);
      runWorkload(engine, clock, 120, 77);
      await p.close();
    }
    const seg = segmentName(1);
    const bytes = fs.readFileSync(path.join(dir, seg));
    // the state after each prefix of k records, and where record k ends
    const replica = newEngine().store;
    const prefixes: Array<{ end: number; dump: Dump }> = [{ end: 0, dump: dumpStore(replica) }];
    const walked = walkFrames(bytes, 0, (s, e) => {
      applyRecord(replica, decodeRecord(bytes, s, e));
      prefixes.push({ end: e, dump: dumpStore(replica) });
    });
    expect(walked.kind).to.equal('clean');
    expect(prefixes.length).to.be.greaterThan(50);
    const undamaged = copyDir(dir);
    dirs.push(undamaged);
    const whole = await open(undamaged);
    await whole.p.close();
    expect(whole.dump).to.deep.equal(prefixes[prefixes.length - 1].dump);

    let loaded = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 3 }), async (ds) => {
        const d = copyDir(dir);
        try {
          let first = Infinity;
          for (const x of ds) first = Math.min(first, applyDamage(path.join(d, seg), x));
          let res;
          try {
            res = await open(d);
          } catch (e) {
            if (!(e instanceof RecoveryError)) throw e;
            expect(e.file, e.message).to.equal(seg);
            expect(e.offset, e.message).to.be.a('number');
            expect(e.offset!, e.message).to.be.at.most(first);
            expect(e.message).to.include(seg).and.include(`offset ${e.offset}`);
            refused++;
            return;
          }
          await res.p.close();
          const match = prefixes.findIndex((p) => p.end <= first && deepEqual(p.dump, res.dump));
          expect(match, 'the loaded state is the state after some prefix of the log before the damage').to.be.at.least(0);
          loaded++;
        } finally {
          fs.rmSync(d, { recursive: true, force: true });
        }
      }),
      { numRuns: 80, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
    // both outcomes occur (a cut tail loads; a damaged frame before the end is refused)
    expect(loaded, 'runs that loaded').to.be.greaterThan(0);
    expect(refused, 'runs that were refused').to.be.greaterThan(0);
  });

  it('a damaged snapshot or manifest (the log from segment 1 still there) loads the final state or is refused naming a file', async () => {
    const dir = tmpDir();
    dirs.push(dir);
    let final: Dump;
    {
      const { engine, clock, p } = await openDir(dir);
      runWorkload(engine, clock, 150, 78);
      await p.save();
      runWorkload(engine, clock, 60, 79);
      final = dumpStore(engine.store);
      await p.close();
    }
    const snap = snapshotName(listDataDir(dir).snapshots[0]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(snap, MANIFEST), fc.array(damage, { minLength: 1, maxLength: 3 }), async (file, ds) => {
        const d = copyDir(dir);
        try {
          for (const x of ds) applyDamage(path.join(d, file), x);
          let res;
          try {
            res = await open(d);
          } catch (e) {
            if (!(e instanceof RecoveryError)) throw e;
            expect(e.file, e.message).to.be.a('string');
            return;
          }
          await res.p.close();
          expect(res.dump).to.deep.equal(final);
        } finally {
          fs.rmSync(d, { recursive: true, force: true });
        }
      }),
      { numRuns: 60, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  });
});

function deepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).to.deep.equal(b);
    return true;
  } catch {
    return false;
  }
}
