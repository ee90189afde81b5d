/**
 * The log's CPU path alone, in process: AppendLog.append of claim + ack
 * records (the hot, hand-encoded kind), `batch` per event-loop turn, written
 * through an FsOps that does no I/O (every write and sync resolves at once),
 * so what is measured is encoding, batching and the write path's own JS.
 *   node dist/bench/log-append-bench.js [TREE] [--records 2000000] [--batch 100]
 * TREE: a checkout with dist/ built (default: this one), to compare builds A/B.
 */
import * as path from 'path';

function opt(flag: string, d: number): number {
  const i = process.argv.indexOf(flag);
  return i > 0 ? Number(process.argv[i + 1]) : d;
}

async function main(): Promise<void> {
  const tree = process.argv[2] && !process.argv[2].startsWith('--') ? path.resolve(process.argv[2]) : path.resolve(__dirname, '..', '..');
  const { AppendLog } = (await import(path.join(tree, 'dist/server/persistence/append-log'))) as typeof import('../server/persistence/append-log');
  const records = opt('--records', 2_000_000);
  const batch = opt('--batch', 100);
  let written = 0;
  const fs = {
    open: async () => 3,
    openDsync: async () => 4,
    write: async (_fd: number, _buf: Buffer, _off: number, len: number) => ((written += len), len),
    fdatasync: async () => {},
    fsync: async () => {},
    ftruncate: async () => {},
    close: async () => {},
    rename: async () => {},
    unlink: async () => {},
    syncDir: async () => {},
  };
  const log = new AppendLog({ dir: '/nonexistent', fs, appendfsync: () => 'always', segmentSize: () => 1 << 40, log: () => {}, firstSegment: 1 });
  await log.open();
  const id = 'j0000000042';
  const now = Date.now();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < records; i += batch) {
    for (let k = 0; k < batch; k += 2) {
      log.append({ type: 'claim', at: now + i, id, leaseUntil: now + 30000, deliveryLease: i + k });
      log.append({ type: 'ack', at: now + i, id, result: null });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await log.flush();
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  console.log(
    `${tree}: ${records} records, ${batch} a turn: ${(((c.user + c.system) / records) * 1000).toFixed(0)} ns CPU a record, ${ms.toFixed(0)} ms, ${log.stats.writes} writes, ${(written / records).toFixed(1)} bytes a record`,
  );
  await log.close();
}

void main();
