import { expect } from 'chai';
import Redis from 'ioredis';
import Redis6, { RedisOptions as Redis6Options } from 'ioredis6';
import { createClient } from 'redis';
import { BrokerProcess, startBroker } from './helpers/broker';
import { RawClient, RespError, RespMap } from './helpers/raw-client';
import { Clients, cmd, expectError, fields, waitFor } from './helpers/util';

/**
 * Protocol-level behaviour through real client libraries: RESP3 with ioredis
 * v6 (HELLO 3 + CLIENT SETINFO on connect), node-redis unmodified, every
 * connection/server command, AUTH and the error rules for bad input.
 */

let qn = 0;
const newQueue = (tag = 'q') => `proto-${tag}-${++qn}`;

describe('server: protocol and connection commands', function () {
  this.timeout(10000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  const raws: RawClient[] = [];
  const v6: Redis6[] = [];
  let r: Redis;

  const raw = async () => {
    const c = await RawClient.connect(broker.port);
    raws.push(c);
    return c;
  };
  const ioredis6 = (opts: Redis6Options = {}) => {
    const c = new Redis6({ port: broker.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
    c.on('error', () => {});
    v6.push(c);
    return c;
  };

  before(async () => {
    broker = await startBroker();
    r = clients.make();
  });
  after(async () => {
    clients.closeAll();
    for (const c of v6) c.disconnect();
    for (const c of raws) c.close();
    await broker?.cleanup();
  });

  describe('RESP3 with ioredis v6', () => {
    it('connects with HELLO 3 and CLIENT SETINFO; the connection is RESP3 with the library recorded', async () => {
      const c = ioredis6();
      expect(await c.ping()).to.equal('PONG');
      const info = String(await c.call('CLIENT', 'INFO'));
      expect(info).to.match(/ resp=3\b/);
      expect(info).to.match(/ lib-name=ioredis\b/);
      expect(info).to.match(/ lib-ver=6\.\d+\.\d+/);
    });

    it('STATUS and QSTATS are maps; nil is null; CLAIM entries keep their shape', async () => {
      const c = ioredis6({ replyMapping: 'resp3' });
      const q = newQueue('resp3');
      const id = String(await c.call('ENQUEUE', q, 'payload', 'PRIORITY', 'low'));
      const s = (await c.call('STATUS', id, 'WITHPAYLOAD')) as Record<string, unknown>;
      expect(s).to.be.an('object').and.not.an('array');
      expect(s).to.include({ id, queue: q, state: 'ready', priority: 'low', deliveries: 0, retries: 3, payload: 'payload' });
      expect(s['run-at']).to.equal(null);
      expect(s['lease-until']).to.equal(null);
      expect(s['last-error']).to.equal(null);
      expect(s.result).to.equal(null);
      expect(s['created-at']).to.be.a('number');
      const st = (await c.call('QSTATS', q)) as Record<string, unknown>;
      expect(st).to.be.an('object').and.not.an('array');
      expect(st).to.include({ ready: 1, 'ready-low': 1, scheduled: 0, paused: 0, maxlen: 0, enqueued: 1 });
      expect(await c.call('STATUS', 'no-such-id')).to.equal(null);
      expect(await c.call('WAITJOB', id, 'BLOCK', 50)).to.equal(null);
      expect(await c.call('CLAIM', q)).to.deep.equal([[id, q, 'payload', 1]]);
      expect(await c.call('ACK', id, 'RESULT', 'done')).to.equal(1);
      expect(((await c.call('WAITJOB', id)) as Record<string, unknown>).result).to.equal('done');
      const cfg = (await c.call('CONFIG', 'GET', 'default-retries')) as Record<string, unknown>;
      expect(cfg).to.deep.equal({ 'default-retries': '3' });
    });

    it('with the default (legacy) reply mapping maps arrive as flat arrays, as in RESP2', async () => {
      const c = ioredis6();
      const q = newQueue('resp3');
      const id = String(await c.call('ENQUEUE', q, 'x'));
      expect(fields(await c.call('STATUS', id))).to.include({ id, state: 'ready' });
    });

    it('the wire types: HELLO 3 map, STATUS map with _ nulls, INFO verbatim; HELLO 2 switches back', async () => {
      const c = await raw();
      const hello = await c.command('HELLO', '3');
      expect(hello).to.be.instanceOf(RespMap);
      const h = hello as RespMap;
      expect(h.get('server')).to.equal('resq');
      expect(h.get('proto')).to.equal(3);
      expect(h.get('id')).to.be.a('number');
      const q = newQueue('wire');
      const id = (await c.command('ENQUEUE', q, 'x')) as string;
      const s = (await c.command('STATUS', id)) as RespMap;
      expect(s).to.be.instanceOf(RespMap);
      expect(s.get('run-at')).to.equal(null);
      expect(s.get('state')).to.equal('ready');
      c.write('STATUS nope\r\n');
      expect(await c.next()).to.equal(null);
      expect(c.pendingBytes).to.equal(0);
      expect(await c.command('QSTATS', q)).to.be.instanceOf(RespMap);
      expect(await c.command('INFO', 'server')).to.match(/^# Server\r\n/);
      const back = await c.command('HELLO', '2');
      expect(back).to.be.an('array');
      expect(await c.command('STATUS', id)).to.be.an('array');
      expect(await c.command('STATUS', 'nope')).to.equal(null);
    });
  });

  describe('node-redis v5, unmodified', () => {
    for (const RESP of [2, 3] as const) {
      it(`works for job commands over RESP${RESP}`, async () => {
        const c = createClient({ url: `redis://127.0.0.1:${broker.port}`, RESP });
        c.on('error', () => {});
        await c.connect();
        try {
          const q = newQueue('node-redis');
          expect(await c.ping()).to.equal('PONG');
          const id = (await c.sendCommand(['ENQUEUE', q, 'hello', 'PRIORITY', 'high'])) as unknown as string;
          expect(id).to.be.a('string');
          expect(await c.sendCommand(['QLEN', q])).to.equal(1);
          expect(await c.sendCommand(['CLAIM', q, 'COUNT', '5'])).to.deep.equal([[id, q, 'hello', 1]]);
          expect(await c.sendCommand(['ACK', id, 'RESULT', 'ok'])).to.equal(1);
          const s = await c.sendCommand(['STATUS', id]);
          const obj = RESP === 3 ? { ...(s as unknown as Record<string, unknown>) } : fields(s);
          expect(obj).to.include({ state: 'completed', result: 'ok' });
          expect(await c.sendCommand(['STATUS', 'nope'])).to.equal(null);
          let err: Error | undefined;
          try {
            await c.sendCommand(['ACK', 'nope']);
          } catch (e) {
            err = e as Error;
          }
          expect(err?.message).to.match(/^NOJOB/);
          expect(String(await c.sendCommand(['CLIENT', 'INFO']))).to.match(new RegExp(`lib-name=node-redis.* resp=${RESP}`));
        } finally {
          c.destroy();
        }
      });
    }
  });

  describe('connection commands', () => {
    it('PING [msg], ECHO', async () => {
      expect(await cmd(r, 'PING')).to.equal('PONG');
      expect(await cmd(r, 'PING', 'hello there')).to.equal('hello there');
      await expectError(cmd(r, 'PING', 'a', 'b'), 'ERR');
      expect(await cmd(r, 'ECHO', 'bytes\r\n\0')).to.equal('bytes\r\n\0');
      await expectError(cmd(r, 'ECHO'), 'ERR', /wrong number of arguments/);
      expect(await cmd(r, 'ping')).to.equal('PONG');
    });

    it('QUIT replies OK and closes the connection', async () => {
      const c = await raw();
      c.write('PING\r\nQUIT\r\n');
      expect(await c.next()).to.equal('PONG');
      expect(await c.next()).to.equal('OK');
      await c.waitClosed();
    });

    it('HELLO [2|3] [AUTH] [SETNAME]; HELLO 4 and HELLO abc are -NOPROTO', async () => {
      const c = await raw();
      const h2 = (await c.command('HELLO')) as unknown[];
      const m = fields(h2);
      expect(m).to.include({ server: 'resq', proto: 2 });
      expect(m.version).to.be.a('string');
      const err = (await c.command('HELLO', '4')) as RespError;
      expect(err).to.be.instanceOf(RespError);
      expect(err.code).to.equal('NOPROTO');
      expect(((await c.command('HELLO', 'abc')) as RespError).code).to.equal('NOPROTO');
      expect(((await c.command('HELLO', '1')) as RespError).code).to.equal('NOPROTO');
      // still RESP2 after the refusals
      expect(await c.command('STATUS', 'x')).to.equal(null);
      const h3 = (await c.command('HELLO', '3', 'SETNAME', 'worker-7')) as RespMap;
      expect(h3.get('proto')).to.equal(3);
      expect(await c.command('CLIENT', 'GETNAME')).to.equal('worker-7');
      // without a password configured, HELLO ... AUTH default <anything> is accepted as in Redis
      expect(await c.command('HELLO', '2', 'AUTH', 'default', 'whatever')).to.be.an('array');
      expect(((await c.command('HELLO', '3', 'BOGUS')) as RespError).code).to.equal('ERR');
      expect(await c.command('PING')).to.equal('PONG');
    });

    it('AUTH without a password configured is an error; RESET restores the defaults', async () => {
      const c = await raw();
      expect(((await c.command('AUTH', 'x')) as RespError).message).to.match(/^ERR AUTH .*without any password configured/);
      await c.command('HELLO', '3', 'SETNAME', 'temp');
      expect(await c.command('RESET')).to.equal('RESET');
      expect(await c.command('CLIENT', 'GETNAME')).to.equal(null);
      expect(await c.command('STATUS', 'nope')).to.equal(null);
      expect(fields(await c.command('HELLO')).proto).to.equal(2);
    });

    it('QUIT in a pipeline: the requests after it are not run', async () => {
      const c = await raw();
      c.write('ECHO one\r\nQUIT\r\nENQUEUE never-run x\r\n');
      expect(await c.nextN(2)).to.deep.equal(['one', 'OK']);
      await c.waitClosed();
      expect(await cmd(r, 'QLEN', 'never-run')).to.equal(0);
    });

    it('CLIENT KILL ID of the caller itself replies, then closes', async () => {
      const c = await raw();
      const id = (await c.command('CLIENT', 'ID')) as number;
      expect(await c.command('CLIENT', 'KILL', 'ID', String(id))).to.equal(1);
      await c.waitClosed();
    });

    it('SELECT 0 is OK; any other database is an error', async () => {
      expect(await cmd(r, 'SELECT', '0')).to.equal('OK');
      await expectError(cmd(r, 'SELECT', '1'), 'ERR');
      await expectError(cmd(r, 'SELECT', 'x'), 'ERR');
      await expectError(cmd(r, 'SELECT', '-1'), 'ERR');
      // ioredis with db: 0 works
      const c = clients.make({ db: 0 });
      expect(await c.ping()).to.equal('PONG');
    });

    it('CLIENT SETNAME / GETNAME / ID / INFO / LIST / SETINFO', async () => {
      const c = await raw();
      expect(await c.command('CLIENT', 'GETNAME')).to.equal(null);
      expect(await c.command('CLIENT', 'SETNAME', 'my-conn')).to.equal('OK');
      expect(await c.command('CLIENT', 'GETNAME')).to.equal('my-conn');
      expect(((await c.command('CLIENT', 'SETNAME', 'has space')) as RespError).code).to.equal('ERR');
      const id = (await c.command('CLIENT', 'ID')) as number;
      expect(id).to.be.a('number').greaterThan(0);
      expect(fields(await c.command('HELLO')).id).to.equal(id);
      expect(await c.command('CLIENT', 'SETINFO', 'LIB-NAME', 'rawlib')).to.equal('OK');
      expect(await c.command('CLIENT', 'SETINFO', 'lib-ver', '1.2.3')).to.equal('OK');
      expect(((await c.command('CLIENT', 'SETINFO', 'COLOR', 'red')) as RespError).code).to.equal('ERR');
      const info = (await c.command('CLIENT', 'INFO')) as string;
      expect(info).to.match(new RegExp(`^id=${id} addr=127\\.0\\.0\\.1:\\d+ `));
      expect(info).to.include('name=my-conn');
      expect(info).to.include('lib-name=rawlib');
      expect(info).to.include('lib-ver=1.2.3');
      const list = (await cmd(r, 'CLIENT', 'LIST')) as string;
      const lines = list.trim().split('\n');
      expect(lines.length).to.be.at.least(2);
      expect(lines.some((l) => l.startsWith(`id=${id} `) && l.includes('name=my-conn'))).to.equal(true);
      for (const l of lines) expect(l).to.match(/^id=\d+ addr=\S+ /);
      expect(((await c.command('CLIENT', 'NOSUCH')) as RespError).message).to.match(/^ERR unknown subcommand/);
      expect(await c.command('CLIENT', 'SETNAME', '')).to.equal('OK');
      expect(await c.command('CLIENT', 'GETNAME')).to.equal(null);
    });

    it('CLIENT KILL ID / ADDR / legacy addr close the other connection; unknown ID kills 0', async () => {
      const victims = [await raw(), await raw(), await raw()];
      const ids = (await Promise.all(victims.map((v) => v.command('CLIENT', 'ID')))) as number[];
      const addrOf = async (v: RawClient) => /addr=(\S+)/.exec((await v.command('CLIENT', 'INFO')) as string)![1];
      const addr1 = await addrOf(victims[1]);
      const addr2 = await addrOf(victims[2]);
      expect(await cmd(r, 'CLIENT', 'KILL', 'ID', ids[0])).to.equal(1);
      await victims[0].waitClosed();
      expect(await cmd(r, 'CLIENT', 'KILL', 'ADDR', addr1)).to.equal(1);
      await victims[1].waitClosed();
      expect(await cmd(r, 'CLIENT', 'KILL', addr2)).to.equal('OK');
      await victims[2].waitClosed();
      expect(await cmd(r, 'CLIENT', 'KILL', 'ID', 999999)).to.equal(0);
      await expectError(cmd(r, 'CLIENT', 'KILL', '1.2.3.4:5'), 'ERR');
      expect(await cmd(r, 'PING')).to.equal('PONG');
      const list = (await cmd(r, 'CLIENT', 'LIST')) as string;
      for (const id of ids) expect(list).to.not.match(new RegExp(`^id=${id} `, 'm'));
    });

    it('CLIENT KILL of a blocked claimer withdraws its claim', async () => {
      const q = newQueue('kill');
      const v = await raw();
      const vid = await v.command('CLIENT', 'ID');
      v.write('CLAIM ' + q + ' BLOCK 0\r\n');
      await waitFor(async () => /blocked_claims:1\r?\n/.test((await cmd(r, 'INFO', 'clients')) as string), 'claimer parked');
      expect(await cmd(r, 'CLIENT', 'KILL', 'ID', vid as number)).to.equal(1);
      await v.waitClosed();
      const id = (await cmd(r, 'ENQUEUE', q, 'x')) as string;
      expect(fields(await cmd(r, 'STATUS', id)).state).to.equal('ready');
    });
  });

  describe('server commands', () => {
    it('COMMAND, COMMAND COUNT, COMMAND LIST, COMMAND INFO, COMMAND DOCS', async () => {
      const all = (await cmd(r, 'COMMAND')) as unknown[][];
      expect(await cmd(r, 'COMMAND', 'COUNT')).to.equal(all.length);
      const byName = new Map(all.map((e) => [e[0] as string, e]));
      for (const name of [
        'enqueue',
        'claim',
        'ack',
        'nack',
        'touch',
        'status',
        'cancel',
        'waitjob',
        'queues',
        'qstats',
        'qlen',
        'peek',
        'pause',
        'resume',
        'dlq',
        'requeue',
        'purge',
        'qconfig',
        'ping',
        'hello',
        'client',
        'info',
        'config',
        'dbsize',
      ]) {
        expect(byName.has(name), `COMMAND lists ${name}`).to.equal(true);
      }
      expect(byName.get('enqueue')![1]).to.equal(-3);
      expect(byName.get('cancel')![1]).to.equal(2);
      expect(byName.get('enqueue')![2]).to.include('write');
      expect(byName.get('client')![9]).to.be.an('array').with.length.above(0);
      const list = (await cmd(r, 'COMMAND', 'LIST')) as string[];
      expect(list).to.have.length(all.length);
      const info = (await cmd(r, 'COMMAND', 'INFO', 'claim', 'nosuchcmd', 'ENQUEUE')) as unknown[];
      expect(info).to.have.length(3);
      expect((info[0] as unknown[])[0]).to.equal('claim');
      expect(info[1]).to.equal(null);
      expect((info[2] as unknown[])[0]).to.equal('enqueue');
      const docs = fields(await cmd(r, 'COMMAND', 'DOCS'));
      expect(Object.keys(docs)).to.include.members(['enqueue', 'claim', 'ack']);
      const enqueueDocs = fields(fields(await cmd(r, 'COMMAND', 'DOCS', 'enqueue')).enqueue);
      expect(enqueueDocs.summary).to.be.a('string').with.length.above(0);
      expect(enqueueDocs.syntax).to.match(/PRIORITY/);
      await expectError(cmd(r, 'COMMAND', 'NOPE'), 'ERR');
    });

    it('HELP on every command with subcommands lists them, as Redis does; an unknown subcommand points to it', async () => {
      for (const [cmdName, sub] of [
        ['CLIENT', 'REQUEUE-ON-CLOSE'],
        ['CONFIG', 'REWRITE'],
        ['CRON', 'SET'],
        ['SLOWLOG', 'RESET'],
        ['ACL', 'SETUSER'],
        ['COMMAND', 'DOCS'],
      ]) {
        const lines = (await cmd(r, cmdName, 'HELP')) as string[];
        expect(lines[0], cmdName).to.match(new RegExp(`^${cmdName} <subcommand>`));
        expect(
          lines.some((l) => l.startsWith(sub)),
          `${cmdName} HELP names ${sub}`,
        ).to.equal(true);
        await expectError(cmd(r, cmdName, 'NOSUCH'), 'ERR', new RegExp(`Try ${cmdName} HELP\\.`));
      }
    });

    it('INFO sections: server, clients, memory, persistence, stats, queues, commandstats', async () => {
      const q = newQueue('info');
      await cmd(r, 'ENQUEUE', q, 'x');
      const expectations: Record<string, RegExp[]> = {
        server: [/^# Server\r\n/, /\r\nredis_version:\d+\.\d+\.\d+\r\n/, new RegExp(`\\r\\ntcp_port:${broker.port}\\r\\n`), /\r\nuptime_in_seconds:\d+\r\n/],
        clients: [/^# Clients\r\n/, /connected_clients:\d+\r\n/, /blocked_clients:\d+\r\n/],
        memory: [/^# Memory\r\n/, /used_memory:\d+\r\n/, /used_memory_rss:\d+\r\n/],
        persistence: [/^# Persistence\r\n/, /loading:0\r\n/],
        stats: [/^# Stats\r\n/, /total_connections_received:\d+\r\n/, /total_commands_processed:\d+\r\n/, /total_jobs_enqueued:\d+\r\n/],
        queues: [/^# Queues\r\n/, /queues:\d+\r\n/, new RegExp(`queue_${q}:ready=1,`)],
        commandstats: [/^# Commandstats\r\n/, /cmdstat_enqueue:calls=\d+,usec=\d+/],
      };
      for (const [section, res] of Object.entries(expectations)) {
        const text = (await cmd(r, 'INFO', section)) as string;
        for (const re of res) expect(text, `INFO ${section}`).to.match(re);
        // one section only
        expect(text.match(/^# /gm), `INFO ${section} headers`).to.have.length(1);
      }
      const def = (await cmd(r, 'INFO')) as string;
      for (const title of ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Queues']) expect(def).to.include(`# ${title}\r\n`);
      expect(def).to.not.include('# Commandstats');
      expect((await cmd(r, 'INFO', 'all')) as string).to.include('# Commandstats');
      const two = (await cmd(r, 'INFO', 'SERVER', 'clients')) as string;
      expect(two.match(/^# /gm)).to.have.length(2);
      expect(await cmd(r, 'INFO', 'nosuchsection')).to.equal('');
    });

    it('DBSIZE counts the jobs stored', async () => {
      const before = (await cmd(r, 'DBSIZE')) as number;
      const q = newQueue('dbsize');
      for (let i = 0; i < 3; i++) await cmd(r, 'ENQUEUE', q, 'x');
      expect(await cmd(r, 'DBSIZE')).to.equal(before + 3);
      await cmd(r, 'PURGE', q, 'WAITING');
      expect(await cmd(r, 'DBSIZE')).to.equal(before);
    });

    it('CONFIG GET / SET: runtime round trip with effect; unknown and non-runtime settings refused', async () => {
      expect(await cmd(r, 'CONFIG', 'GET', 'default-lease')).to.deep.equal(['default-lease', '30000']);
      const several = fields(await cmd(r, 'CONFIG', 'GET', 'default-*'));
      expect(Object.keys(several)).to.include.members(['default-lease', 'default-retries', 'default-backoff', 'default-maxlen']);
      expect(await cmd(r, 'CONFIG', 'GET', 'no-such-setting')).to.deep.equal([]);
      expect(await cmd(r, 'CONFIG', 'SET', 'default-lease', '1234', 'default-retries', '9')).to.equal('OK');
      try {
        expect(await cmd(r, 'CONFIG', 'GET', 'default-lease')).to.deep.equal(['default-lease', '1234']);
        const id = (await cmd(r, 'ENQUEUE', newQueue('cfg'), 'x')) as string;
        expect(fields(await cmd(r, 'STATUS', id))).to.include({ lease: 1234, retries: 9 });
        // atomic: a bad pair changes nothing
        await expectError(cmd(r, 'CONFIG', 'SET', 'default-retries', '1', 'no-such-setting', '1'), 'ERR', /no-such-setting/);
        expect(await cmd(r, 'CONFIG', 'GET', 'default-retries')).to.deep.equal(['default-retries', '9']);
        await expectError(cmd(r, 'CONFIG', 'SET', 'dir', '/tmp'), 'ERR', /runtime/);
        await expectError(cmd(r, 'CONFIG', 'SET', 'port', '1'), 'ERR');
        await expectError(cmd(r, 'CONFIG', 'SET', 'default-lease', 'abc'), 'ERR');
        await expectError(cmd(r, 'CONFIG', 'SET', 'default-lease', '0'), 'ERR');
        await expectError(cmd(r, 'CONFIG', 'SET', 'default-lease'), 'ERR');
        await expectError(cmd(r, 'CONFIG', 'SET', 'priority-weights', '1,2'), 'ERR');
        await expectError(cmd(r, 'CONFIG', 'NOPE'), 'ERR');
      } finally {
        await cmd(r, 'CONFIG', 'SET', 'default-lease', '30000', 'default-retries', '3');
      }
      expect(await cmd(r, 'CONFIG', 'GET', 'dir')).to.deep.equal(['dir', broker.dir]);
      expect(await cmd(r, 'CONFIG', 'RESETSTAT')).to.equal('OK');
    });

    it('CONFIG GET never shows the password', async () => {
      const all = fields(await cmd(r, 'CONFIG', 'GET', '*'));
      expect(Object.keys(all)).to.include('default-lease');
      expect(Object.keys(all)).to.not.include('requirepass');
      expect(await cmd(r, 'CONFIG', 'GET', 'requirepass')).to.deep.equal([]);
    });

    it('TIME and LASTSAVE answer in Redis form', async () => {
      const [sec, usec] = (await cmd(r, 'TIME')) as string[];
      expect(Math.abs(Number(sec) - Date.now() / 1000)).to.be.below(5);
      expect(Number(usec)).to.be.within(0, 999_999);
      expect(await cmd(r, 'LASTSAVE')).to.be.a('number');
    });
  });

  describe('bad commands keep the connection usable', () => {
    it("unknown command: -ERR unknown command 'X', with args beginning with ...", async () => {
      const msg = await expectError(cmd(r, 'FLURB', 'a', 'b'), 'ERR');
      expect(msg).to.match(/^ERR unknown command 'FLURB', with args beginning with: 'a' 'b'/);
      const c = await raw();
      c.write('NOSUCH\r\n*1\r\n$3\r\nSET\r\nPING\r\n');
      expect(((await c.next()) as RespError).message).to.match(/^ERR unknown command 'NOSUCH'/);
      expect(((await c.next()) as RespError).message).to.match(/^ERR unknown command 'SET'/);
      expect(await c.next()).to.equal('PONG');
      expect(await cmd(r, 'PING')).to.equal('PONG');
    });

    it('wrong arity for each kind of command', async () => {
      for (const args of [
        ['ENQUEUE', 'q'],
        ['CLAIM'],
        ['ACK'],
        ['CANCEL', 'a', 'b'],
        ['QLEN'],
        ['QLEN', 'a', 'b'],
        ['PURGE', 'q'],
        ['QUEUES', 'x'],
        ['DBSIZE', 'x'],
        ['ECHO'],
      ]) {
        const msg = await expectError(cmd(r, args[0], ...args.slice(1)), 'ERR', /wrong number of arguments/);
        expect(msg).to.include(`'${args[0].toLowerCase()}'`);
      }
      expect(await cmd(r, 'PING')).to.equal('PONG');
    });

    it('bad numbers (12abc, -1, 1.5, 99999999999999999999, empty) are -ERR, never a dropped connection', async () => {
      const q = newQueue('bad');
      const id = (await cmd(r, 'ENQUEUE', q, 'x')) as string;
      const bad = ['12abc', '-1', '1.5', '99999999999999999999', '', ' 1', '0x10', '1e3'];
      const forms: Array<(n: string) => Array<string | number>> = [
        (n) => ['ENQUEUE', q, 'p', 'DELAY', n],
        (n) => ['ENQUEUE', q, 'p', 'AT', n],
        (n) => ['ENQUEUE', q, 'p', 'RETRIES', n],
        (n) => ['ENQUEUE', q, 'p', 'BACKOFF', n],
        (n) => ['ENQUEUE', q, 'p', 'BACKOFF', '10', 'MAX', n],
        (n) => ['ENQUEUE', q, 'p', 'LEASE', n],
        (n) => ['ENQUEUE', q, 'p', 'TTL', n],
        (n) => ['ENQUEUE', q, 'p', 'BLOCK', n],
        (n) => ['CLAIM', q, 'COUNT', n],
        (n) => ['CLAIM', q, 'BLOCK', n],
        (n) => ['CLAIM', q, 'LEASE', n],
        (n) => ['ACK', id, 'DELIVERY', n],
        (n) => ['NACK', id, 'DELAY', n],
        (n) => ['TOUCH', id, 'LEASE', n],
        (n) => ['WAITJOB', id, 'BLOCK', n],
        (n) => ['PEEK', q, 'COUNT', n],
        (n) => ['DLQ', q, 'COUNT', n],
        (n) => ['QCONFIG', q, 'MAXLEN', n],
      ];
      for (const form of forms) {
        for (const n of bad) {
          const args = form(n);
          await expectError(cmd(r, ...args), 'ERR', undefined).catch((e: Error) => {
            throw new Error(`${JSON.stringify(args)}: ${e.message}`);
          });
        }
      }
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
      expect(fields(await cmd(r, 'STATUS', id)).state).to.equal('ready');
      expect(await cmd(r, 'PING')).to.equal('PONG');
    });

    it('unknown options and missing option values are -ERR', async () => {
      const q = newQueue('opts');
      const id = (await cmd(r, 'ENQUEUE', q, 'x')) as string;
      for (const args of [
        ['ENQUEUE', q, 'p', 'FAST'],
        ['ENQUEUE', q, 'p', 'PRIORITY'],
        ['ENQUEUE', q, 'p', 'PRIORITY', 'top'],
        ['CLAIM', q, 'WAIT', '1'],
        ['CLAIM', q, 'COUNT'],
        ['ACK', id, 'RESULTS', 'x'],
        ['ACK', id, 'RESULT'],
        ['NACK', id, 'RETRY'],
        ['NACK', id, 'ERROR'],
        ['TOUCH', id, 'FOREVER'],
        ['STATUS', id, 'ALL'],
        ['WAITJOB', id, 'TIMEOUT', '1'],
        ['PEEK', q, 'ALL'],
        ['DLQ', q, 'COUNT'],
        ['REQUEUE', q, 'EVERYTHING'],
        ['QCONFIG', q, 'MAXLEN', '1', 'PAUSED', '1'],
      ]) {
        await expectError(cmd(r, args[0], ...args.slice(1)), 'ERR').catch((e: Error) => {
          throw new Error(`${JSON.stringify(args)}: ${e.message}`);
        });
      }
      expect(await cmd(r, 'QLEN', q)).to.equal(1);
      expect(await cmd(r, 'PING')).to.equal('PONG');
    });

    it('command names and option keywords are case-insensitive', async () => {
      const q = newQueue('case');
      const id = (await cmd(r, 'eNqUeUe', q, 'x', 'priority', 'HIGH', 'Retries', '2')) as string;
      expect(fields(await cmd(r, 'status', id))).to.include({ priority: 'high', retries: 2 });
      expect(await cmd(r, 'claim', q, 'count', '1')).to.have.length(1);
    });
  });
});

describe('server: requirepass', function () {
  this.timeout(10000);
  let broker: BrokerProcess;
  const raws: RawClient[] = [];
  const clients = new Clients(() => broker.port);
  const raw = async () => {
    const c = await RawClient.connect(broker.port);
    raws.push(c);
    return c;
  };

  before(async () => {
    broker = await startBroker({ requirepass: 's3cret' });
  });
  after(async () => {
    clients.closeAll();
    for (const c of raws) c.close();
    await broker?.cleanup();
  });

  it('-NOAUTH before AUTH for every command but AUTH, HELLO and QUIT', async () => {
    const c = await raw();
    for (const args of [['PING'], ['ENQUEUE', 'q', 'x'], ['CLAIM', 'q'], ['INFO'], ['CLIENT', 'ID'], ['COMMAND', 'COUNT'], ['CONFIG', 'GET', '*']]) {
      const reply = (await c.command(...args)) as RespError;
      expect(reply, args.join(' ')).to.be.instanceOf(RespError);
      expect(reply.code).to.equal('NOAUTH');
    }
    // an unknown command is still "unknown"
    expect(((await c.command('NOSUCH')) as RespError).message).to.match(/^ERR unknown command/);
    const hello = (await c.command('HELLO', '3')) as RespError;
    expect(hello.code).to.equal('NOAUTH');
    expect(await c.command('QUIT')).to.equal('OK');
    await c.waitClosed();
  });

  it('AUTH with a wrong password is -WRONGPASS; the right one (with or without user default) works', async () => {
    const c = await raw();
    expect(((await c.command('AUTH', 'wrong')) as RespError).code).to.equal('WRONGPASS');
    expect(((await c.command('AUTH', 'default', 'wrong')) as RespError).code).to.equal('WRONGPASS');
    expect(((await c.command('AUTH', 'admin', 's3cret')) as RespError).code).to.equal('WRONGPASS');
    expect(((await c.command('PING')) as RespError).code).to.equal('NOAUTH');
    expect(await c.command('AUTH', 's3cret')).to.equal('OK');
    expect(await c.command('PING')).to.equal('PONG');
    const c2 = await raw();
    expect(await c2.command('AUTH', 'default', 's3cret')).to.equal('OK');
    expect(await c2.command('ENQUEUE', 'authq', 'x')).to.be.a('string');
  });

  it('HELLO 3 AUTH default <pass> authenticates and switches protocol at once', async () => {
    const c = await raw();
    expect(((await c.command('HELLO', '3', 'AUTH', 'default', 'nope')) as RespError).code).to.equal('WRONGPASS');
    const h = (await c.command('HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'authed')) as RespMap;
    expect(h).to.be.instanceOf(RespMap);
    expect(h.get('proto')).to.equal(3);
    expect(await c.command('CLIENT', 'GETNAME')).to.equal('authed');
    expect(await c.command('STATUS', 'none')).to.equal(null);
  });

  it('ioredis v5 (AUTH) and v6 (HELLO 3 AUTH) connect with the password', async () => {
    const a = clients.make({ password: 's3cret' });
    expect(await a.ping()).to.equal('PONG');
    const b = new Redis6({ port: broker.port, host: '127.0.0.1', password: 's3cret', maxRetriesPerRequest: 0, retryStrategy: () => null });
    b.on('error', () => {});
    try {
      expect(await b.ping()).to.equal('PONG');
      expect(String(await b.call('CLIENT', 'INFO'))).to.match(/ resp=3\b/);
    } finally {
      b.disconnect();
    }
  });

  it('before AUTH: more than 10 arguments is a protocol error and the connection is closed', async () => {
    const c = await raw();
    const args = ['ENQUEUE', 'q', 'x', 'PRIORITY', 'high', 'RETRIES', '1', 'LEASE', '1000', 'TTL', '5000'];
    c.write(`*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join(''));
    const err = (await c.next()) as RespError;
    expect(err.message).to.match(/^ERR Protocol error: /);
    await c.waitClosed();
    // inline too
    const c2 = await raw();
    c2.write('a b c d e f g h i j k\r\n');
    expect(((await c2.next()) as RespError).message).to.match(/^ERR Protocol error: /);
    await c2.waitClosed();
    // after AUTH the same request is fine
    const c3 = await raw();
    expect(await c3.command('AUTH', 's3cret')).to.equal('OK');
    expect(await c3.command(...args)).to.be.a('string');
  });

  it('before AUTH: a bulk over 16 KB is a protocol error and the connection is closed; after AUTH it is accepted', async () => {
    const c = await raw();
    c.write(`*2\r\n$4\r\nAUTH\r\n$${17 * 1024}\r\n`);
    const err = (await c.next()) as RespError;
    expect(err.message).to.match(/^ERR Protocol error: /);
    await c.waitClosed();
    const c2 = await raw();
    expect(await c2.command('AUTH', 's3cret')).to.equal('OK');
    const big = 'y'.repeat(20 * 1024);
    const id = (await c2.command('ENQUEUE', 'bigq', big)) as string;
    const s = fields(await c2.command('STATUS', id, 'WITHPAYLOAD'));
    expect(s.payload).to.equal(big);
    // the server is still serving everybody
    const c3 = await raw();
    expect(await c3.command('AUTH', 's3cret')).to.equal('OK');
    expect(await c3.command('PING')).to.equal('PONG');
  });
});
