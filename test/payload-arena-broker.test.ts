/**
 * Payloads kept in the payload arena (server/engine/payload-arena.ts), through a real broker and
 * ioredis: every byte comes back from CLAIM and STATUS, a slot freed by retention is reused
 * without touching the payloads still queued, and the bytes survive kill -9 from the log and
 * from a snapshot.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { startBroker } from './helpers/broker';
import { brokerForSuite, fields } from './helpers/util';

/** a payload that differs from its neighbours in length and in every byte (0-255 included) */
function payloadOf(i: number): Buffer {
  const len = [0, 1, 7, 100, 255, 256, 1000, 4094, 4095, 9000][i % 10] + (i % 3);
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

async function arena(r: Redis): Promise<{ payloads: number; bytes: number }> {
  const info = (await r.info('memory')) as string;
  const field = (name: string) => Number(new RegExp(`payload_arena_${name}:(\\d+)`).exec(info)![1]);
  return { payloads: field('payloads'), bytes: field('bytes') };
}

async function enqueueAll(r: Redis, queue: string, from: number, n: number): Promise<Map<string, Buffer>> {
  const batch = r.pipeline();
  const payloads: Buffer[] = [];
  for (let i = from; i < from + n; i++) {
    payloads.push(payloadOf(i));
    batch.call('ENQUEUE', queue, payloads[payloads.length - 1]);
  }
  const ids = (await batch.exec())!.map(([err, id]) => {
    if (err) throw err;
    return String(id);
  });
  return new Map(ids.map((id, k) => [id, payloads[k]]));
}

async function expectQueued(r: Redis, sent: Map<string, Buffer>): Promise<void> {
  for (const [id, p] of sent) {
    const s = fields((await r.callBuffer('STATUS', id, 'WITHPAYLOAD')) as unknown[]);
    expect(Buffer.compare(s.payload as Buffer, p), `payload of ${id}`).to.equal(0);
  }
}

describe('payload arena through the broker (ioredis)', function () {
  this.timeout(60000);
  const suite = brokerForSuite(() => startBroker({ 'completed-max': '10' }));
  const { clients } = suite;

  it('CLAIM gives back every byte, and acked jobs dropped by retention free their slots for reuse', async () => {
    const r = clients.make();
    const base = (await arena(r)).payloads;
    const kept = await enqueueAll(r, 'keep', 0, 60);
    const flow = await enqueueAll(r, 'flow', 60, 300);
    const claimed = (await r.callBuffer('CLAIM', 'flow', 'COUNT', 300)) as Buffer[][];
    expect(claimed).to.have.length(300);
    for (const [id, , payload] of claimed) expect(Buffer.compare(payload, flow.get(id.toString())!)).to.equal(0);
    const acks = r.pipeline();
    for (const [id] of claimed) acks.call('ACK', id.toString());
    await acks.exec();
    // 10 completed jobs are kept (completed-max 10), the rest were dropped: their slots are free
    const stored = (m: Map<string, Buffer>) => [...m.values()].filter((p) => p.length > 0 && p.length <= 4094).length;
    expect((await arena(r)).payloads).to.be.at.most(base + stored(kept) + 10);
    // new payloads go into the freed slots; the queued ones are untouched
    const again = await enqueueAll(r, 'flow', 60, 300);
    await expectQueued(r, kept);
    await expectQueued(r, again);
  });

  it('a steady flow through one size of slot does not grow the arena', async () => {
    const r = clients.make();
    const round = async () => {
      const batch = r.pipeline();
      for (let i = 0; i < 2000; i++) batch.call('ENQUEUE', 'steady', 'p'.repeat(1000));
      await batch.exec();
      const jobs = (await r.call('CLAIM', 'steady', 'COUNT', 2000)) as string[][];
      const acks = r.pipeline();
      for (const [id] of jobs) acks.call('ACK', id);
      await acks.exec();
    };
    await round();
    const bytes = (await arena(r)).bytes;
    // each round needs about 2 MB of 1,000-byte slots: without reuse the arena would grow by that much each time
    for (let k = 0; k < 3; k++) await round();
    expect((await arena(r)).bytes).to.be.at.most(bytes);
  });

  it('payloads come back byte for byte after kill -9, replayed from the log and loaded from a snapshot', async () => {
    const r = clients.make();
    const sent = await enqueueAll(r, 'crash', 1000, 200);
    await suite.broker.kill();
    await suite.broker.restart();
    const afterLog = clients.make();
    await expectQueued(afterLog, sent);
    expect(await afterLog.call('SAVE')).to.equal('OK');
    const more = await enqueueAll(afterLog, 'crash', 2000, 50);
    await suite.broker.kill();
    await suite.broker.restart();
    const afterSnapshot = clients.make();
    await expectQueued(afterSnapshot, sent);
    await expectQueued(afterSnapshot, more);
    const claimed = (await afterSnapshot.callBuffer('CLAIM', 'crash', 'COUNT', 250)) as Buffer[][];
    for (const [id, , payload] of claimed) expect(Buffer.compare(payload, sent.get(id.toString()) ?? more.get(id.toString())!)).to.equal(0);
  });

  it('a load of more than 16 MB, with a helper thread touching the arena memory ahead, gives every payload back after kill -9 (log, then snapshot)', async () => {
    const r = clients.make();
    const sent = new Map<string, Buffer>();
    for (let from = 0; from < 12_000; from += 1000) {
      const batch = r.pipeline();
      const bodies: Buffer[] = [];
      for (let i = from; i < from + 1000; i++) {
        const b = Buffer.alloc(1200 + (i % 700));
        for (let k = 0; k < b.length; k += 97) b[k] = (i + k) & 0xff;
        b.writeUInt32LE(i, 0);
        bodies.push(b);
        batch.call('ENQUEUE', 'big', b);
      }
      (await batch.exec())!.forEach(([err, id], k) => {
        if (err) throw err;
        sent.set(String(id), bodies[k]);
      });
    }
    const check = async (c: Redis) => {
      const got = (await c.callBuffer('PEEK', 'big', 'COUNT', 20_000)) as Buffer[][];
      expect(got.length).to.equal(sent.size);
      for (const [id, , payload] of got) expect(Buffer.compare(payload, sent.get(id.toString())!), id.toString()).to.equal(0);
    };
    for (const step of ['log', 'snapshot']) {
      if (step === 'snapshot') expect(await clients.make().call('SAVE')).to.equal('OK');
      const from = suite.broker.output().length;
      await suite.broker.kill();
      await suite.broker.restart();
      expect(suite.broker.output().slice(from), step).to.match(/loaded 1\d{4} jobs .* MiB of payload memory touched ahead by a helper thread/);
      await check(clients.make());
    }
  });
});
