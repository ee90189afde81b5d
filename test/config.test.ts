import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync, spawnSync } from 'child_process';
import Redis from 'ioredis';
import { ConfigError, helpText, loadSettings } from '../config/settings';
import { SETTINGS } from '../config/schema';
import { startBroker, BrokerProcess } from './helpers/broker';

const BIN = path.resolve(__dirname, '../../bin/resq-server');

function tmpFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-conf-'));
  const file = path.join(dir, 'resq.conf');
  fs.writeFileSync(file, text);
  return file;
}

describe('config: loading settings', () => {
  const files: string[] = [];
  const conf = (text: string) => {
    const f = tmpFile(text);
    files.push(f);
    return f;
  };
  after(() => files.forEach((f) => fs.rmSync(path.dirname(f), { recursive: true, force: true })));

  it('defaults come from the schema', () => {
    const { settings } = loadSettings([], {});
    for (const s of SETTINGS) expect(settings.get(s.name), s.name).to.equal(s.default);
  });

  it('precedence: flags > environment > config file > default', () => {
    const file = conf('default-lease 1000\ndefault-retries 7\nmax-payload 2048\n# a comment\n\n');
    const { settings } = loadSettings(['--config', file, '--default-lease', '3000'], { RESQ_DEFAULT_LEASE: '2000', RESQ_DEFAULT_RETRIES: '8' });
    expect(settings.int('default-lease')).to.equal(3000);
    expect(settings.int('default-retries')).to.equal(8);
    expect(settings.int('max-payload')).to.equal(2048);
  });

  it('accepts --name=value, quoted file values and boolean words', () => {
    const file = conf('requirepass "two words"\nrequeue-on-disconnect yes\n');
    const { settings } = loadSettings(['--config', file, '--appendfsync=everysec'], {});
    expect(settings.str('requirepass')).to.equal('two words');
    expect(settings.bool('requeue-on-disconnect')).to.equal(true);
    expect(settings.str('appendfsync')).to.equal('everysec');
  });

  it('unknown settings are errors that name the source', () => {
    expect(() => loadSettings(['--no-such-thing', '1'], {})).to.throw(ConfigError, /unknown setting '--no-such-thing'/);
    const file = conf('port 7377\nbogus 1\n');
    expect(() => loadSettings(['--config', file], {})).to.throw(ConfigError, /resq\.conf:2: unknown setting 'bogus'/);
  });

  it('bad values are errors that name the setting and the source', () => {
    expect(() => loadSettings(['--port', '12abc'], {})).to.throw(ConfigError, /--port: invalid value '12abc' for 'port': expected an integer/);
    expect(() => loadSettings(['--port', '70000'], {})).to.throw(ConfigError, /between 0 and 65535/);
    expect(() => loadSettings([], { RESQ_APPENDFSYNC: 'sometimes' })).to.throw(ConfigError, /environment RESQ_APPENDFSYNC: .*one of always, everysec, no/);
    expect(() => loadSettings(['--requeue-on-disconnect', 'maybe'], {})).to.throw(ConfigError, /expected yes or no/);
    expect(() => loadSettings(['--priority-weights', '1,2'], {})).to.throw(ConfigError, /priority-weights/);
    expect(() => loadSettings(['--config', '/nonexistent/resq.conf'], {})).to.throw(ConfigError, /cannot read config file/);
  });

  it('--help lists every setting with its default', () => {
    const text = helpText();
    for (const s of SETTINGS) expect(text).to.include(`--${s.name} `);
    const out = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(out).to.equal(text);
  });

  it('the binary exits non-zero with a clear message on a bad flag', () => {
    const r = spawnSync(process.execPath, [BIN, '--port', 'abc'], { encoding: 'utf8' });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/resq-server: --port: invalid value 'abc'/);
  });

  it('the sample docs/resq.conf is valid', () => {
    const { settings } = loadSettings(['--config', path.resolve(__dirname, '../../docs/resq.conf')], {});
    expect(settings.int('port')).to.equal(7377);
  });
});

