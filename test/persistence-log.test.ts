import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { AppendLog, FsyncPolicy } from '../server/persistence/append-log';
import { LogRecord } from '../server/engine/records';
import { listDataDir, segmentName } from '../server/persistence/data-files';
import { TestFs, gate, readAllSegments, sleep, tick, tmpDir, until } from './helpers/persistence-fs';

function rec(i: number, payload = 'x'.repeat(20)): LogRecord {
  return {
    type: 'enqueue',
    at: 1_790_000_000_000 + i,
    id: String(i),
    seq: i,
    queue: 'q',
    payload,
    priority: 1,
    runAt: 0,
    retries: 3,
    backoffBase: 1000,
    backoffMax: 60_000,
    lease: 30_000,
    expiresAt: 0,
    group: '',
  };
}

interface Harness {
  dir: string;
  tfs: TestFs;
  log: AppendLog;
  policy: { value: FsyncPolicy };
  segSize: { value: number };
  messages: string[];
  durable: number[];
  written: number[];
  writeAhead: { value: boolean };
}

async function openLog(
  o: { policy?: FsyncPolicy; segmentSize?: number; syncIntervalMs?: number; dsync?: boolean; writeAhead?: boolean } = {},
): Promise<Harness> {
  const dir = tmpDir();
  const tfs = new TestFs();
  tfs.dsync = o.dsync ?? true;
  const policy = { value: o.policy ?? 'always' };
  const segSize = { value: o.segmentSize ?? 64 * 1024 * 1024 };
  const messages: string[] = [];
  const writeAhead = { value: o.writeAhead ?? false };
  const log = new AppendLog({
    dir,
    fs: tfs,
    appendfsync: () => policy.value,
    segmentSize: () => segSize.value,
    log: (level, msg) => messages.push(`${level}: ${msg}`),
    firstSegment: 1,
    retryMs: 20,
    syncIntervalMs: o.syncIntervalMs ?? 1000,
    writeAhead: () => writeAhead.value,
  });
  await log.open();
  const durable: number[] = [];
  log.onDurable((lsn) => durable.push(lsn));
  const written: number[] = [];
  log.onWritten((lsn) => written.push(lsn));
  return { dir, tfs, log, policy, segSize, messages, durable, written, writeAhead };
}

