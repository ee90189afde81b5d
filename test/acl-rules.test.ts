/** The ACL pieces on their own: Redis glob matching, rules, the aclfile format, ACL LOG. */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AclFileError, parseAclFile, readAclFile, writeAclFile } from '../server/acl/acl-file';
import { AclLog } from '../server/acl/acl-log';
import { AclRuleError, applyRule } from '../server/acl/acl-rules';
import { AclUser } from '../server/acl/acl-user';
import { globMatch } from '../server/acl/glob';
import { passwordHash } from '../server/rules/password';

function user(...rules: string[]): AclUser {
  const u = new AclUser('u');
  for (const r of rules) applyRule(u, r);
  return u;
}

describe('ACL: queue patterns match as Redis matches keys', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true],
    ['*', 'anything', true],
    ['emails', 'emails', true],
    ['emails', 'Emails', false], // case-sensitive, like keys
    ['emails', 'emails2', false],
    ['q*', 'q', true],
    ['q*', 'queue:1', true],
    ['q*', 'aq', false],
    ['*:high', 'mail:high', true],
    ['*:high', 'mail:higher', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['a*b*c', 'abcbc', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-c]llo', 'hbllo', true],
    ['h[c-a]llo', 'hbllo', true], // reversed range, as Redis
    ['h[a-c]llo', 'hdllo', false],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['[\\]]', ']', true],
    ['tenant-[0-9]*', 'tenant-7-mail', true],
    ['tenant-[0-9]*', 'tenant-x', false],
  ];
  for (const [pattern, text, expected] of cases) {
    it(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${text}'`, () => {
      expect(globMatch(pattern, text)).to.equal(expected);
    });
  }

  it('a hostile pattern costs linear-ish time, not exponential', () => {
    const t = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(2000))).to.equal(false);
    expect(performance.now() - t).to.be.below(500);
  });
});

describe('ACL: rules', () => {
  it('a new user has nothing: off, no password, no command, no queue', () => {
    const u = new AclUser('x');
    expect(u.enabled).to.equal(false);
    expect(u.canRun('ping')).to.equal(false);
    expect(u.canAccess('q')).to.equal(false);
    expect(u.passwordOk('')).to.equal(false);
  });

  it('categories, commands and subcommands add and remove in order', () => {
    const u = user('+@produce', '-cancel', '+config|get', '+client');
    expect(u.canRun('enqueue')).to.equal(true);
    expect(u.canRun('cancel')).to.equal(false);
    expect(u.canRun('claim')).to.equal(false);
    expect(u.canRun('config|get')).to.equal(true);
    expect(u.canRun('config|set')).to.equal(false);
    expect(u.canRun('client|kill')).to.equal(true);
    expect(u.commandText).to.equal('-@all +@produce -cancel +config|get +client');
    const all = user('allcommands', '-@dangerous');
    expect(all.canRun('enqueue')).to.equal(true);
    expect(all.canRun('purge')).to.equal(false);
    expect(all.canRun('shutdown')).to.equal(false);
    expect(all.commandText).to.equal('+@all -@dangerous');
    expect(user('+@all').allCommands).to.equal(true);
    expect(user('+@all', 'nocommands').canRun('ping')).to.equal(false);
  });

  it('passwords: >add <remove #hash !hash nopass resetpass', () => {
    const u = user('>one', '>two');
    expect(u.passwordOk('one')).to.equal(true);
    expect(u.passwordOk('two')).to.equal(true);
    expect(u.passwordOk('three')).to.equal(false);
    applyRule(u, '<one');
    expect(u.passwordOk('one')).to.equal(false);
    applyRule(u, `#${passwordHash('three')}`);
    expect(u.passwordOk('three')).to.equal(true);
    applyRule(u, `!${passwordHash('three')}`);
    expect(u.passwordOk('three')).to.equal(false);
    applyRule(u, 'nopass');
    expect(u.passwordOk('anything')).to.equal(true);
    applyRule(u, 'resetpass');
    expect(u.passwordOk('anything')).to.equal(false);
    expect([...user('>pw').passwords]).to.deep.equal([passwordHash('pw')]);
  });

  it('queue patterns: ~pattern, allkeys, resetkeys; the memo forgets on change', () => {
    const u = user('~emails', '~sms:*');
    expect(u.canAccess('emails')).to.equal(true);
    expect(u.canAccess('sms:eu')).to.equal(true);
    expect(u.canAccess('push')).to.equal(false);
    applyRule(u, '~push');
    expect(u.canAccess('push')).to.equal(true);
    applyRule(u, 'resetkeys');
    expect(u.canAccess('emails')).to.equal(false);
    applyRule(u, 'allkeys');
    expect(u.allQueues).to.equal(true);
    expect(() => applyRule(u, '~more')).to.throw(AclRuleError, /resetkeys/);
  });

  it('reset: off, no password, no command, no queue', () => {
    const u = user('on', '>p', '+@all', '~*', 'reset');
    expect(u.describe()).to.equal('off -@all');
  });

  it('bad rules are refused with a message naming the rule', () => {
    const bad: Array<[string, RegExp]> = [
      ['+nosuchcmd', /Unknown command 'nosuchcmd'/],
      ['+@nosuchcat', /Unknown category 'nosuchcat'/],
      ['#abc', /64 characters/],
      ['<notset', /no such password/],
      ['%R~q', /no read\/write-only/],
      ['&chan', /pub\/sub/],
      ['(+get ~k)', /selectors/],
      ['whatever', /Syntax error/],
      ['~', /empty queue pattern/],
    ];
    for (const [rule, why] of bad) {
      expect(() => user(rule), rule).to.throw(AclRuleError, why);
      try {
        user(rule);
      } catch (e) {
        expect((e as Error).message).to.include(`modifier '${rule}'`);
      }
    }
  });
});

