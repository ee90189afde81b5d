import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A throwaway PKI made with the openssl command line: file paths and their contents. */
export interface TestPki {
  dir: string;
  /** the CA that signs everything below */
  caCert: string;
  /** server certificate for localhost and 127.0.0.1 (subjectAltName), and its key */
  serverCert: string;
  serverKey: string;
  /** client certificate signed by the CA (clientAuth), and its key */
  clientCert: string;
  clientKey: string;
  /** reads a file of this PKI */
  pem(file: string): Buffer;
  /** issues another certificate signed by the CA (or by `issuer`, a CA made with newCa) */
  issue(name: string, kind: 'server' | 'client', issuer?: { cert: string; key: string }): { cert: string; key: string };
  /** a second, unrelated CA */
  newCa(name: string): { cert: string; key: string };
  cleanup(): void;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// P-256 keys: as good as RSA here and far quicker to generate
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The same commands as README "Security", in a temp dir. */
export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resq-pki-'));
  const at = (f: string) => path.join(dir, f);

  const newCa = (name: string) => {
    openssl(dir, ['req', '-x509', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=resq test ${name}`]);
    return { cert: at(`${name}.crt`), key: at(`${name}.key`) };
  };
  const ca = newCa('ca');
  const issue = (name: string, kind: 'server' | 'client', issuer = ca) => {
    const ext = kind === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n';
    fs.writeFileSync(at(`${name}.ext`), ext);
    openssl(dir, ['req', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      issuer.cert,
      '-CAkey',
      issuer.key,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]);
    return { cert: at(`${name}.crt`), key: at(`${name}.key`) };
  };
  const server = issue('server', 'server');
  const client = issue('client', 'client');
  return {
    dir,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    pem: (file) => fs.readFileSync(file),
    issue,
    newCa,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
