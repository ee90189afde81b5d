/**
 * ns per log record through the log's encoder (encodeRecordToArena), for the records of one
 * job's life: enqueue (100-byte payload), claim, ack.
 *   node dist/bench/record-encode-bench.js
 */
import { encodeRecordToArena } from '../server/persistence/record-codec';
import { LogRecord } from '../server/engine/records';

const ROUNDS = 1_000_000;
const payload = 'x'.repeat(100);
const enqueues: LogRecord[] = [];
for (let i = 0; i < 1000; i++) {
  enqueues.push({
    type: 'enqueue',
    at: 1_764_500_000_000 + i,
    id: String(100_000 + i),
    seq: 100_000 + i,
    queue: 'q',
    payload,
    priority: 1,
    runAt: 0,
    retries: 3,
    backoffBase: 1000,
    backoffMax: 3_600_000,
    lease: 30_000,
    expiresAt: 0,
    group: '',
  });
}
const claims: LogRecord[] = enqueues.map((r) => ({ type: 'claim', at: r.at, id: (r as { id: string }).id, leaseUntil: r.at + 30_000, deliveryLease: 30_000 }));
const acks: LogRecord[] = enqueues.map((r) => ({ type: 'ack', at: r.at, id: (r as { id: string }).id, result: null }));

console.log('| record | ns/record |');
console.log('|---|---:|');
for (let round = 0; round < 3; round++) {
  for (const [name, recs] of [
    ['enqueue', enqueues],
    ['claim', claims],
    ['ack', acks],
  ] as const) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < ROUNDS; i++) encodeRecordToArena(recs[i % recs.length]);
    if (round === 2) console.log(`| ${name} | ${(Number(process.hrtime.bigint() - t) / ROUNDS).toFixed(0)} |`);
  }
}