describe('ACL: the aclfile', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-aclfile-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips through write and read (hashes, patterns, command rules)', () => {
    const file = path.join(dir, 'users.acl');
    const text = 'user producer on >p ~emails ~sms:* +@produce\n\n# a comment\nuser admin on nopass ~* +@all -shutdown\nuser off-one off\n';
    const users = parseAclFile(text, 'x');
    writeAclFile(file, users.values());
    const written = fs.readFileSync(file, 'latin1');
    expect(written).to.equal(
      `user producer on #${passwordHash('p')} ~emails ~sms:* -@all +@produce\nuser admin on nopass ~* +@all -shutdown\nuser off-one off -@all\n`,
    );
    const back = readAclFile(file);
    expect([...back.keys()]).to.deep.equal(['producer', 'admin', 'off-one']);
    expect(back.get('producer')!.passwordOk('p')).to.equal(true);
    expect(back.get('admin')!.canRun('shutdown')).to.equal(false);
    expect(fs.readdirSync(dir)).to.deep.equal(['users.acl']); // no temp file left
  });

  it('a bad line fails the whole file, naming the file and line', () => {
    const bad: Array<[string, RegExp]> = [
      ['user a on\nuser b on +nosuch\n', /^f:2: Error in ACL SETUSER modifier '\+nosuch': Unknown command/],
      ['user a on\nusr b\n', /^f:2: a line must start with 'user'/],
      ['user a on\nuser a off\n', /^f:2: duplicate user 'a'/],
      ['user\n', /^f:1: 'user' without a name/],
    ];
    for (const [text, why] of bad) expect(() => parseAclFile(text, 'f'), text).to.throw(AclFileError, why);
  });
});

describe('ACL: the log', () => {
  it('newest first, repeats within a minute counted into one entry, bounded by max-len', () => {
    let now = 1_000_000;
    let max = 3;
    const log = new AclLog(
      () => max,
      () => now,
    );
    const event = (object: string) => ({ reason: 'command' as const, context: 'toplevel', object, username: 'u', clientInfo: `at ${now}` });
    log.add(event('claim'));
    now += 1000;
    log.add(event('claim'));
    expect(log.newest(10)).to.have.length(1);
    expect(log.newest(10)[0]).to.include({ count: 2, object: 'claim', clientInfo: 'at 1001000', created: 1_000_000, updated: 1_001_000 });
    for (const o of ['a', 'b', 'c', 'd']) log.add(event(o));
    expect(log.newest(10).map((e) => e.object)).to.deep.equal(['d', 'c', 'b']);
    now += 61_000;
    log.add(event('d'));
    expect(log.newest(10).map((e) => [e.object, e.count])).to.deep.equal([
      ['d', 1],
      ['d', 1],
      ['c', 1],
    ]);
    max = 1;
    expect(log.newest(10)).to.have.length(1);
    log.reset();
    expect(log.newest(10)).to.deep.equal([]);
  });
});
