import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as net from 'net';
import { execFileSync, spawn, spawnSync } from 'child_process';
import Redis from 'ioredis';
import { startBroker, BrokerProcess } from './helpers/broker';
import { Clients, waitFor } from './helpers/util';

const BIN = path.resolve(__dirname, '../../bin/resq-server');

/** SAVE, BGSAVE, LASTSAVE, -LOADING and --repair through the real binary and real clients. */
describe('persistence through the server: SAVE, BGSAVE, LOADING, --repair', function () {
  this.timeout(60_000);
  let broker: BrokerProcess | undefined;
  const clients = new Clients(() => broker!.port);
  const dirs: string[] = [];

  afterEach(async () => {
    clients.closeAll();
    await broker?.cleanup();
    broker = undefined;
  });
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('SAVE writes a snapshot and moves LASTSAVE; BGSAVE starts one in the background', async () => {
    broker = await startBroker();
    const r = clients.make();
    for (let i = 0; i < 100; i++) await r.call('ENQUEUE', 'snap', `job-${i}`);
    const before = (await r.call('LASTSAVE')) as number;
    expect(await r.call('SAVE')).to.equal('OK');
    const after = (await r.call('LASTSAVE')) as number;
    expect(after)
      .to.be.at.least(before)
      .and.at.most(Math.ceil(Date.now() / 1000));
    expect(fs.readdirSync(broker.dir).some((f) => /^snapshot-\d+\.rsnap$/.test(f))).to.equal(true);
    expect(await r.call('BGSAVE')).to.equal('Background saving started');
    await waitFor(async () => /rdb_bgsave_in_progress:0/.test((await r.call('INFO', 'persistence')) as string), 'BGSAVE done', 10_000, 50);
    // the snapshot is what a restart loads
    await broker.kill();
    await broker.restart();
    expect(await clients.make().call('QLEN', 'snap')).to.equal(100);
  });

  it('while the log is replayed at start-up, commands and PING get -LOADING (as in Redis) and INFO says loading:1', async () => {
    broker = await startBroker({ appendfsync: 'no', 'snapshot-log-size': '0' });
    execFileSync('redis-benchmark', ['-p', String(broker.port), '-n', '300000', '-c', '4', '-P', '64', '-q', 'ENQUEUE', 'big', 'x'.repeat(100)], {
      stdio: 'ignore',
    });
    await broker.kill();
    const proc = spawn(process.execPath, [BIN, '--port', '0', '--dir', broker.dir, '--http-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      // the port is bound before the log is loaded and logged then ("listening on ...:P; loading"); the ready line comes after loading
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      let port = 0;
      await waitFor(
        () => {
          const m = /listening on [^:]+:(\d+); loading/.exec(out);
          if (m) port = Number(m[1]);
          return port > 0;
        },
        'the "listening on" log line',
        20_000,
      );
      let sawLoading = false;
      let pinged = false;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const open = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
        if (!open) continue;
        const r = new Redis({ port, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
        r.on('error', () => {});
        await r.connect();
        try {
          for (;;) {
            const [pong, info, qlen] = await Promise.all([
              r.call('PING').catch((e: Error) => e),
              r.call('INFO', 'persistence') as Promise<string>,
              r.call('QLEN', 'big').catch((e: Error) => e),
            ]);
            if (qlen instanceof Error) {
              expect(qlen.message).to.match(/^LOADING/);
              expect(pong).to.be.instanceOf(Error);
              expect((pong as Error).message).to.match(/^LOADING/);
              expect(info).to.match(/^loading:1\r$/m);
              sawLoading = true;
            } else {
              pinged = (await r.call('PING')) === 'PONG';
              expect(qlen).to.be.at.least(300_000); // redis-benchmark rounds -n up to whole pipelines
              break;
            }
          }
        } finally {
          r.disconnect();
        }
        break;
      }
      expect(pinged, 'PING answered').to.equal(true);
      expect(sawLoading, 'a -LOADING reply before the data was loaded').to.equal(true);
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('corruption in the middle of the log stops start-up naming file and offset; --repair cuts there', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-repair-'));
    dirs.push(dir);
    broker = await startBroker({ 'snapshot-log-size': '0' }, { dir });
    const r = clients.make();
    for (let i = 0; i < 200; i++) await r.call('ENQUEUE', 'rep', `job-${i}`);
    await broker.kill();
    const segments = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.rlog'))
      .sort();
    const file = path.join(dir, segments[segments.length - 1]);
    const buf = fs.readFileSync(file);
    const at = Math.floor(buf.length / 2);
    buf[at] ^= 0x55;
    fs.writeFileSync(file, buf);

    const refused = spawnSync(process.execPath, [BIN, '--port', '0', '--dir', dir, '--http-port', '0'], { encoding: 'utf8', timeout: 20_000 });
    expect(refused.status).to.equal(1);
    expect(refused.stderr)
      .to.include(path.basename(file))
      .and.match(/offset \d+/)
      .and.include('--repair');

    await broker.restart({ repair: 'yes' });
    const n = (await clients.make().call('QLEN', 'rep')) as number;
    expect(n).to.be.greaterThan(0).and.below(200);
  });
});
