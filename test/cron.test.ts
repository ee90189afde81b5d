import { expect } from 'chai';
import { startBroker, BrokerProcess } from './helpers/broker';
import { Clients, expectError, sleep, waitFor } from './helpers/util';

type CronEntry = [string, string, string, number];

describe('recurring jobs: CRON SET/DEL/LIST', function () {
  this.timeout(30_000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);

  afterEach(async () => {
    clients.closeAll();
    await broker?.cleanup();
  });

  it('a 6-field expression fires every second with the ENQUEUE options; LIST and DEL', async () => {
    broker = await startBroker();
    const r = clients.make();
    expect(await r.call('CRON', 'SET', 'tick', '* * * * * *', 'ticks', 'hello', 'PRIORITY', 'high', 'RETRIES', '7')).to.equal('OK');
    const list = (await r.call('CRON', 'LIST')) as CronEntry[];
    expect(list).to.have.length(1);
    expect(list[0].slice(0, 3)).to.deep.equal(['tick', '* * * * * *', 'ticks']);
    expect(list[0][3]).to.be.within(Date.now() - 10, Date.now() + 1500);
    await waitFor(async () => ((await r.call('QLEN', 'ticks')) as number) >= 2, 'two runs', 5000, 50);
    const [[id, queue, payload]] = (await r.call('CLAIM', 'ticks')) as string[][];
    expect(id).to.match(/^cron:tick:\d+000$/);
    expect([queue, payload]).to.deep.equal(['ticks', 'hello']);
    const status = (await r.call('STATUS', id)) as (string | number)[];
    expect(status[status.indexOf('priority') + 1]).to.equal('high');
    expect(status[status.indexOf('retries') + 1]).to.equal(7);
    expect(await r.call('CRON', 'DEL', 'tick')).to.equal(1);
    expect(await r.call('CRON', 'DEL', 'tick')).to.equal(0);
    const after = (await r.call('QLEN', 'ticks')) as number;
    await sleep(1300);
    expect(await r.call('QLEN', 'ticks')).to.equal(after);
    expect(await r.call('CRON', 'LIST')).to.deep.equal([]);
  });

  it('5-field expressions, time zones and bad input', async () => {
    broker = await startBroker();
    const r = clients.make();
    expect(await r.call('CRON', 'SET', 'daily', '0 9 * * *', 'reports', 'x', 'TZ', 'Asia/Tokyo')).to.equal('OK');
    const [[, , , next]] = (await r.call('CRON', 'LIST')) as CronEntry[];
    // 09:00 in Tokyo is 00:00 UTC
    expect(new Date(next).getUTCHours()).to.equal(0);
    expect(new Date(next).getUTCMinutes()).to.equal(0);
    await expectError(r.call('CRON', 'SET', 'bad', '* * *', 'q', 'x'), 'ERR', /5 or 6 fields/);
    await expectError(r.call('CRON', 'SET', 'bad', '99 * * * *', 'q', 'x'), 'ERR', /invalid cron expression/);
    await expectError(r.call('CRON', 'SET', 'bad', '* * * * *', 'q', 'x', 'TZ', 'Mars/Olympus'), 'ERR', /unknown time zone/);
    await expectError(r.call('CRON', 'SET', 'bad', '* * * * *', 'q', 'x', 'ID', 'fixed'), 'ERR', /no ID or BLOCK/);
    await expectError(r.call('CRON', 'SET', 'bad', '* * * * *', 'q', 'x', 'PRIORITY', 'urgent'), 'ERR', /PRIORITY/);
    await expectError(r.call('CRON', 'NOPE'), 'ERR', /unknown subcommand/);
  });

  it('entries survive a restart; a run missed while down is caught up once (cron-catchup one)', async () => {
    broker = await startBroker();
    const r = clients.make();
    await r.call('CRON', 'SET', 'five', '*/5 * * * * *', 'catch', 'x');
    r.disconnect();
    await broker.stop();
    const down = Date.now();
    await sleep(5200); // at least one */5 slot passes while the broker is down
    await broker.restart();
    const up = Date.now();
    const r2 = clients.make();
    expect(((await r2.call('CRON', 'LIST')) as CronEntry[]).map((e) => e[0])).to.deep.equal(['five']);
    const jobs = (await r2.call('PEEK', 'catch', 'COUNT', '100')) as string[][];
    const missed = jobs.map((j) => Number(j[0].split(':')[2])).filter((t) => t > down - 1000 && t < up);
    expect(missed, `caught-up runs among ${jobs.map((j) => j[0])}`).to.have.length(1);
  });

  it('cron-catchup none skips runs missed while down', async () => {
    broker = await startBroker({ 'cron-catchup': 'none' });
    const r = clients.make();
    await r.call('CRON', 'SET', 'five', '*/5 * * * * *', 'catch', 'x');
    r.disconnect();
    await broker.stop();
    const down = Date.now();
    await sleep(5200);
    await broker.restart();
    const up = Date.now();
    const jobs = (await clients.make().call('PEEK', 'catch', 'COUNT', '100')) as string[][];
    expect(jobs.map((j) => Number(j[0].split(':')[2])).filter((t) => t > down - 1000 && t < up)).to.deep.equal([]);
  });
});
