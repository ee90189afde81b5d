import { expect } from 'chai';
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import Redis, { RedisOptions } from 'ioredis';
import * as path from 'path';
import { createClient } from 'redis';
import * as tls from 'tls';
import { Queue, Worker } from '../client';
import { BrokerProcess, startBroker } from './helpers/broker';
import { makeTestPki, TestPki } from './helpers/tls-certs';
import { Clients, cmd, expectError, waitFor } from './helpers/util';

/** awaits a promise that must reject; returns its error */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** a command on `r` fails; resolves with its error and the connection errors ioredis emitted (the TLS alert is there) */
async function refusal(r: Redis): Promise<string> {
  const errors: string[] = [];
  r.on('error', (e: Error) => errors.push(e.message));
  const e = await rejection(r.ping());
  return [e.message, ...errors].join('; ');
}

/** a raw TLS client sends PING; resolves with what the server sent and the error the socket saw, once it is closed */
function rawPing(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = tls.connect({ host: '127.0.0.1', port, ...options }, () => s.write('PING\r\n'));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('error', (e) => (got += `[error: ${e.message.trim()}]`));
    s.on('close', () => resolve(got));
  });
}

/** the CN of the certificate a TLS listener presents to a new connection */
function presentedName(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(String(cn));
    });
    s.on('error', reject);
  });
}

/** redis-cli, resolving with exit code and output (it reports TLS failures on stderr) */
function redisCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('redis-cli', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
    });
  });
}

