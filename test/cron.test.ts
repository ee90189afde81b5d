import { expect } from 'chai';
import { startBroker, BrokerProcess } from './helpers/broker';
import { Clients, expectError, sleep, waitFor } from './helpers/util';

const sleepUntil = (t: number) => sleep(Math.max(0, t - Date.now()));

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
    await waitFor(async () => ((await r.call('QLEN', 'ticks')) as number) >= 1, 'a run', 5000, 20);
    const [[id, queue, payload]] = (await r.call('CLAIM', 'ticks')) as string[][];
    expect(id).to.match(/^cron:tick:\d+000$/);
    expect([queue, payload]).to.deep.equal(['ticks', 'hello']);
    // every second: the next run is one second after this one (or later, if another already came)
    const ran = Number(id.split(':')[2]);
    const next = ((await r.call('CRON', 'LIST')) as CronEntry[])[0][3];
    expect(next).to.be.above(ran);
    expect((next - ran) % 1000).to.equal(0);
    expect(next).to.be.at.most(Date.now() + 1000);
    const status = (await r.call('STATUS', id)) as (string | number)[];
    expect(status[status.indexOf('priority') + 1]).to.equal('high');
    expect(status[status.indexOf('retries') + 1]).to.equal(7);
    expect(await r.call('CRON', 'DEL', 'tick')).to.equal(1);
    expect(await r.call('CRON', 'DEL', 'tick')).to.equal(0);
    const after = (await r.call('QLEN', 'ticks')) as number;
    // nothing to observe but time: no run may come once the next whole second (a slot of the deleted entry) has passed
    await sleepUntil(Math.ceil(Date.now() / 1000) * 1000 + 200);
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

  /**
   * An entry that fires at two consecutive whole seconds of the minute, both
   * at least 0.5 s away: the broker is killed (CRON SET replied, so the entry
   * is in the log) before the first, so it runs neither, and restarted once
   * the second has passed: two runs were missed. (The clock is what is waited
   * for here: nothing else can be observed.)
   */
  async function missTwoRuns(settings: Record<string, string>): Promise<{ first: number; second: number }> {
    broker = await startBroker(settings);
    const r = clients.make();
    const first = Math.ceil((Date.now() + 500) / 1000) * 1000;
    const second = first + 1000;
    const sec = (t: number) => new Date(t).getUTCSeconds();
    await r.call('CRON', 'SET', 'two', `${sec(first)},${sec(second)} * * * * *`, 'catch', 'x');
    expect((await r.call('CRON', 'LIST')) as CronEntry[]).to.deep.equal([['two', `${sec(first)},${sec(second)} * * * * *`, 'catch', first]]);
    r.disconnect();
    await broker.kill();
    expect(Date.now(), 'the broker was down before the first run (CRON SET and the kill took over 0.5 s?)').to.be.below(first);
    await sleepUntil(second + 50);
    await broker.restart();
    return { first, second };
  }

  it('entries survive a crash; of the runs missed while down, one is caught up (cron-catchup one)', async () => {
    const { first } = await missTwoRuns({});
    const r2 = clients.make();
    expect(((await r2.call('CRON', 'LIST')) as CronEntry[]).map((e) => e[0])).to.deep.equal(['two']);
    // the catch-up run is enqueued before the broker reports ready, as the first missed run
    const jobs = (await r2.call('PEEK', 'catch', 'COUNT', '100')) as string[][];
    expect(jobs.map((j) => j[0])).to.deep.equal([`cron:two:${first}`]);
  });

  it('cron-catchup none skips runs missed while down', async () => {
    await missTwoRuns({ 'cron-catchup': 'none' });
    const r2 = clients.make();
    expect(((await r2.call('CRON', 'LIST')) as CronEntry[]).map((e) => e[0])).to.deep.equal(['two']);
    expect(await r2.call('PEEK', 'catch', 'COUNT', '100')).to.deep.equal([]);
  });
});
