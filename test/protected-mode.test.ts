import { expect } from 'chai';
import { execFile, execFileSync, spawnSync } from 'child_process';
import { exposedWithoutPassword, isLoopbackAddress, isLoopbackBind, protectedModeRefusal } from '../server/rules/protected-mode';
import { BrokerProcess, startBroker } from './helpers/broker';
import { makeTestPki, TestPki } from './helpers/tls-certs';
import { Clients, cmd, waitFor } from './helpers/util';

describe('protected mode', function () {
  describe('the rule', function () {
    const exposed = { protectedMode: true, passwordSet: false, bind: '0.0.0.0', bindSetting: 'bind' as const };

    it('knows loopback addresses, IPv4, IPv6 and IPv4-mapped', () => {
      for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).to.equal(true);
      for (const a of ['10.200.0.2', '::ffff:10.0.0.1', '0.0.0.0', '::', '128.0.0.1', 'fe80::1', undefined])
        expect(isLoopbackAddress(a), String(a)).to.equal(false);
      expect(isLoopbackBind('localhost')).to.equal(true);
      expect(isLoopbackBind('0.0.0.0')).to.equal(false);
    });

    it('refuses non-loopback clients only with protection on, no password and a non-loopback bind', () => {
      expect(protectedModeRefusal(exposed, '10.200.0.2')).to.match(/^DENIED resq is running in protected mode/);
      expect(protectedModeRefusal(exposed, '127.0.0.1')).to.equal(null);
      expect(protectedModeRefusal(exposed, '::1')).to.equal(null);
      expect(protectedModeRefusal({ ...exposed, protectedMode: false }, '10.200.0.2')).to.equal(null);
      expect(protectedModeRefusal({ ...exposed, passwordSet: true }, '10.200.0.2')).to.equal(null);
      expect(protectedModeRefusal({ ...exposed, bind: '127.0.0.1' }, '10.200.0.2')).to.equal(null);
      expect(exposedWithoutPassword(exposed)).to.equal(true);
    });

    it('says the three ways out, on one line', () => {
      const text = protectedModeRefusal(exposed, '10.200.0.2')!;
      expect(text).to.not.match(/[\r\n]/);
      expect(text).to.include('CONFIG SET requirepass');
      expect(text).to.include('--bind 127.0.0.1');
      expect(text).to.include('CONFIG SET protected-mode no');
    });
  });

  /**
   * A real peer on another address: a network namespace joined to this one
   * by a veth pair (host side 10.200.N.1, namespace side 10.200.N.2). The
   * broker binds 0.0.0.0 (protected: it serves loopback only); redis-cli
   * run inside the namespace comes from 10.200.N.2. Needs root (ip netns);
   * where that is not allowed the suite is skipped, saying why.
   */
  describe('over the network (a network namespace made by the test)', function () {
    const id = process.pid % 100_000;
    const ns = `resq-pm-${id}`;
    const hostIf = `rqh${id}`;
    const subnet = `10.200.${id % 250}`;
    const hostAddr = `${subnet}.1`;
    let made = false;
    let broker: BrokerProcess;
    let pki: TestPki;
    const clients = new Clients(() => broker.port);

    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

    /** redis-cli inside the namespace, against the host side of the veth pair */
    const fromNamespace = (...args: string[]): Promise<string> =>
      new Promise((resolve) => {
        execFile('ip', ['netns', 'exec', ns, 'redis-cli', '-h', hostAddr, ...args], { timeout: 10_000 }, (_err, stdout, stderr) =>
          resolve(`${stdout}${stderr}`.trim()),
        );
      });

    /** an HTTP GET from inside the namespace (node's fetch): "status body" */
    const httpFromNamespace = (pathname: string): Promise<string> =>
      new Promise((resolve) => {
        const script = `fetch(process.argv[1]).then(async (r) => console.log(r.status, await r.text()), (e) => console.log('error', e.message))`;
        const url = `http://${hostAddr}:${broker.httpPort}${pathname}`;
        execFile('ip', ['netns', 'exec', ns, process.execPath, '-e', script, url], { timeout: 10_000 }, (_err, stdout, stderr) =>
          resolve(`${stdout}${stderr}`.trim()),
        );
      });

    before(async function () {
      if (spawnSync('ip', ['-V']).status !== 0) {
        console.log('      (skipped: no ip command; apt-get install -y iproute2)');
        this.skip();
      }
      try {
        ip('netns', 'add', ns);
        made = true;
        ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        ip('addr', 'add', `${hostAddr}/24`, 'dev', hostIf);
        ip('link', 'set', hostIf, 'up');
        ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.2/24`, 'dev', 'eth0');
        ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
        ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      } catch (e) {
        const why = ((e as { stderr?: Buffer }).stderr ?? '').toString().trim() || (e as Error).message;
        console.log(`      (skipped: cannot make a network namespace here: ${why})`);
        this.skip();
      }
      pki = makeTestPki();
      broker = await startBroker(
        {
          bind: '0.0.0.0',
          'http-bind': '0.0.0.0',
          'tls-port': '-1',
          'tls-cert-file': pki.serverCert,
          'tls-key-file': pki.serverKey,
          'tls-auth-clients': 'no',
        },
        { http: true },
      );
    });

    after(async () => {
      clients.closeAll();
      await broker?.cleanup();
      pki?.cleanup();
      // deleting the namespace deletes its end of the veth pair, and with it the host end
      if (made) spawnSync('ip', ['netns', 'del', ns]);
      spawnSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
    });

    it('warns at start-up that it binds a non-loopback address without a password', () => {
      expect(broker.output()).to.match(/"bind 0\.0\.0\.0 is not a loopback address and no password is set: protected mode is on/);
      expect(broker.output()).to.match(/"http-bind 0\.0\.0\.0 is not a loopback address and no password is set: protected mode is on/);
    });

    it('denies a client from another address with the explanation, and serves loopback', async () => {
      const out = await fromNamespace('-p', String(broker.port), 'PING');
      expect(out).to.match(/DENIED resq is running in protected mode .*CONFIG SET requirepass .*--bind 127\.0\.0\.1 .*CONFIG SET protected-mode no/);
      expect(out).to.not.include('PONG');
      expect(await clients.make().ping()).to.equal('PONG');
      await waitFor(() => new RegExp(`protected mode: refused ${subnet.replace(/\./g, '\\.')}\\.2:`).test(broker.output()), 'the refusal is logged');
    });

    it('denies on the TLS port too', async () => {
      const out = await fromNamespace('-p', String(broker.tlsPort), '--tls', '--insecure', 'PING');
      expect(out).to.match(/DENIED resq is running in protected mode/);
    });

    it('denies the HTTP /v1 API to the other address (403 DENIED) but serves /health, and serves /v1 on loopback', async () => {
      const denied = await httpFromNamespace('/v1/queues');
      expect(denied).to.match(/^403 /);
      const body = JSON.parse(denied.slice(4)) as { error: { code: string; message: string } };
      expect(body.error.code).to.equal('DENIED');
      expect(body.error.message).to.match(/^resq is running in protected mode .*--http-bind 127\.0\.0\.1/);
      expect(await httpFromNamespace('/health')).to.equal('200 {"status":"ok"}');
      const local = await fetch(`http://127.0.0.1:${broker.httpPort}/v1/queues`);
      expect(local.status).to.equal(200);
    });

    it('serves the other address once a password is set (clients AUTH), and denies it again when it is cleared', async () => {
      const admin = clients.make();
      expect(await cmd(admin, 'CONFIG', 'SET', 'requirepass', 's3cret')).to.equal('OK');
      try {
        expect(await fromNamespace('-p', String(broker.port), '-a', 's3cret', '--no-auth-warning', 'PING')).to.equal('PONG');
        expect(await fromNamespace('-p', String(broker.port), 'PING')).to.match(/NOAUTH/);
        expect(await httpFromNamespace('/v1/queues')).to.match(/^401 /);
      } finally {
        await cmd(admin, 'AUTH', 's3cret');
        await cmd(admin, 'CONFIG', 'SET', 'requirepass', '');
      }
      expect(await fromNamespace('-p', String(broker.port), 'PING')).to.match(/DENIED/);
    });

    it('serves the other address with protected-mode no (CONFIG SET from loopback)', async () => {
      const admin = clients.make();
      expect(await cmd(admin, 'CONFIG', 'SET', 'protected-mode', 'no')).to.equal('OK');
      try {
        expect(await fromNamespace('-p', String(broker.port), 'PING')).to.equal('PONG');
        expect(await httpFromNamespace('/v1/queues')).to.match(/^200 /);
      } finally {
        await cmd(admin, 'CONFIG', 'SET', 'protected-mode', 'yes');
      }
      expect(await fromNamespace('-p', String(broker.port), 'PING')).to.match(/DENIED/);
    });
  });
});
