import * as fs from 'fs';
import { expect } from 'chai';
import * as net from 'net';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { startBroker, BrokerProcess } from './helpers/broker';
import { Clients, fields, waitFor } from './helpers/util';

const BIN = path.resolve(__dirname, '../../bin/resq-server');

describe('lifecycle: shutdown and restart', () => {
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);

  beforeEach(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('SIGTERM exits 0, logs the stop, and every job is there after the restart', async () => {
    const r = clients.make();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await r.call('ENQUEUE', 'life', `job-${i}`)) as string);
    r.disconnect();
    expect(await broker.stop()).to.equal(0);
    expect(broker.output()).to.match(/shutting down \(SIGTERM, save\)/);
    await broker.restart();
    const r2 = clients.make();
    expect(await r2.call('QLEN', 'life')).to.equal(50);
    expect(fields(await r2.call('STATUS', ids[49])).state).to.equal('ready');
  });

  it('SHUTDOWN NOSAVE closes the connection without a reply and exits 0', async () => {
    const r = clients.make();
    await r.call('ENQUEUE', 'life', 'x');
    const exited = new Promise<number | null>((resolve) => broker.proc.once('exit', (code) => resolve(code)));
    await r.call('SHUTDOWN', 'NOSAVE').then(
      () => expect.fail('SHUTDOWN replies nothing on success'),
      (e: Error) => expect(e.message).to.match(/Connection is closed|ECONNRESET|closed/i),
    );
    expect(await exited).to.equal(0);
    await broker.restart();
    expect(await clients.make().call('QLEN', 'life')).to.equal(1);
  });

  it('a client blocked in CLAIM or WAITJOB is closed cleanly on SIGTERM, not left hanging', async () => {
    const r = clients.make();
    const id = (await r.call('ENQUEUE', 'other', 'x')) as string;
    const closed = (cmd: string) =>
      new Promise<void>((resolve) => {
        const s = net.connect(broker.port, '127.0.0.1', () => s.write(cmd));
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
    const a = closed('CLAIM empty BLOCK 0\r\n');
    const b = closed(`WAITJOB ${id}\r\n`);
    await waitFor(async () => /blocked_clients:2/.test((await r.call('INFO', 'clients')) as string), 'two blocked clients');
    const started = Date.now();
    expect(await broker.stop()).to.equal(0);
    await Promise.all([a, b]);
    expect(Date.now() - started).to.be.below(5000);
  });

  it('active jobs keep their leases across a graceful restart, then are redelivered when the lease ends', async () => {
    const r = clients.make();
    const id = (await r.call('ENQUEUE', 'lease', 'x')) as string;
    // 5 s: a stop and a restart must fit in the lease on a loaded machine
    const [[, , , deliveries]] = (await r.call('CLAIM', 'lease', 'LEASE', '5000')) as [string, string, string, number][];
    expect(deliveries).to.equal(1);
    r.disconnect();
    await broker.stop();
    await broker.restart();
    const r2 = clients.make();
    expect(fields(await r2.call('STATUS', id)).state).to.equal('active');
    await waitFor(async () => fields(await r2.call('STATUS', id)).state === 'ready', 'lease expiry after restart', 15_000, 50);
    const again = (await r2.call('CLAIM', 'lease')) as [string, string, string, number][];
    expect(again[0][0]).to.equal(id);
    expect(again[0][3]).to.equal(2);
  });

  it('a port in use is a clear start-up error with a non-zero exit', () => {
    const otherDir = broker.dir + '-other';
    let res: ReturnType<typeof spawnSync>;
    try {
      res = spawnSync(process.execPath, [BIN, '--port', String(broker.port), '--dir', otherDir, '--http-port', '0'], { encoding: 'utf8', timeout: 10_000 });
    } finally {
      fs.rmSync(otherDir, { recursive: true, force: true }); // the refused broker made the directory
    }
    expect(res.status).to.equal(1);
    expect(res.stderr).to.match(/port \d+ is already in use/);
  });
});