describe('config: a broker started from a config file, and CONFIG GET/SET/RESETSTAT', () => {
  let broker: BrokerProcess;
  let redis: Redis;
  let file: string;

  before(async () => {
    file = tmpFile('default-lease 4321\nmax-payload 1000\n');
    broker = await startBroker({}, { args: ['--config', file], env: { RESQ_DEFAULT_RETRIES: '9' } });
    redis = new Redis(broker.port, { lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    redis.disconnect();
    await broker.cleanup();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('uses the file and the environment', async () => {
    expect(await redis.call('CONFIG', 'GET', 'default-lease')).to.deep.equal(['default-lease', '4321']);
    expect(await redis.call('CONFIG', 'GET', 'default-retries')).to.deep.equal(['default-retries', '9']);
    const id = (await redis.call('ENQUEUE', 'cfg', 'x')) as string;
    const status = (await redis.call('STATUS', id)) as string[];
    expect(status[status.indexOf('lease') + 1]).to.equal(4321);
    await redis.call('ENQUEUE', 'cfg', 'y'.repeat(1001)).then(
      () => expect.fail('should be TOOBIG'),
      (e: Error) => expect(e.message).to.match(/^TOOBIG/),
    );
  });

  it('CONFIG SET changes runtime settings and refuses the others', async () => {
    expect(await redis.call('CONFIG', 'SET', 'max-payload', '5000', 'default-retries', '1')).to.equal('OK');
    expect(await redis.call('CONFIG', 'GET', 'max-payload')).to.deep.equal(['max-payload', '5000']);
    await expectError(redis.call('CONFIG', 'SET', 'dir', '/tmp'), /cannot be changed at runtime/);
    await expectError(redis.call('CONFIG', 'SET', 'port', '1'), /cannot be changed at runtime/);
    await expectError(redis.call('CONFIG', 'SET', 'nope', '1'), /unknown setting/);
    // a bad pair changes nothing, not even the good pairs before it
    await expectError(redis.call('CONFIG', 'SET', 'default-retries', '2', 'default-lease', 'x'), /invalid value/);
    expect(await redis.call('CONFIG', 'GET', 'default-retries')).to.deep.equal(['default-retries', '1']);
  });

  it('CONFIG GET takes globs', async () => {
    const reply = (await redis.call('CONFIG', 'GET', 'default-*')) as string[];
    const names = reply.filter((_, i) => i % 2 === 0);
    expect(names).to.include.members(['default-retries', 'default-lease', 'default-backoff', 'default-maxlen']);
    expect(names.every((n) => n.startsWith('default-'))).to.equal(true);
  });

  it('CONFIG RESETSTAT zeroes the totals', async () => {
    await redis.call('ENQUEUE', 'stats', 'x');
    let stats = (await redis.call('QSTATS', 'stats')) as (string | number)[];
    expect(stats[stats.indexOf('enqueued') + 1]).to.equal(1);
    expect(await redis.call('CONFIG', 'RESETSTAT')).to.equal('OK');
    stats = (await redis.call('QSTATS', 'stats')) as (string | number)[];
    expect(stats[stats.indexOf('enqueued') + 1]).to.equal(0);
    expect(stats[stats.indexOf('ready') + 1]).to.equal(1);
  });

  it('CONFIG REWRITE writes CONFIG SET changes into the file (comments kept) and they survive a restart', async () => {
    fs.writeFileSync(file, '# my broker\ndefault-lease 4321   \nmax-payload 1000\nmax-payload 1000\n');
    await redis.call('CONFIG', 'SET', 'default-lease', '5555', 'slowlog-max-len', '7');
    expect(await redis.call('CONFIG', 'REWRITE')).to.equal('OK');
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).to.equal('# my broker');
    expect(lines[1]).to.equal('default-lease 5555'); // replaced in place
    expect(lines).to.include('slowlog-max-len 7'); // appended: the file did not have it
    const payload = (await redis.call('CONFIG', 'GET', 'max-payload')) as string[];
    expect(lines.filter((l) => l.startsWith('max-payload'))).to.deep.equal([`max-payload ${payload[1]}`]); // duplicate dropped
    redis.disconnect();
    await broker.stop();
    await broker.restart();
    redis = new Redis(broker.port, { lazyConnect: true });
    await redis.connect();
    expect(await redis.call('CONFIG', 'GET', 'default-lease')).to.deep.equal(['default-lease', '5555']);
    expect(await redis.call('CONFIG', 'GET', 'slowlog-max-len')).to.deep.equal(['slowlog-max-len', '7']);
  });
});

describe('config: CONFIG REWRITE without a config file', () => {
  it('is refused with a clear error', async () => {
    const broker = await startBroker();
    const r = new Redis(broker.port, { lazyConnect: true });
    try {
      await r.connect();
      await expectError(r.call('CONFIG', 'REWRITE'), /^ERR The server is running without a config file/);
    } finally {
      r.disconnect();
      await broker.cleanup();
    }
  });
});

async function expectError(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(re);
    return;
  }
  expect.fail(`expected an error matching ${re}`);
}
