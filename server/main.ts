import * as path from 'path';
import { ConfigError, helpText, loadSettings } from '../config/settings';
import { AclFileError } from './acl/acl';
import { Broker } from './broker';
import { HttpListenError } from './http/http-server';
import { createLogger } from './log';
import { TlsError } from './tls/tls-credentials';
import { DataDirError, DirLock, ensureDataDir, lockDataDir, openPersistence } from './persistence';

function fail(message: string): never {
  process.stderr.write(`resq-server: ${message}\n`);
  process.exit(1);
}

/** bin/resq-server: parse settings, listen, load the data dir, serve. */
export async function main(argv: string[]): Promise<void> {
  let loaded;
  try {
    loaded = loadSettings(argv);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  if (loaded.help) {
    process.stdout.write(helpText());
    return;
  }
  const settings = loaded.settings;
  const logger = createLogger(settings.str('log-level'));
  const log = logger.log;
  settings.onChange((name, value) => name === 'log-level' && logger.setLevel(String(value)));
  const dir = path.resolve(settings.str('dir'));
  // one broker per data directory: a second one would lose acknowledged jobs
  let lock: DirLock;
  try {
    ensureDataDir(dir);
    lock = lockDataDir(dir);
  } catch (e) {
    if (e instanceof DataDirError) fail(e.message);
    throw e;
  }
  process.on('exit', () => lock.release());
  if (lock.tookOverFrom !== null) log('info', `took over ${lock.file} left by pid ${lock.tookOverFrom}, which is no longer running`);

  const broker = new Broker(settings, log);
  try {
    broker.acl.loadAtStartup();
  } catch (e) {
    if (e instanceof AclFileError) fail(e.message);
    throw e;
  }
  try {
    await broker.listen();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err instanceof HttpListenError) fail(err.message);
    if (err instanceof TlsError) fail(`TLS: ${err.message}`);
    fail(
      err.code === 'EADDRINUSE'
        ? `port ${settings.int('port')} is already in use`
        : `cannot listen on ${settings.str('bind')}:${settings.int('port')}: ${err.message}`,
    );
  }
  log('info', `listening on ${settings.str('bind')}:${broker.port}; loading ${dir}`, { port: broker.port });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void broker.shutdown('save', sig));

  try {
    const { persistence, report } = await openPersistence(broker.engine.store, {
      dir,
      appendfsync: () => settings.str('appendfsync') as 'always' | 'everysec' | 'no',
      writeAhead: () => settings.str('lease-durability') === 'written',
      segmentSize: () => settings.int('segment-size'),
      snapshotLogSize: () => settings.int('snapshot-log-size'),
      snapshotSlice: () => settings.int('snapshot-slice'),
      repair: settings.bool('repair'),
      log,
    });
    broker.attachPersistence(persistence);
    broker.finishLoading();
    const ahead =
      report.prefaultedBytes !== undefined ? `; ${Math.round(report.prefaultedBytes / 1048576)} MiB of payload memory touched ahead by a helper thread` : '';
    log('info', `loaded ${report.jobs} jobs (${report.records} log records${report.snapshotLoaded ? ', snapshot' : ''}) in ${report.ms} ms${ahead}`);
  } catch (e) {
    fail(`cannot load ${dir}: ${(e as Error).message}`);
  }
  process.stdout.write(
    `resq ready pid=${process.pid} bind=${settings.str('bind')} port=${broker.port} http-port=${broker.http?.port ?? 0} tls-port=${broker.clients.tlsPort} dir=${dir}\n`,
  );
}
