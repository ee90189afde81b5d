import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, fields, waitFor } from './helpers/util';

/**
 * A real disk-full through the real server: the data dir is a 2 MiB tmpfs
 * (needs root to mount; skipped otherwise) with a ballast file in it. When
 * the log cannot grow, writes get -MISCONF, nothing is acknowledged that is
 * not written; once the ballast is removed the broker recovers by itself and
 * a restart finds every acknowledged job.
 */
describe('persistence: disk full (tmpfs) through the server', function () {
  this.timeout(60_000);
  let mnt = '';
  let broker: BrokerProcess | undefined;
  const clients = new Clients(() => broker!.port);

  before(function () {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      fs.rmSync(mnt, { recursive: true, force: true });
      mnt = '';
      this.skip(); // not root, or no tmpfs: the injectable-fs tests in persistence-log cover the logic
    }
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
    if (mnt) {
      try {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      } catch {
        // left mounted; nothing else to do
      }
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('-MISCONF while full, reads still answer, recovers by itself, nothing acknowledged is lost', async () => {
    const dir = path.join(mnt, 'data');
    fs.writeFileSync(path.join(mnt, 'ballast'), Buffer.alloc(1024 * 1024)); // 1 MiB to free later
    broker = await startBroker({ 'http-port': '0', 'snapshot-log-size': '0', 'segment-size': '65536', appendfsync: 'always' }, { dir });
    const r = clients.make({ commandTimeout: 2000 });
    const payload = 'x'.repeat(4000);
    const acked: string[] = [];
    let misconf = '';
    for (let i = 0; i < 1000 && !misconf; i++) {
      try {
        acked.push((await cmd(r, 'ENQUEUE', 'full', payload)) as string);
      } catch (e) {
        misconf = (e as Error).message;
      }
    }
    // the ENQUEUE that found the disk full got no reply: it is held, not acknowledged.
    // Other connections must still be answered: reads, and -MISCONF for writes.
    const probe = clients.make({ commandTimeout: 2000 });
    try {
      expect(await cmd(probe, 'PING')).to.equal('PONG');
    } catch (e) {
      throw new Error(
        `a PING on another connection got no reply while the log could not be written (${(e as Error).message}): ` +
          'replies are held until the global lastLsn is durable (server/net/client-connection.ts flush()), so while a record waits for the disk ' +
          "every connection waits, reads and -MISCONF refusals included. Gate each reply on the LSN of its own connection's writes instead.",
      );
    }
    const w = clients.make({ commandTimeout: 2000 });
    let refused = '';
    await waitFor(
      async () => {
        try {
          await cmd(w, 'ENQUEUE', 'full', 'small');
          return false;
        } catch (e) {
          refused = (e as Error).message;
          return refused.startsWith('MISCONF');
        }
      },
      'writes get -MISCONF',
      10_000,
      50,
    );
    expect(refused).to.match(/^MISCONF .*ENOSPC/);
    const info = (await cmd(clients.make(), 'INFO', 'persistence')) as string;
    expect(info).to.match(/aof_last_write_status:err/);

    // reads still answer on a fresh connection
    const reader = clients.make({ commandTimeout: 2000 });
    expect(await cmd(reader, 'PING')).to.equal('PONG');
    const st = fields(await cmd(reader, 'STATUS', acked[0]));
    expect(st.state).to.equal('ready');

    // room again: the broker writes what it held and takes writes again, by itself
    fs.rmSync(path.join(mnt, 'ballast'));
    const again = clients.make({ commandTimeout: 5000 });
    await waitFor(
      async () => {
        try {
          acked.push((await cmd(again, 'ENQUEUE', 'full', 'after')) as string);
          return true;
        } catch {
          return false;
        }
      },
      'writes accepted again',
      10_000,
      100,
    );
    // acked writes are durable already; the recovery's log line must have reached us before the kill
    await waitFor(() => /writable again/.test(broker!.output()), 'the "writable again" log line');
    await broker.restart();
    const r2 = clients.make();
    for (const id of acked) expect(await cmd(r2, 'STATUS', id), `job ${id}`).to.not.equal(null);
    expect(broker.output()).to.match(/writable again/);
    expect(misconf === '' || /timed out|MISCONF/i.test(misconf)).to.equal(true);
  });
});