for (const dsync of [true, false])
  describe(`persistence: append log (${dsync ? 'always = O_DSYNC writes' : 'always = write + fdatasync'})`, () => {
    const opened: Harness[] = [];
    const open = async (o?: Parameters<typeof openLog>[0]) => {
      const h = await openLog({ dsync, ...o });
      opened.push(h);
      return h;
    };
    afterEach(async () => {
      for (const h of opened.splice(0)) {
        h.tfs.failWrites = h.tfs.failSync = null;
        await h.log.close().catch(() => {});
        fs.rmSync(h.dir, { recursive: true, force: true });
      }
    });

    it('append bumps lastLsn at once and does no I/O; the record is durable after the flush', async () => {
      const h = await open();
      h.log.append(rec(1));
      expect(h.log.lastLsn).to.equal(1);
      expect(h.log.durableLsn).to.equal(0);
      expect(h.tfs.writes).to.equal(0);
      await until(() => h.log.durableLsn === 1);
      expect(h.tfs.writes).to.equal(1);
      expect(h.tfs.fsyncs).to.equal(1);
      expect(h.durable).to.deep.equal([1]);
      expect(readAllSegments(h.dir)).to.deep.equal([rec(1)]);
    });

    it('group commit: appends of one turn share one write and one fsync', async () => {
      const h = await open();
      for (let i = 1; i <= 50; i++) h.log.append(rec(i));
      await until(() => h.log.durableLsn === 50);
      expect(h.tfs.writes).to.equal(1);
      expect(h.tfs.fsyncs).to.equal(1);
      expect(h.durable).to.deep.equal([50]);
    });

    it('group commit: 50 clients appending while fsyncs run all share the next fsync (two syncs may be in flight)', async () => {
      const h = await open();
      const g = gate();
      h.tfs.syncGate = g.promise;
      h.log.append(rec(0));
      await until(() => h.tfs.writes === 1); // the first batch is in its fsync now
      for (let c = 1; c <= 50; c++) {
        h.log.append(rec(c)); // each "client" in its own event-loop turn
        await tick();
      }
      // the second batch (client 1) went out while the first synced; the other 49 wait for a free slot
      expect(h.tfs.writes).to.equal(2);
      expect(h.log.durableLsn).to.equal(0);
      h.tfs.syncGate = null;
      g.open();
      await until(() => h.log.durableLsn === 51);
      expect(h.tfs.fsyncs).to.equal(3);
      expect(h.tfs.writes).to.equal(3);
      // batches settled by the same gate opening may be reported in one step
      expect(h.durable[h.durable.length - 1]).to.equal(51);
      for (let i = 1; i < h.durable.length; i++) expect(h.durable[i]).to.be.greaterThan(h.durable[i - 1]);
      expect(readAllSegments(h.dir).map((r) => (r as { id: string }).id)).to.deep.equal(Array.from({ length: 51 }, (_, i) => String(i)));
    });

    it('never reports a record durable before it is on disk, and reports LSNs in order', async () => {
      const h = await open();
      const violations: string[] = [];
      h.tfs.onSync = () => {
        // at each fsync, what is on disk must cover everything already reported durable
        const onDisk = readAllSegments(h.dir).length;
        if (onDisk < h.log.durableLsn) violations.push(`${onDisk} on disk, durable ${h.log.durableLsn}`);
      };
      let n = 0;
      for (let turn = 0; turn < 30; turn++) {
        const k = 1 + (turn % 7);
        for (let i = 0; i < k; i++) h.log.append(rec(++n));
        await tick();
        expect(h.log.durableLsn).to.be.at.most(h.log.lastLsn);
      }
      await until(() => h.log.durableLsn === n);
      expect(violations).to.deep.equal([]);
      for (let i = 1; i < h.durable.length; i++) expect(h.durable[i]).to.be.greaterThan(h.durable[i - 1]);
      expect(readAllSegments(h.dir)).to.have.length(n);
    });

    it('ENOSPC (with a partial write): unwritable, nothing reported durable, no torn record left; recovers by itself with nothing lost or duplicated', async () => {
      const h = await open();
      for (let i = 1; i <= 10; i++) h.log.append(rec(i));
      await until(() => h.log.durableLsn === 10);
      const goodSize = fs.statSync(path.join(h.dir, segmentName(1))).size;

      h.tfs.failWrites = 'ENOSPC';
      h.tfs.partialBytes = 37; // part of the batch reaches the file, then the disk is full
      for (let i = 11; i <= 20; i++) h.log.append(rec(i));
      await until(() => !h.log.writable);
      expect(h.log.lastError).to.match(/ENOSPC/);
      expect(h.log.durableLsn).to.equal(10);
      await until(() => fs.statSync(path.join(h.dir, segmentName(1))).size === goodSize); // cut back to the last complete record
      expect(readAllSegments(h.dir)).to.have.length(10);

      // more records while the disk is full: kept, not written, not durable
      for (let i = 21; i <= 25; i++) h.log.append(rec(i));
      const tried = h.tfs.writes;
      await until(() => h.tfs.writes >= tried + 3); // several retries fail
      expect(h.log.writable).to.equal(false);
      expect(h.log.durableLsn).to.equal(10);
      expect(h.messages.filter((m) => m.startsWith('error')).length).to.equal(1); // said once, not at every retry

      h.tfs.failWrites = null; // the disk has room again
      await until(() => h.log.writable && h.log.durableLsn === 25);
      expect(h.log.lastError).to.equal(null);
      const ids = readAllSegments(h.dir).map((r) => (r as { id: string }).id);
      expect(ids).to.deep.equal(Array.from({ length: 25 }, (_, i) => String(i + 1)));
      expect(h.messages.some((m) => /writable again/.test(m))).to.equal(true);
    });

    it('a failed fdatasync under always: not durable, and the batch is written again without duplicates', async () => {
      const h = await open();
      h.log.append(rec(1));
      await until(() => h.log.durableLsn === 1);
      h.tfs.failSync = 'EIO';
      h.log.append(rec(2));
      h.log.append(rec(3));
      await until(() => !h.log.writable);
      expect(h.log.durableLsn).to.equal(1);
      expect(h.log.lastError).to.match(/EIO/);
      h.tfs.failSync = null;
      await until(() => h.log.writable && h.log.durableLsn === 3);
      expect(readAllSegments(h.dir).map((r) => (r as { id: string }).id)).to.deep.equal(['1', '2', '3']);
    });

    it('pipelined syncs: the earlier one fails while the later one succeeds -> neither counts; both written again once, in order', async () => {
      const h = await open();
      const g = gate();
      h.tfs.syncGate = g.promise;
      h.tfs.syncPlan = ['EIO', null];
      h.log.append(rec(1));
      await until(() => h.tfs.writes === 1);
      h.log.append(rec(2));
      await until(() => h.tfs.writes === 2); // both syncs in flight
      h.tfs.syncGate = null;
      g.open();
      await until(() => !h.log.writable);
      expect(h.log.durableLsn).to.equal(0);
      expect(h.durable).to.deep.equal([]);
      await until(() => h.log.writable && h.log.durableLsn === 2);
      expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2)]);
    });

    it('pipelined syncs: the later one fails -> the earlier one counts, the later one is written again', async () => {
      const h = await open();
      const g = gate();
      h.tfs.syncGate = g.promise;
      h.tfs.syncPlan = [null, 'EIO'];
      h.log.append(rec(1));
      await until(() => h.tfs.writes === 1);
      h.log.append(rec(2));
      h.log.append(rec(3));
      await until(() => h.tfs.writes === 2);
      h.tfs.syncGate = null;
      g.open();
      await until(() => !h.log.writable);
      expect(h.log.durableLsn).to.equal(1);
      await until(() => h.log.writable && h.log.durableLsn === 3);
      expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2), rec(3)]);
    });

    it('a segment that cannot be created: unwritable, then recovers', async () => {
      const h = await open({ segmentSize: 200 });
      h.tfs.failOpen = 'EMFILE';
      for (let i = 1; i <= 12; i++) h.log.append(rec(i));
      await until(() => !h.log.writable);
      h.tfs.failOpen = null;
      await until(() => h.log.writable && h.log.durableLsn === 12);
      expect(readAllSegments(h.dir)).to.have.length(12);
    });

    it('a segment created but whose directory entry cannot be synced: retried on the same file, then recovers', async () => {
      const h = await open();
      h.tfs.failSyncDir = 'EIO';
      h.log.append(rec(1));
      h.log.rotate();
      h.log.append(rec(2));
      await until(() => !h.log.writable);
      expect(h.log.durableLsn).to.equal(1);
      h.tfs.failSyncDir = null;
      await until(() => h.log.writable && h.log.durableLsn === 2);
      expect(listDataDir(h.dir).segments).to.deep.equal([1, 2]);
      expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2)]);
    });

    it('rotates to a new segment past segment-size; records stay whole and in order across segments', async () => {
      const h = await open({ segmentSize: 500 });
      for (let i = 1; i <= 40; i++) {
        h.log.append(rec(i));
        if (i % 3 === 0) await tick();
      }
      await until(() => h.log.durableLsn === 40);
      const segs = listDataDir(h.dir).segments;
      expect(segs.length).to.be.greaterThan(4);
      expect(segs).to.deep.equal(Array.from({ length: segs.length }, (_, i) => i + 1));
      for (const n of segs.slice(0, -1)) {
        const size = fs.statSync(path.join(h.dir, segmentName(n))).size;
        expect(size).to.be.at.most(500 + 100);
        expect(size).to.be.greaterThan(0);
      }
      expect(readAllSegments(h.dir).map((r) => (r as { id: string }).id)).to.deep.equal(Array.from({ length: 40 }, (_, i) => String(i + 1)));
    });

    it('segment-size is read live', async () => {
      const h = await open();
      for (let i = 1; i <= 5; i++) h.log.append(rec(i));
      h.segSize.value = 100;
      for (let i = 6; i <= 10; i++) h.log.append(rec(i));
      await until(() => h.log.durableLsn === 10);
      expect(listDataDir(h.dir).segments.length).to.be.greaterThan(3);
    });

    it('rotate() creates the new segment even when nothing follows', async () => {
      const h = await open();
      h.log.append(rec(1));
      const s = h.log.rotate();
      expect(s).to.equal(2);
      await h.log.segmentCreated(2);
      expect(fs.existsSync(path.join(h.dir, segmentName(2)))).to.equal(true);
      expect(h.log.rotate()).to.equal(3);
      h.log.append(rec(2));
      await until(() => h.log.durableLsn === 2);
      expect(listDataDir(h.dir).segments).to.deep.equal([1, 2, 3]);
      expect(fs.statSync(path.join(h.dir, segmentName(2))).size).to.equal(0);
      expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2)]);
    });

    it('everysec: durable once written without an fsync per batch; fdatasync on the interval', async () => {
      const h = await open({ policy: 'everysec', syncIntervalMs: 50 });
      for (let turn = 0; turn < 20; turn++) {
        h.log.append(rec(turn));
        await until(() => h.log.durableLsn === turn + 1);
      }
      expect(h.tfs.writes).to.equal(20);
      expect(h.tfs.fsyncs).to.be.lessThan(5);
      await until(() => h.tfs.fsyncs >= 1, 500);
    });

    it('no: never fsyncs while running; close() flushes and fsyncs once', async () => {
      const h = await open({ policy: 'no', syncIntervalMs: 20 });
      for (let i = 1; i <= 30; i++) h.log.append(rec(i));
      await until(() => h.log.durableLsn === 30);
      await sleep(60); // nothing to observe: three sync intervals (20 ms) must pass without an fsync
      expect(h.tfs.fsyncs).to.equal(0);
      h.log.append(rec(31));
      await h.log.close();
      expect(h.tfs.fsyncs).to.equal(1);
      expect(readAllSegments(h.dir)).to.have.length(31);
    });

    it('the policy is read live: everysec -> always starts fsyncing each batch', async () => {
      const h = await open({ policy: 'everysec' });
      h.log.append(rec(1));
      await until(() => h.log.durableLsn === 1);
      expect(h.tfs.fsyncs).to.equal(0);
      h.policy.value = 'always';
      h.log.append(rec(2));
      await until(() => h.log.durableLsn === 2);
      expect(h.tfs.fsyncs).to.equal(1);
    });

    it('close() fails (and says why) when the disk still refuses the records', async () => {
      const h = await open();
      h.tfs.failWrites = 'ENOSPC';
      h.log.append(rec(1));
      let err: Error | null = null;
      await h.log.close().catch((e: Error) => (err = e));
      expect(String(err)).to.match(/ENOSPC/);
    });
  });