function httpsGet(port: number, pathname: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: pathname, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('TLS', function () {
  let pki: TestPki;
  let ca: Buffer;
  let clientCert: Buffer;
  let clientKey: Buffer;

  before(function () {
    if (spawnSync('openssl', ['version']).status !== 0) throw new Error('these tests need the openssl command (apt-get install -y openssl)');
    pki = makeTestPki();
    ca = pki.pem(pki.caCert);
    clientCert = pki.pem(pki.clientCert);
    clientKey = pki.pem(pki.clientKey);
  });
  after(() => pki?.cleanup());

  describe('a broker with tls-port and client certificates required (the default)', function () {
    let broker: BrokerProcess;
    let live: { cert: string; key: string };
    const clients = new Clients(() => broker.tlsPort);
    const mtls = (): RedisOptions => ({ tls: { ca, cert: clientCert, key: clientKey } });

    before(async () => {
      // the server certificate under names the reload test rewrites in place
      live = { cert: path.join(pki.dir, 'live.crt'), key: path.join(pki.dir, 'live.key') };
      fs.copyFileSync(pki.serverCert, live.cert);
      fs.copyFileSync(pki.serverKey, live.key);
      broker = await startBroker(
        { 'tls-port': '-1', 'tls-cert-file': live.cert, 'tls-key-file': live.key, 'tls-ca-cert-file': pki.caCert, 'tls-http': 'yes' },
        { http: true },
      );
    });
    after(async () => {
      clients.closeAll();
      await broker?.cleanup();
    });

    it('reports the TLS port on the ready line and keeps the plain port', async () => {
      expect(broker.output()).to.match(new RegExp(`^resq ready .* port=${broker.port} http-port=${broker.httpPort} tls-port=${broker.tlsPort} `, 'm'));
      expect(broker.tlsPort).to.be.greaterThan(0).and.not.equal(broker.port);
      const plain = new Clients(() => broker.port);
      try {
        expect(await plain.make().ping()).to.equal('PONG');
      } finally {
        plain.closeAll();
      }
    });

    it('serves ioredis with the CA and a client certificate: jobs round-trip', async () => {
      const r = clients.make(mtls());
      expect(await r.ping()).to.equal('PONG');
      const id = await cmd(r, 'ENQUEUE', 'tls-q', 'over tls');
      const claimed = (await cmd(r, 'CLAIM', 'tls-q')) as unknown[][];
      expect(claimed[0][0]).to.equal(id);
      expect(claimed[0][2]).to.equal('over tls');
      expect(await cmd(r, 'ACK', String(id))).to.equal(1);
    });

    it('refuses a client with a certificate from another CA, or without one, at the handshake (and logs why)', async () => {
      const other = pki.newCa('other-ca');
      const stranger = pki.issue('stranger', 'client', other);
      // TLS 1.3: the client's side of the handshake is done when the server checks its certificate; the server drops it unanswered
      expect(await rawPing(broker.tlsPort, { ca, cert: pki.pem(stranger.cert), key: pki.pem(stranger.key) })).to.equal('');
      // (handshake failures are logged as bursts: the first at once, the rest summed up later)
      await waitFor(
        () => /TLS handshake failed: client certificate did not verify: UNABLE_TO_VERIFY_LEAF_SIGNATURE/.test(broker.output()),
        'the refused handshake is logged, with the reason',
      );
      expect(await refusal(clients.make({ tls: { ca } }))).to.match(/alert certificate required/);
    });

    it('refuses a client that does not trust the server certificate (no CA given)', async () => {
      const r = clients.make({ tls: { cert: clientCert, key: clientKey } });
      expect(await refusal(r)).to.match(/self-signed certificate in certificate chain|unable to get local issuer certificate/);
    });

    it('serves redis-cli --tls with --cacert --cert --key, and refuses it without --cert', async () => {
      const base = ['-h', '127.0.0.1', '-p', String(broker.tlsPort), '--tls', '--cacert', pki.caCert];
      const ok = await redisCli([...base, '--cert', pki.clientCert, '--key', pki.clientKey, 'PING']);
      expect(ok.out).to.equal('PONG');
      const refused = await redisCli([...base, 'PING']);
      expect(refused.code).to.not.equal(0);
      expect(refused.out).to.match(/Server closed the connection|certificate/);
    });

    it('serves node-redis v5 with socket.tls', async () => {
      const c = createClient({ socket: { host: '127.0.0.1', port: broker.tlsPort, tls: true, ca, cert: clientCert, key: clientKey }, RESP: 3 });
      c.on('error', () => {});
      await c.connect();
      try {
        expect(await c.ping()).to.equal('PONG');
        expect(await c.sendCommand(['QLEN', 'nothing-here'])).to.equal(0);
      } finally {
        c.destroy();
      }
    });

    it('serves the SDK (Queue and Worker) from a rediss:// URL with TLS options', async () => {
      const connection = { url: `rediss://127.0.0.1:${broker.tlsPort}`, tls: { ca, cert: clientCert, key: clientKey } };
      const queue = new Queue<{ n: number }, number>(connection);
      const seen: number[] = [];
      const worker = new Worker<{ n: number }, number>(
        'tls-sdk',
        async (job) => {
          seen.push(job.data.n);
          return job.data.n * 2;
        },
        { connection, block: 200 },
      );
      try {
        const id = await queue.enqueue('tls-sdk', { n: 21 });
        const done = await queue.waitFor(id, 10_000);
        expect(done?.state).to.equal('completed');
        expect(done?.result).to.equal(42);
        expect(seen).to.deep.equal([21]);
      } finally {
        await worker.close();
        await queue.close();
      }
    });

    it('tls-auth-clients changes at runtime: no and optional let a client without a certificate in; optional still refuses a bad one', async () => {
      const admin = clients.make(mtls());
      try {
        expect(await cmd(admin, 'CONFIG', 'SET', 'tls-auth-clients', 'no')).to.equal('OK');
        expect(await clients.make({ tls: { ca } }).ping()).to.equal('PONG');

        expect(await cmd(admin, 'CONFIG', 'SET', 'tls-auth-clients', 'optional')).to.equal('OK');
        expect(await clients.make({ tls: { ca } }).ping()).to.equal('PONG');
        expect(await clients.make(mtls()).ping()).to.equal('PONG');
        const other = pki.newCa('other-ca2');
        const stranger = pki.issue('stranger2', 'client', other);
        const wrong = await rawPing(broker.tlsPort, { ca, cert: pki.pem(stranger.cert), key: pki.pem(stranger.key) });
        expect(wrong, wrong).to.match(/^-ERR TLS client certificate not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE\r\n$/);
      } finally {
        await cmd(admin, 'CONFIG', 'SET', 'tls-auth-clients', 'yes');
      }
      expect(await refusal(clients.make({ tls: { ca } }))).to.match(/alert certificate required/);
    });

    it('serves HTTPS on the HTTP port with the same certificate and client-certificate rule', async () => {
      const ok = await httpsGet(broker.httpPort, '/health', { ca, cert: clientCert, key: clientKey });
      expect(ok.status).to.equal(200);
      expect(JSON.parse(ok.body)).to.deep.equal({ status: 'ok' });
      const err = await rejection(httpsGet(broker.httpPort, '/health', { ca }));
      expect(err.message).to.match(/alert certificate required/);
    });

    it('reloads the certificate on CONFIG SET (new connections get it), refuses bad files and keeps the one in use', async () => {
      const admin = clients.make(mtls());
      const mtlsOpts = { ca, cert: clientCert, key: clientKey };
      expect(await presentedName(broker.tlsPort, mtlsOpts)).to.equal('server');

      // rotate in place: new contents under the same names, then CONFIG SET the same names to reread them
      const next = pki.issue('server-next', 'server');
      fs.copyFileSync(next.cert, live.cert);
      fs.copyFileSync(next.key, live.key);
      expect(await presentedName(broker.tlsPort, mtlsOpts)).to.equal('server', 'not reread before CONFIG SET');
      expect(await cmd(admin, 'CONFIG', 'SET', 'tls-cert-file', live.cert, 'tls-key-file', live.key)).to.equal('OK');
      expect(await presentedName(broker.tlsPort, mtlsOpts)).to.equal('server-next');
      expect(await presentedName(broker.httpPort, mtlsOpts)).to.equal('server-next', 'HTTPS follows the reload');
      await waitFor(() => /TLS: reloaded/.test(broker.output()), 'the reload is logged');

      // a missing file: refused with the file named, nothing changes
      const missing = path.join(pki.dir, 'nope.crt');
      await expectError(cmd(admin, 'CONFIG', 'SET', 'tls-cert-file', missing), 'ERR', /tls-cert-file .*nope\.crt: cannot read.*kept/);
      expect(await cmd(admin, 'CONFIG', 'GET', 'tls-cert-file')).to.deep.equal(['tls-cert-file', live.cert]);
      // a certificate whose key is not the one configured
      await expectError(
        cmd(admin, 'CONFIG', 'SET', 'tls-cert-file', pki.serverCert),
        'ERR',
        /cannot use tls-cert-file .* with tls-key-file .*key values mismatch/,
      );
      // a file that is not PEM at all
      const junk = path.join(pki.dir, 'junk.pem');
      fs.writeFileSync(junk, 'not a certificate\n');
      await expectError(cmd(admin, 'CONFIG', 'SET', 'tls-ca-cert-file', junk), 'ERR', /tls-ca-cert-file .*junk\.pem: no PEM certificate/);
      // a refused change of several settings changes none of them
      await expectError(cmd(admin, 'CONFIG', 'SET', 'timeout', '77', 'tls-key-file', missing), 'ERR', /tls-key-file/);
      expect(await cmd(admin, 'CONFIG', 'GET', 'timeout')).to.deep.equal(['timeout', '0']);

      expect(await presentedName(broker.tlsPort, mtlsOpts)).to.equal('server-next');
      expect(await admin.ping()).to.equal('PONG', 'open TLS connections are untouched');
      // back to the first certificate by its own names (cert and key in one CONFIG SET)
      expect(await cmd(admin, 'CONFIG', 'SET', 'tls-cert-file', pki.serverCert, 'tls-key-file', pki.serverKey)).to.equal('OK');
      expect(await presentedName(broker.tlsPort, mtlsOpts)).to.equal('server');
    });
  });

  describe('start-up', function () {
    const cases: Array<[string, () => Record<string, string>, RegExp]> = [
      [
        'a missing certificate file',
        () => ({ 'tls-cert-file': path.join(pki.dir, 'missing.crt'), 'tls-key-file': pki.serverKey, 'tls-ca-cert-file': pki.caCert }),
        /TLS: tls-cert-file .*missing\.crt: cannot read: ENOENT/,
      ],
      ['no key file', () => ({ 'tls-cert-file': pki.serverCert, 'tls-ca-cert-file': pki.caCert }), /TLS: tls-key-file is not set/],
      [
        "a key that is not the certificate's",
        () => ({ 'tls-cert-file': pki.serverCert, 'tls-key-file': pki.clientKey, 'tls-ca-cert-file': pki.caCert }),
        /TLS: cannot use tls-cert-file .*key values mismatch/,
      ],
      [
        'client certificates required without a CA',
        () => ({ 'tls-cert-file': pki.serverCert, 'tls-key-file': pki.serverKey }),
        /TLS: tls-ca-cert-file is not set, and tls-auth-clients yes checks/,
      ],
    ];
    for (const [what, settings, message] of cases) {
      it(`refuses to start with ${what}, saying so`, async () => {
        const e = await rejection(startBroker({ 'tls-port': '-1', ...settings() }));
        expect(e.message).to.match(/exited \(1\) before ready/);
        expect(e.message, e.message).to.match(message);
      });
    }

    it('tls-http alone (no TLS RESP port) serves HTTPS; tls-auth-clients no needs no CA', async () => {
      const broker = await startBroker(
        { 'tls-http': 'yes', 'tls-cert-file': pki.serverCert, 'tls-key-file': pki.serverKey, 'tls-auth-clients': 'no' },
        { http: true },
      );
      try {
        expect(broker.tlsPort).to.equal(0);
        const res = await httpsGet(broker.httpPort, '/health', { ca });
        expect(res.status).to.equal(200);
      } finally {
        await broker.cleanup();
      }
    });
  });
});
