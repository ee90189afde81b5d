/**
 * The SDK with least-privilege ACL users against a real broker: a producer
 * (+@produce ~emails) and a worker (+@consume ~emails), credentials in the
 * URL (redis://user:pass@host:port) and in ioredis options.
 */
import { expect } from 'chai';
import { NoPermError, Queue, Worker } from '../client';
import { BrokerProcess } from './helpers/broker';
import { startSdkBroker, until } from './helpers/sdk-util';
import { Clients, cmd } from './helpers/util';

describe('client SDK with ACL users (producer and worker each least-privilege)', function () {
  this.timeout(20000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  const closers: Array<() => Promise<unknown>> = [];
  const warned: string[] = [];
  const realWarn = console.warn;

  const url = (user: string, pass: string) => `redis://${user}:${pass}@127.0.0.1:${broker.port}`;

  before(async () => {
    broker = await startSdkBroker({ requirepass: 'adminpw' });
    const admin = clients.make({ password: 'adminpw' });
    await cmd(admin, 'ACL', 'SETUSER', 'producer', 'on', '>p-pw', '+@produce', '~emails');
    await cmd(admin, 'ACL', 'SETUSER', 'worker', 'on', '>w-pw', '+@consume', '~emails');
    // ioredis runs INFO as a ready check; a user without INFO makes it print one warning and go on
    console.warn = (...args: unknown[]) => void warned.push(args.map(String).join(' '));
  });
  after(async () => {
    console.warn = realWarn;
    for (const close of closers.splice(0)) await close();
    clients.closeAll();
    await broker?.cleanup();
  });

  it('the producer enqueues and waits, the worker handles; neither can do the other one job or touch another queue', async () => {
    const queue = new Queue<{ to: string }>(url('producer', 'p-pw'));
    queue.on('error', () => undefined);
    closers.push(() => queue.close());
    const handled: string[] = [];
    const worker = new Worker<{ to: string }>(
      'emails',
      async (job) => {
        handled.push(job.data.to);
        return { sent: true };
      },
      { connection: url('worker', 'w-pw'), block: 100 },
    );
    const workerErrors: Error[] = [];
    worker.on('error', (e) => workerErrors.push(e));
    closers.push(() => worker.close(2000));

    const id = await queue.enqueue('emails', { to: 'ann@example.com' });
    const done = await queue.waitFor(id, 10_000);
    expect(done?.state).to.equal('completed');
    expect(done?.result).to.deep.equal({ sent: true });
    expect(handled).to.deep.equal(['ann@example.com']);
    expect(workerErrors).to.deep.equal([]);

    // the producer: no other queue, no CLAIM
    const other = await queue.enqueue('payments', { to: 'x' }).catch((e: Error) => e);
    expect(other).to.be.instanceOf(NoPermError);
    expect((other as Error).message).to.include("access the 'payments' queue");
    const claim = await queue.redis.call('CLAIM', 'emails').catch((e: Error) => e);
    expect(String(claim)).to.match(/NOPERM User producer has no permissions to run the 'claim' command/);

    // the worker's credentials: no ENQUEUE (options form: username/password as ioredis takes them)
    const asWorker = new Queue({ host: '127.0.0.1', port: broker.port, username: 'worker', password: 'w-pw' });
    asWorker.on('error', () => undefined);
    closers.push(() => asWorker.close());
    const enq = await asWorker.enqueue('emails', { to: 'y' }).catch((e: Error) => e);
    expect(enq).to.be.instanceOf(NoPermError);
    expect((enq as Error).message).to.include("run the 'enqueue' command");

    // a worker on another queue: its CLAIMs are refused, reported as NoPermError events
    const stray = new Worker('payments', async () => 'no', { connection: url('worker', 'w-pw'), block: 100, retryDelay: 50 });
    const strayErrors: Error[] = [];
    stray.on('error', (e) => strayErrors.push(e));
    closers.push(() => stray.close(1000));
    await until(() => strayErrors.length > 0, 5000, 'the stray worker reports its refused CLAIM');
    expect(strayErrors[0]).to.be.instanceOf(NoPermError);
    expect(strayErrors[0].message).to.include("access the 'payments' queue");

    const admin = clients.make({ password: 'adminpw' });
    expect(await cmd(admin, 'QLEN', 'payments')).to.equal(0);
    expect(
      warned.every((w) => /Skipping the ready check because INFO command fails/.test(w)),
      warned.join('\n'),
    ).to.equal(true);
  });
});
