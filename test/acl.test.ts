/** Users and permissions (Redis ACL model) against real broker processes: RESP (ioredis, redis-cli), the aclfile, HTTP. */
import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Redis, { RedisOptions } from 'ioredis';
import Redis6 from 'ioredis6';
import { BrokerProcess, startBroker } from './helpers/broker';
import { Clients, cmd, expectError, fields, waitFor, skipWithoutRedisCli } from './helpers/util';

/** a limited user has no INFO: skip ioredis's INFO ready check (it would only warn) */
const AS = (username: string, password: string): RedisOptions => ({ username, password, enableReadyCheck: false });

/** resolves once ioredis has seen the broker close the connection */
const closedByBroker = (r: Redis) => waitFor(() => r.status === 'end' || r.status === 'close', 'the broker closes the connection', 3000);

describe('ACL over RESP (ioredis)', function () {
  this.timeout(20000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  let admin: Redis;

  before(async () => {
    broker = await startBroker();
    admin = clients.make();
    await cmd(admin, 'ACL', 'SETUSER', 'producer', 'on', '>p-pass', '+@produce', '~emails');
    await cmd(admin, 'ACL', 'SETUSER', 'worker', 'on', '>w-pass', '+@consume', '~emails', '~sms:*');
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('with no password the default user is nopass with every command and queue: connections need no AUTH', async () => {
    expect(await cmd(admin, 'ACL', 'WHOAMI')).to.equal('default');
    expect(await cmd(admin, 'ACL', 'USERS')).to.deep.equal(['default', 'producer', 'worker']);
    const list = (await cmd(admin, 'ACL', 'LIST')) as string[];
    expect(list[0]).to.equal('user default on nopass ~* +@all');
    expect(list[1]).to.match(/^user producer on #[0-9a-f]{64} ~emails -@all \+@produce$/);
    const u = fields(await cmd(admin, 'ACL', 'GETUSER', 'worker'));
    expect(u.flags).to.deep.equal(['on']);
    expect(u.passwords).to.have.length(1);
    expect(u.commands).to.equal('-@all +@consume');
    expect(u.keys).to.equal('~emails ~sms:*');
    expect(await cmd(admin, 'ACL', 'GETUSER', 'nobody')).to.equal(null);
  });

  it('a producer may ENQUEUE to its queues only and may not CLAIM; NOPERM names the queue or the command', async () => {
    const p = clients.make(AS('producer', 'p-pass'));
    expect(await cmd(p, 'ACL', 'WHOAMI').catch((e: Error) => e.message)).to.match(/^NOPERM User producer has no permissions to run the 'acl\|whoami' command$/);
    const id = await cmd(p, 'ENQUEUE', 'emails', 'hi');
    expect(id).to.be.a('string');
    expect(await cmd(p, 'STATUS', id as string)).to.be.an('array');
    expect(await cmd(p, 'QLEN', 'emails')).to.be.a('number');
    await expectError(cmd(p, 'ENQUEUE', 'other', 'x'), 'NOPERM', /^NOPERM User producer has no permissions to access the 'other' queue$/);
    await expectError(cmd(p, 'CLAIM', 'emails'), 'NOPERM', /^NOPERM User producer has no permissions to run the 'claim' command$/);
    await expectError(cmd(p, 'PURGE', 'emails', 'ALL'), 'NOPERM', /'purge' command/);
    await expectError(cmd(p, 'CONFIG', 'SET', 'requirepass', 'x'), 'NOPERM', /'config\|set' command/);
    await expectError(cmd(p, 'SHUTDOWN'), 'NOPERM');
    expect(await cmd(admin, 'QLEN', 'other')).to.equal(0);
    // AUTH, HELLO, QUIT, RESET are for everyone, as in Redis
    expect(await cmd(p, 'AUTH', 'producer', 'p-pass')).to.equal('OK');
  });

  it('a job id is checked through its queue: a worker cannot ACK, STATUS or TOUCH a job of another queue', async () => {
    const w = clients.make(AS('worker', 'w-pass'));
    const mine = (await cmd(admin, 'ENQUEUE', 'sms:eu', 'x')) as string;
    const other = (await cmd(admin, 'ENQUEUE', 'payments', 'x')) as string;
    const [claimed] = (await cmd(admin, 'CLAIM', 'payments')) as string[][];
    expect(claimed[0]).to.equal(other);
    await expectError(cmd(w, 'ACK', other), 'NOPERM', /access the 'payments' queue/);
    await expectError(cmd(w, 'STATUS', other), 'NOPERM', /'payments' queue/);
    await expectError(cmd(w, 'TOUCH', other), 'NOPERM');
    await expectError(cmd(w, 'CLAIM', 'payments'), 'NOPERM');
    expect(fields(await cmd(admin, 'STATUS', other)).state).to.equal('active'); // untouched
    const [job] = (await cmd(w, 'CLAIM', 'sms:eu')) as string[][];
    expect(job[0]).to.equal(mine);
    expect(await cmd(w, 'ACK', mine)).to.equal(1);
    // an unknown id passes the gate: the command itself answers
    await expectError(cmd(w, 'ACK', 'no-such-job'), 'NOJOB');
    await expectError(cmd(w, 'ENQUEUE', 'sms:eu', 'x'), 'NOPERM', /'enqueue' command/);
  });

  it('REQUEUE queue ALL is checked as a queue, REQUEUE id through the job', async () => {
    await cmd(admin, 'ACL', 'SETUSER', 'ops', 'on', 'nopass', '+requeue', '~emails');
    const ops = clients.make(AS('ops', 'any'));
    expect(await cmd(ops, 'REQUEUE', 'emails', 'ALL')).to.equal(0);
    await expectError(cmd(ops, 'REQUEUE', 'payments', 'ALL'), 'NOPERM', /'payments' queue/);
    const id = (await cmd(admin, 'ENQUEUE', 'payments', 'x')) as string;
    await expectError(cmd(ops, 'REQUEUE', id), 'NOPERM', /'payments' queue/);
  });

  it('every denial is in ACL LOG, like Redis: count, reason, context, object, username, age-seconds, client-info', async () => {
    await cmd(admin, 'ACL', 'LOG', 'RESET');
    const p = clients.make(AS('producer', 'p-pass'));
    await cmd(p, 'CLIENT', 'SETNAME', 'prod-1');
    await expectError(cmd(p, 'CLAIM', 'emails'), 'NOPERM');
    await expectError(cmd(p, 'CLAIM', 'emails'), 'NOPERM');
    await expectError(cmd(p, 'ENQUEUE', 'secret', 'x'), 'NOPERM');
    await expectError(cmd(clients.make({ enableReadyCheck: false }), 'AUTH', 'producer', 'wrong'), 'WRONGPASS');
    const log = ((await cmd(admin, 'ACL', 'LOG')) as unknown[]).map(fields);
    expect(log.map((e) => [e.reason, e.object, e.username, e.count, e.context])).to.deep.equal([
      ['auth', 'AUTH', 'producer', 1, 'toplevel'],
      ['key', 'secret', 'producer', 1, 'toplevel'],
      ['command', 'claim', 'producer', 2, 'toplevel'],
    ]);
    expect(String(log[1]['client-info'])).to.match(/ name=prod-1 .* user=producer /);
    expect(Number(log[1]['age-seconds'])).to.be.within(0, 5);
    expect(await cmd(admin, 'ACL', 'LOG', '1')).to.have.length(1);
    await cmd(admin, 'CONFIG', 'SET', 'acllog-max-len', '2');
    expect(await cmd(admin, 'ACL', 'LOG')).to.have.length(2);
    await cmd(admin, 'CONFIG', 'SET', 'acllog-max-len', '128');
    await expectError(cmd(admin, 'ACL', 'LOG', 'many'), 'ERR');
  });

  it('CLIENT LIST shows each connection user; HELLO 3 AUTH user pass works (ioredis v6)', async () => {
    const v6 = new Redis6({ port: broker.port, host: '127.0.0.1', username: 'worker', password: 'w-pass', enableReadyCheck: false, retryStrategy: () => null });
    v6.on('error', () => {});
    try {
      expect(await v6.call('ACK', 'nope').catch((e: Error) => e.message)).to.match(/^NOJOB/);
      const list = String(await cmd(admin, 'CLIENT', 'LIST'));
      expect(list).to.match(/ user=worker .* resp=3/);
      expect(list).to.match(/ user=default /);
    } finally {
      v6.disconnect();
    }
  });

  it('ACL SETUSER is all or nothing: a bad rule changes nothing, the error names the rule', async () => {
    const before = await cmd(admin, 'ACL', 'GETUSER', 'producer');
    await expectError(cmd(admin, 'ACL', 'SETUSER', 'producer', '~more', '+nosuchcommand'), 'ERR', /modifier '\+nosuchcommand': Unknown command/);
    await expectError(cmd(admin, 'ACL', 'SETUSER', 'producer', '+@nope'), 'ERR', /Unknown category 'nope'/);
    await expectError(cmd(admin, 'ACL', 'SETUSER', 'bad name!', 'on'), 'ERR');
    await expectError(cmd(admin, 'ACL', 'SETUSER', 'has space', 'on'), 'ERR', /without spaces/);
    expect(await cmd(admin, 'ACL', 'GETUSER', 'producer')).to.deep.equal(before);
    await expectError(cmd(admin, 'ACL', 'DELUSER', 'default'), 'ERR', /'default' user cannot be removed/);
  });

  it('ACL DELUSER and ACL SETUSER off close the connections of that user; AUTH then fails', async () => {
    await cmd(admin, 'ACL', 'SETUSER', 'temp', 'on', '>t', '+@all', '~*');
    await cmd(admin, 'ACL', 'SETUSER', 'temp2', 'on', '>t', '+@all', '~*');
    const t = clients.make(AS('temp', 't'));
    const t2 = clients.make(AS('temp2', 't'));
    const bystander = clients.make(AS('worker', 'w-pass'));
    expect(await cmd(t, 'PING')).to.equal('PONG');
    expect(await cmd(t2, 'PING')).to.equal('PONG');
    expect(await cmd(bystander, 'PING')).to.equal('PONG');
    expect(await cmd(admin, 'ACL', 'DELUSER', 'temp', 'nobody')).to.equal(1);
    await closedByBroker(t);
    await cmd(admin, 'ACL', 'SETUSER', 'temp2', 'off');
    await closedByBroker(t2);
    expect(await cmd(bystander, 'PING')).to.equal('PONG');
    const again = clients.make({ enableReadyCheck: false });
    await expectError(cmd(again, 'AUTH', 'temp', 't'), 'WRONGPASS');
    await expectError(cmd(again, 'AUTH', 'temp2', 't'), 'WRONGPASS');
    // a user deleting itself gets its reply first
    await cmd(admin, 'ACL', 'SETUSER', 'temp3', 'on', '>t', '+@all', '~*');
    const self = clients.make(AS('temp3', 't'));
    expect(await cmd(self, 'ACL', 'DELUSER', 'temp3')).to.equal(1);
    await closedByBroker(self);
  });

  it('COMMAND INFO lists each command ACL categories; ACL CAT lists categories and their commands', async () => {
    const [info] = (await cmd(admin, 'COMMAND', 'INFO', 'enqueue')) as unknown[][];
    expect(info[6]).to.have.members(['@write', '@blocking', '@slow', '@jobs', '@produce']);
    const cats = (await cmd(admin, 'ACL', 'CAT')) as string[];
    for (const c of ['read', 'write', 'admin', 'jobs', 'queues', 'produce', 'consume', 'connection', 'dangerous', 'fast', 'slow', 'blocking', 'cron']) {
      expect(cats).to.include(c);
    }
    expect(await cmd(admin, 'ACL', 'CAT', 'consume')).to.include.members(['claim', 'ack', 'nack', 'touch', 'status']);
    expect(await cmd(admin, 'ACL', 'CAT', 'dangerous')).to.include.members(['purge', 'qdel', 'shutdown', 'config|set', 'acl|setuser']);
    await expectError(cmd(admin, 'ACL', 'CAT', 'nope'), 'ERR', /Unknown category/);
    expect(((await cmd(admin, 'ACL', 'HELP')) as string[])[0]).to.match(/^ACL <subcommand>/);
  });

  it('passwords given in ACL SETUSER are redacted in SLOWLOG', async () => {
    await cmd(admin, 'CONFIG', 'SET', 'slowlog-slower-than', '0');
    await cmd(admin, 'ACL', 'SETUSER', 'redact-me', '>hunter2', '#' + 'a'.repeat(64));
    await cmd(admin, 'CONFIG', 'SET', 'slowlog-slower-than', '10000');
    const entries = (await cmd(admin, 'SLOWLOG', 'GET', '-1')) as unknown[][];
    const e = entries.find((x) => (x[3] as string[])[2] === 'redact-me')!;
    expect(e[3]).to.deep.equal(['ACL', 'SETUSER', 'redact-me', '(redacted)', '#' + 'a'.repeat(64)]);
  });
});

describe('ACL: requirepass is the default user password', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);

  before(async () => {
    broker = await startBroker({ requirepass: 'adminpw' });
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('AUTH pass and AUTH default pass; other users alongside; CONFIG SET requirepass "" makes default nopass', async () => {
    const admin = clients.make({ password: 'adminpw' });
    const u = fields(await cmd(admin, 'ACL', 'GETUSER', 'default'));
    expect(u.flags).to.deep.equal(['on', 'allkeys', 'allcommands']);
    expect(u.passwords).to.have.length(1);
    await cmd(admin, 'ACL', 'SETUSER', 'w', 'on', '>wp', '+@consume', '~q');
    const anon = clients.make({ enableReadyCheck: false });
    await expectError(cmd(anon, 'CLAIM', 'q'), 'NOAUTH');
    expect(await cmd(anon, 'AUTH', 'w', 'wp')).to.equal('OK');
    expect(await cmd(anon, 'CLAIM', 'q')).to.deep.equal([]);
    expect(await cmd(anon, 'AUTH', 'default', 'adminpw')).to.equal('OK');
    expect(await cmd(anon, 'ACL', 'WHOAMI')).to.equal('default');
    await cmd(admin, 'CONFIG', 'SET', 'requirepass', '');
    try {
      expect(fields(await cmd(admin, 'ACL', 'GETUSER', 'default')).flags).to.include('nopass');
      expect(await cmd(clients.make({ enableReadyCheck: false }), 'QLEN', 'q')).to.equal(0);
    } finally {
      await cmd(admin, 'CONFIG', 'SET', 'requirepass', 'adminpw');
    }
  });

  it('ACL SETUSER default off: nobody acts as default any more', async () => {
    const admin = clients.make({ password: 'adminpw' });
    await cmd(admin, 'ACL', 'SETUSER', 'root', 'on', '>rootpw', '+@all', '~*');
    const root = clients.make(AS('root', 'rootpw'));
    await cmd(root, 'ACL', 'SETUSER', 'default', 'off');
    await closedByBroker(admin);
    try {
      await expectError(cmd(clients.make({ enableReadyCheck: false }), 'AUTH', 'adminpw'), 'WRONGPASS');
    } finally {
      await cmd(root, 'ACL', 'SETUSER', 'default', 'on');
    }
  });
});

describe('ACL with redis-cli', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  const cli = (args: string[], input?: string): string =>
    execFileSync('redis-cli', ['--no-auth-warning', '-p', String(broker.port), ...args], { input, encoding: 'latin1', timeout: 10000, stdio: 'pipe' }).replace(
      /\n$/,
      '',
    );

  before(async function () {
    skipWithoutRedisCli(this);
    broker = await startBroker({ requirepass: 'rootpw' });
  });
  after(async () => {
    await broker?.cleanup();
  });

  it('ACL SETUSER with -a, then --user/--pass one-shots and an AUTH session', () => {
    expect(cli(['-a', 'rootpw', 'ACL', 'SETUSER', 'cli', 'on', '>clipw', '+@produce', '~cli-*'])).to.equal('OK');
    const id = cli(['--user', 'cli', '--pass', 'clipw', 'ENQUEUE', 'cli-mail', 'x']);
    expect(id).to.match(/^\S+$/);
    expect(cli(['--user', 'cli', '--pass', 'clipw', 'CLAIM', 'cli-mail'])).to.match(/NOPERM User cli has no permissions to run the 'claim' command/);
    const out = cli([], 'AUTH cli clipw\nENQUEUE cli-sms y\nENQUEUE mail z\nACL WHOAMI\n')
      .split('\n')
      .filter((l) => l !== ''); // redis-cli prints an empty line after an error
    expect(out[0]).to.equal('OK');
    expect(out[1]).to.match(/^\S+$/);
    expect(out[2]).to.match(/NOPERM User cli has no permissions to access the 'mail' queue/);
    expect(out[3]).to.match(/NOPERM .*'acl\|whoami' command/);
    expect(cli(['-a', 'rootpw', 'QLEN', 'mail'])).to.equal('0');
    expect(cli(['--user', 'cli', '--pass', 'wrong', 'QLEN', 'cli-mail'])).to.match(/WRONGPASS|NOAUTH/);
  });
});

describe('ACL: the aclfile', function () {
  this.timeout(20000);
  let broker: BrokerProcess;
  let aclDir: string;
  let file: string;
  const clients = new Clients(() => broker.port);

  before(async () => {
    aclDir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-acl-'));
    file = path.join(aclDir, 'users.acl');
    broker = await startBroker({ aclfile: file }); // the file does not exist yet: no error
  });
  after(async () => {
    clients.closeAll();
    await broker?.cleanup();
    fs.rmSync(aclDir, { recursive: true, force: true });
  });

  it('ACL SAVE writes the users (hashed passwords, atomically); they survive a restart', async () => {
    expect(broker.output()).to.match(/aclfile .* does not exist yet/);
    const admin = clients.make();
    await cmd(admin, 'ACL', 'SETUSER', 'producer', 'on', '>ppw', '+@produce', '~emails');
    await cmd(admin, 'ACL', 'SETUSER', 'admin', 'on', '>apw', '+@all', '~*');
    await cmd(admin, 'ACL', 'SETUSER', 'default', 'resetpass', '>defpw');
    expect(await cmd(admin, 'ACL', 'SAVE')).to.equal('OK');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).to.not.include('ppw');
    expect(text.split('\n')).to.include.members(['user admin on #' + sha('apw') + ' ~* +@all', 'user producer on #' + sha('ppw') + ' ~emails -@all +@produce']);
    expect(fs.readdirSync(aclDir)).to.deep.equal(['users.acl']);
    clients.closeAll();
    await broker.restart();
    const p = clients.make(AS('producer', 'ppw'));
    expect(await cmd(p, 'ENQUEUE', 'emails', 'x')).to.be.a('string');
    await expectError(cmd(p, 'ENQUEUE', 'other', 'x'), 'NOPERM');
    await expectError(cmd(clients.make({ enableReadyCheck: false }), 'PING'), 'NOAUTH'); // default has a password now
    expect(await cmd(clients.make({ password: 'defpw' }), 'PING')).to.equal('PONG');
  });

  it('ACL LOAD is all or nothing: a bad line is refused naming it, the users stay as they were', async () => {
    const admin = clients.make(AS('admin', 'apw'));
    const before = await cmd(admin, 'ACL', 'LIST');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, 'user newbie on >n ~* +@all\nuser broken on +nosuch\n');
    await expectError(cmd(admin, 'ACL', 'LOAD'), 'ERR', new RegExp(`users\\.acl:2: Error in ACL SETUSER modifier '\\+nosuch'`));
    expect(await cmd(admin, 'ACL', 'LIST')).to.deep.equal(before);
    await expectError(cmd(clients.make({ enableReadyCheck: false }), 'AUTH', 'newbie', 'n'), 'WRONGPASS');
    fs.writeFileSync(file, good);
  });

  it('ACL LOAD swaps every user and closes the connections of users it removes or switches off', async () => {
    const admin = clients.make(AS('admin', 'apw'));
    const p = clients.make(AS('producer', 'ppw'));
    expect(await cmd(p, 'QLEN', 'emails')).to.be.a('number');
    const kept = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(
      file,
      kept
        .split('\n')
        .filter((l) => !l.startsWith('user producer'))
        .join('\n') + 'user newbie on >n ~* +@all\n',
    );
    expect(await cmd(admin, 'ACL', 'LOAD')).to.equal('OK');
    await closedByBroker(p);
    expect(await cmd(admin, 'ACL', 'USERS')).to.deep.equal(['admin', 'default', 'newbie']);
    expect(await cmd(clients.make(AS('newbie', 'n')), 'PING')).to.equal('PONG');
  });

  it('a bad aclfile stops start-up with the file and line', async () => {
    fs.writeFileSync(file, 'user ok on\nuser bad on ~q ~*x +@nope\n');
    clients.closeAll();
    let err: Error | undefined;
    try {
      await broker.restart();
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/users\.acl:2: Error in ACL SETUSER modifier '\+@nope'/);
  });
});

describe('ACL: without an aclfile', function () {
  this.timeout(10000);
  let broker: BrokerProcess;
  const clients = new Clients(() => broker.port);
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('ACL SAVE and ACL LOAD say there is no aclfile', async () => {
    const r = clients.make();
    await expectError(cmd(r, 'ACL', 'SAVE'), 'ERR', /not configured to use an ACL file/);
    await expectError(cmd(r, 'ACL', 'LOAD'), 'ERR', /not configured to use an ACL file/);
  });
});

describe('ACL over HTTP (Basic and Bearer, same users, same gate)', function () {
  this.timeout(15000);
  let broker: BrokerProcess;
  let base = '';
  const clients = new Clients(() => broker.port);

  const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
  const post = (p: string, headers: Record<string, string>, body: unknown = {}) =>
    fetch(base + p, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

  before(async () => {
    broker = await startBroker({ requirepass: 'rootpw', 'metrics-auth': 'yes' }, { http: true });
    base = `http://127.0.0.1:${broker.httpPort}`;
    const admin = clients.make({ password: 'rootpw' });
    await cmd(admin, 'ACL', 'SETUSER', 'producer', 'on', '>ppw', '+@produce', '~emails');
  });
  after(async () => {
    clients.closeAll();
    await broker.cleanup();
  });

  it('Basic with a limited user: its queue 201, another queue 403 NOPERM naming it, a job of another queue 403', async () => {
    const ok = await post('/v1/queues/emails/jobs', basic('producer', 'ppw'), { payload: 'x' });
    expect(ok.status).to.equal(201);
    const denied = await post('/v1/queues/payments/jobs', basic('producer', 'ppw'), { payload: 'x' });
    expect(denied.status).to.equal(403);
    expect(await errorOf(denied)).to.deep.equal({ code: 'NOPERM', message: "User producer has no permissions to access the 'payments' queue" });
    const admin = clients.make({ password: 'rootpw' });
    const other = (await cmd(admin, 'ENQUEUE', 'payments', 'x')) as string;
    expect((await fetch(`${base}/v1/jobs/${other}`, { headers: basic('producer', 'ppw') })).status).to.equal(403);
    const own = ((await ok.json()) as { id: string }).id;
    expect((await fetch(`${base}/v1/jobs/${own}`, { headers: basic('producer', 'ppw') })).status).to.equal(200);
    // a route whose command the user lacks: QSTATS
    const qs = await fetch(`${base}/v1/queues/emails`, { headers: basic('producer', 'ppw') });
    expect(qs.status).to.equal(403);
    expect((await errorOf(qs)).message).to.equal("User producer has no permissions to run the 'qstats' command");
    const log = ((await cmd(admin, 'ACL', 'LOG')) as unknown[]).map(fields);
    expect(log.some((e) => e.context === 'http' && e.object === 'payments' && e.username === 'producer')).to.equal(true);
  });

  it('queue routes check the queue (config, groups, pause, purge, jobs, cron): an admin of emails* is refused payments, 403 NOPERM', async () => {
    const admin = clients.make({ password: 'rootpw' });
    await cmd(admin, 'ACL', 'SETUSER', 'ops', 'on', '>opw', '+@all', '~emails*');
    const ops = basic('ops', 'opw');
    await cmd(admin, 'ENQUEUE', 'payments', 'x', 'GROUP', 'acme');
    const other = (await cmd(admin, 'ENQUEUE', 'payments', 'y', 'DELAY', 60000)) as string;
    const refused: Array<[string, Promise<Response>]> = [
      ['config', post('/v1/queues/payments/config', ops, { rate: 5 })],
      ['group config', post('/v1/queues/payments/groups/acme/config', ops, { concurrency: 1 })],
      ['group reset', post('/v1/queues/payments/groups/acme/reset', ops)],
      ['group list', fetch(`${base}/v1/queues/payments/groups`, { headers: ops })],
      ['group stats', fetch(`${base}/v1/queues/payments/groups/acme`, { headers: ops })],
      ['pause', post('/v1/queues/payments/pause', ops)],
      ['purge', post('/v1/queues/payments/purge', ops, { state: 'waiting' })],
      ['requeue-all', post('/v1/queues/payments/requeue-all', ops)],
      ['jobs', fetch(`${base}/v1/queues/payments/jobs?state=ready`, { headers: ops })],
      ['promote', post(`/v1/jobs/${other}/promote`, ops)],
      ['payload', fetch(`${base}/v1/jobs/${other}/payload`, { headers: ops })],
      ['cron set', post('/v1/cron/sneaky', ops, { expression: '* * * * *', queue: 'payments', payload: 'x' })],
    ];
    for (const [what, res] of refused) {
      const r = await res;
      expect(r.status, what).to.equal(403);
      expect(await errorOf(r), what).to.deep.equal({ code: 'NOPERM', message: "User ops has no permissions to access the 'payments' queue" });
    }
    expect(fields(await cmd(admin, 'QSTATS', 'payments'))).to.include({ paused: 0, rate: 0, scheduled: 1 });
    expect(await cmd(admin, 'CRON', 'LIST')).to.deep.equal([]);
    // the same routes on its own queue
    expect((await post('/v1/queues/emails-eu/config', ops, { rate: 5, groupConcurrency: 1 })).status).to.equal(200);
    expect((await post('/v1/queues/emails-eu/groups/acme/config', ops, { concurrency: 2 })).status).to.equal(200);
    expect((await fetch(`${base}/v1/queues/emails-eu/groups/acme`, { headers: ops })).status).to.equal(200);
    expect((await fetch(`${base}/v1/queues/emails-eu/groups`, { headers: ops })).status).to.equal(200);
    expect((await post('/v1/queues/emails-eu/groups/acme/reset', ops)).status).to.equal(200);
  });

  it('a user without GROUP commands: the group routes are 403 naming the subcommand', async () => {
    const r = await fetch(`${base}/v1/queues/emails/groups`, { headers: basic('producer', 'ppw') });
    expect(r.status).to.equal(403);
    expect((await errorOf(r)).message).to.equal("User producer has no permissions to run the 'group|list' command");
    const c = await post('/v1/queues/emails/groups/acme/config', basic('producer', 'ppw'), { concurrency: 1 });
    expect((await errorOf(c)).message).to.equal("User producer has no permissions to run the 'group|config' command");
  });

  it('wrong or malformed credentials: 401 WRONGPASS with a challenge; none: 401 NOAUTH; Bearer is the default user', async () => {
    const wrong = await post('/v1/queues/emails/jobs', basic('producer', 'nope'), { payload: 'x' });
    expect(wrong.status).to.equal(401);
    expect(wrong.headers.get('www-authenticate')).to.match(/Basic/);
    expect((await errorOf(wrong)).code).to.equal('WRONGPASS');
    expect((await post('/v1/queues/emails/jobs', { Authorization: 'Basic bm9jb2xvbg==' }, { payload: 'x' })).status).to.equal(401);
    expect((await errorOf(await post('/v1/queues/emails/jobs', {}, { payload: 'x' }))).code).to.equal('NOAUTH');
    expect((await post('/v1/queues/anything/jobs', { Authorization: 'Bearer rootpw' }, { payload: 'x' })).status).to.equal(201);
    expect((await post('/v1/queues/anything/jobs', basic('default', 'rootpw'), { payload: 'x' })).status).to.equal(201);
  });

  it('metrics-auth yes: /metrics needs a user allowed INFO; /health stays open', async () => {
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    expect((await fetch(`${base}/metrics`)).status).to.equal(401);
    expect((await fetch(`${base}/metrics`, { headers: basic('producer', 'ppw') })).status).to.equal(403);
    const ok = await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer rootpw' } });
    expect(ok.status).to.equal(200);
    expect(await ok.text()).to.include('resq_');
    const admin = clients.make({ password: 'rootpw' });
    await cmd(admin, 'CONFIG', 'SET', 'metrics-auth', 'no');
    expect((await fetch(`${base}/metrics`)).status).to.equal(200);
  });
});

function sha(s: string): string {
  return require('crypto').createHash('sha256').update(s).digest('hex'); // eslint-disable-line @typescript-eslint/no-require-imports
}
