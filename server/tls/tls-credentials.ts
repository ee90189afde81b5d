import * as fs from 'fs';
import * as tls from 'tls';
import { ConfigError, Settings } from '../../config/settings';
import type { SettingValue } from '../../config/schema';
import type { Logger } from '../log';

/** The settings a TLS listener is built from; CONFIG SET of any of them reloads the credentials. */
const TLS_SETTINGS: readonly string[] = ['tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'tls-auth-clients'];

/**
 * TLS cannot start: a file is missing, unreadable or not PEM, a key does not
 * match its certificate, or the TLS port cannot be bound. The broker does
 * not start; the message says which.
 */
export class TlsError extends Error {
  override name = 'TlsError';
}

/** What a TLS listener is created with, and switched to on a reload. */
export interface TlsServerOptions {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  /** ask the client for a certificate (tls-auth-clients yes or optional) */
  requestCert: boolean;
  /** refuse the handshake without a valid client certificate (tls-auth-clients yes) */
  rejectUnauthorized: boolean;
}

/** What listeners see of the credentials: the options to start with, and a registry for reloads. */
export interface TlsSource {
  serverOptions(): TlsServerOptions;
  /** `server` follows every reload from now on */
  attach(server: tls.Server): void;
}

function readPem(setting: string, file: string): Buffer {
  if (file === '') throw new TlsError(`${setting} is not set (TLS needs a certificate and its key)`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new TlsError(`${setting} ${file}: cannot read: ${(e as Error).message}`);
  }
}

/** Reads and checks the TLS files named by `get` (the current or the proposed settings). */
export function loadTlsOptions(get: (name: string) => SettingValue): TlsServerOptions {
  const auth = String(get('tls-auth-clients'));
  const certFile = String(get('tls-cert-file'));
  const keyFile = String(get('tls-key-file'));
  const caFile = String(get('tls-ca-cert-file'));
  const cert = readPem('tls-cert-file', certFile);
  const key = readPem('tls-key-file', keyFile);
  if (auth !== 'no' && caFile === '') {
    throw new TlsError(`tls-ca-cert-file is not set, and tls-auth-clients ${auth} checks client certificates against it (set it, or set tls-auth-clients no)`);
  }
  const ca = caFile === '' ? undefined : readPem('tls-ca-cert-file', caFile);
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TlsError(`tls-ca-cert-file ${caFile}: no PEM certificate in it`);
  }
  const options: TlsServerOptions = { cert, key, ca, requestCert: auth !== 'no', rejectUnauthorized: auth === 'yes' };
  try {
    // builds what a listener would: a certificate that is not PEM or a key that does not match it fails here
    tls.createSecureContext(options);
  } catch (e) {
    throw new TlsError(`cannot use tls-cert-file ${certFile} with tls-key-file ${keyFile}: ${(e as Error).message}`);
  }
  return options;
}

/**
 * The broker's TLS credentials, shared by the TLS RESP listener and the
 * HTTPS listener. Loaded at start-up (a TlsError stops the broker);
 * a CONFIG SET of a TLS setting loads the new files first and refuses the
 * change if they do not work, so the listeners keep the old ones; otherwise
 * every listener switches to them for new connections (open ones keep the
 * session they have). Setting a file to its own name rereads it.
 */
export class TlsCredentials implements TlsSource {
  private current: TlsServerOptions;
  /** loaded by the check of a CONFIG SET, applied once its values are set */
  private pending: TlsServerOptions | null = null;
  private readonly servers: tls.Server[] = [];

  constructor(settings: Settings, log: Logger) {
    this.current = loadTlsOptions((name) => settings.get(name)!);
    settings.addCheck((next, changed) => {
      if (!TLS_SETTINGS.some((name) => changed.has(name))) return;
      try {
        this.pending = loadTlsOptions(next);
      } catch (e) {
        if (e instanceof TlsError) throw new ConfigError(`CONFIG SET: ${e.message}; the TLS certificate in use is kept`);
        throw e;
      }
    });
    settings.onChange((name) => {
      if (!TLS_SETTINGS.includes(name) || this.pending === null) return;
      this.apply(this.pending);
      this.pending = null;
      log('info', `TLS: reloaded ${settings.str('tls-cert-file')} (client certificates: ${settings.str('tls-auth-clients')})`);
    });
  }

  serverOptions(): TlsServerOptions {
    return this.current;
  }

  attach(server: tls.Server): void {
    this.servers.push(server);
  }

  private apply(options: TlsServerOptions): void {
    this.current = options;
    for (const server of this.servers) {
      server.setSecureContext(options);
      // setSecureContext leaves these alone; node reads them from the server for each new connection
      const s = server as tls.Server & { requestCert: boolean; rejectUnauthorized: boolean };
      s.requestCert = options.requestCert;
      s.rejectUnauthorized = options.rejectUnauthorized;
    }
  }
}

/** TLS is in use when the TLS RESP port or HTTPS is on; only then are the files loaded. */
export function tlsWanted(settings: Settings): boolean {
  return settings.int('tls-port') !== 0 || settings.bool('tls-http');
}