describe('persistence: append log, always with writes ahead of the fsync (lease-durability written)', () => {
  const opened: Harness[] = [];
  const open = async (o?: Parameters<typeof openLog>[0]) => {
    const h = await openLog({ writeAhead: true, ...o });
    opened.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of opened.splice(0)) {
      h.tfs.failWrites = h.tfs.failSync = null;
      h.tfs.syncGate = null;
      await h.log.close().catch(() => {});
      fs.rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('records appended while an fdatasync runs are written at once (writtenLsn), durable only after the next fdatasync', async () => {
    const h = await open();
    const g = gate();
    h.tfs.syncGate = g.promise;
    h.log.append(rec(0));
    h.log.wantDurable(1); // a reply waits for it
    await until(() => h.log.writtenLsn === 1);
    expect(h.log.durableLsn).to.equal(0);
    for (let c = 1; c <= 20; c++) {
      h.log.append(rec(c)); // each "client" in its own event-loop turn
      await until(() => h.log.writtenLsn === c + 1); // written without waiting for the held fdatasync
    }
    expect(h.log.durableLsn).to.equal(0);
    expect(h.tfs.dsyncWrites).to.equal(0);
    h.log.wantDurable(21);
    h.tfs.syncGate = null;
    g.open();
    await until(() => h.log.durableLsn === 21);
    expect(h.tfs.fsyncs).to.equal(2); // the held one (record 0), and one for all 20 written meanwhile (they may overlap)
    expect(h.durable[h.durable.length - 1]).to.equal(21); // one report, or one per sync
    for (let i = 1; i < h.written.length; i++) expect(h.written[i]).to.be.greaterThan(h.written[i - 1]);
    expect(readAllSegments(h.dir).map((r) => (r as { id: string }).id)).to.deep.equal(Array.from({ length: 21 }, (_, i) => String(i)));
  });

  it('writtenLsn only covers records on disk, durableLsn only what an fdatasync covered, in order', async () => {
    const h = await open();
    const violations: string[] = [];
    let syncedUpTo = 0;
    h.tfs.onSync = () => {
      const onDisk = readAllSegments(h.dir).length;
      if (onDisk < h.log.durableLsn) violations.push(`${onDisk} on disk, durable ${h.log.durableLsn}`);
      syncedUpTo = onDisk; // what this fdatasync covers at most
    };
    h.log.onWritten((lsn) => {
      const onDisk = readAllSegments(h.dir).length;
      if (onDisk < lsn) violations.push(`${onDisk} on disk, written ${lsn}`);
    });
    h.log.onDurable((lsn) => {
      if (lsn > syncedUpTo) violations.push(`durable ${lsn} past the last fdatasync (${syncedUpTo})`);
    });
    let n = 0;
    for (let turn = 0; turn < 30; turn++) {
      const k = 1 + (turn % 7);
      for (let i = 0; i < k; i++) h.log.append(rec(++n));
      if (turn % 3 === 0) h.log.wantDurable(n);
      await tick();
      expect(h.log.durableLsn).to.be.at.most(h.log.writtenLsn);
      expect(h.log.writtenLsn).to.be.at.most(h.log.lastLsn);
    }
    h.log.wantDurable(n);
    await until(() => h.log.durableLsn === n);
    expect(violations).to.deep.equal([]);
    expect(readAllSegments(h.dir)).to.have.length(n);
  });

  it('a failed fdatasync: written but not durable; the records are written again once, then durable', async () => {
    const h = await open();
    h.log.append(rec(1));
    h.log.wantDurable(1);
    await until(() => h.log.durableLsn === 1);
    h.tfs.failSync = 'EIO';
    h.log.append(rec(2));
    h.log.append(rec(3));
    h.log.wantDurable(3);
    await until(() => !h.log.writable);
    expect(h.log.writtenLsn).to.equal(3);
    expect(h.log.durableLsn).to.equal(1);
    h.tfs.failSync = null;
    await until(() => h.log.writable && h.log.durableLsn === 3);
    expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2), rec(3)]);
  });

  it('two fdatasyncs overlap; the earlier fails while the later succeeds -> neither counts; both written again once, in order', async () => {
    const h = await open();
    const g = gate();
    h.tfs.syncGate = g.promise;
    h.tfs.syncPlan = ['EIO', null];
    h.log.append(rec(1));
    h.log.wantDurable(1);
    await until(() => h.log.writtenLsn === 1);
    h.log.append(rec(2));
    h.log.wantDurable(2);
    await until(() => h.log.writtenLsn === 2);
    await tick();
    h.tfs.syncGate = null;
    g.open();
    await until(() => !h.log.writable);
    expect(h.log.durableLsn).to.equal(0);
    await until(() => h.log.writable && h.log.durableLsn === 2);
    expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2)]);
  });

  it('a failed write (ENOSPC) is not reported written; recovers with nothing lost or duplicated', async () => {
    const h = await open();
    h.log.append(rec(1));
    h.log.wantDurable(1);
    await until(() => h.log.durableLsn === 1);
    h.tfs.failWrites = 'ENOSPC';
    h.tfs.partialBytes = 10;
    h.log.append(rec(2));
    h.log.wantDurable(2);
    await until(() => !h.log.writable);
    expect(h.log.writtenLsn).to.equal(1);
    h.tfs.failWrites = null;
    await until(() => h.log.writable && h.log.durableLsn === 2);
    expect(readAllSegments(h.dir)).to.deep.equal([rec(1), rec(2)]);
  });

  it('rotation waits for the fdatasync of the old segment; records stay whole and in order across segments', async () => {
    const h = await open({ segmentSize: 300 });
    for (let i = 1; i <= 40; i++) {
      h.log.append(rec(i));
      if (i % 3 === 0) await tick();
    }
    h.log.wantDurable(40);
    await until(() => h.log.durableLsn === 40);
    expect(listDataDir(h.dir).segments.length).to.be.greaterThan(3);
    expect(readAllSegments(h.dir).map((r) => (r as { id: string }).id)).to.deep.equal(Array.from({ length: 40 }, (_, i) => String(i + 1)));
  });

  it('the mode is read live: off again, always goes back to one O_DSYNC write per batch', async () => {
    const h = await open();
    h.log.append(rec(1));
    h.log.wantDurable(1);
    await until(() => h.log.durableLsn === 1);
    expect(h.tfs.dsyncWrites).to.equal(0);
    h.writeAhead.value = false;
    h.log.append(rec(2));
    await until(() => h.log.durableLsn === 2);
    expect(h.tfs.dsyncWrites).to.equal(1);
    expect(h.log.writtenLsn).to.equal(2);
  });

  it('records nobody waits for (lease replies) are written but not fsynced until a reply waits or the sync interval passes', async () => {
    const h = await open({ syncIntervalMs: 40 });
    for (let i = 1; i <= 10; i++) {
      h.log.append(rec(i));
      await tick();
    }
    await until(() => h.log.writtenLsn === 10);
    expect(h.tfs.fsyncs).to.equal(0);
    expect(h.log.durableLsn).to.equal(0);
    await until(() => h.log.durableLsn === 10); // the interval's sync
    expect(h.tfs.fsyncs).to.equal(1);
    h.log.append(rec(11));
    h.log.append(rec(12));
    await until(() => h.log.writtenLsn === 12);
    h.log.wantDurable(11);
    await until(() => h.log.durableLsn === 12);
    expect(h.tfs.fsyncs).to.equal(2);
    h.log.append(rec(13));
    await h.log.flush(); // flush waits for everything
    expect(h.log.durableLsn).to.equal(13);
  });

  it('under everysec written and durable advance together (the policy promises no fsync per batch)', async () => {
    const h = await open({ policy: 'everysec' });
    h.log.append(rec(1));
    await until(() => h.log.durableLsn === 1);
    expect(h.log.writtenLsn).to.equal(1);
    expect(h.tfs.fsyncs).to.equal(0);
  });
});
