import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const BIN = path.resolve(__dirname, '../../../bin/resq-server');

/** A real broker process on an ephemeral port, for tests. */
export interface BrokerProcess {
  /** the RESP port, read from the ready line (the broker binds port 0 unless told otherwise) */
  port: number;
  /** the HTTP port from the ready line; 0 when the listener is off (the default here, see StartOptions.http) */
  readonly httpPort: number;
  /** the TLS port from the ready line; 0 when TLS is off (pass `'tls-port': '-1'` for any free port) */
  readonly tlsPort: number;
  dir: string;
  readonly proc: ChildProcess;
  /** everything the process printed so far (stdout + stderr) */
  output(): string;
  /** SIGTERM, wait for exit; resolves with the exit code */
  stop(): Promise<number | null>;
  /** SIGKILL, wait for exit */
  kill(): Promise<void>;
  /** start again on the same dir and ports (after stop or kill) */
  restart(extra?: Record<string, string>): Promise<void>;
  /** kill if running and remove the data dir (unless it was given) */
  cleanup(): Promise<void>;
}

export interface StartOptions {
  dir?: string;
  port?: number;
  /** extra args appended verbatim, e.g. ['--config', file] */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** start the HTTP listener on the broker's default (any free port, since the RESP port is 0); off otherwise */
  http?: boolean;
}

/** the ports on the "resq ready ... port=P http-port=H tls-port=T ..." line, or null while it has not been printed */
export function readyPorts(output: string): { port: number; httpPort: number; tlsPort: number } | null {
  const m = /resq ready .*? port=(\d+) http-port=(\d+)(?: tls-port=(\d+))?/.exec(output);
  return m ? { port: Number(m[1]), httpPort: Number(m[2]), tlsPort: Number(m[3] ?? 0) } : null;
}

function waitExit(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

/** settings are passed as --name value flags */
export async function startBroker(settings: Record<string, string> = {}, opts: StartOptions = {}): Promise<BrokerProcess> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'resq-test-'));
  let port = opts.port ?? 0;
  // null: the broker's default (follows --port); after the first start, the port it reported, so a restart gets the same one
  let httpPort: number | null = opts.http ? null : 0;
  let tlsPort = 0;
  let current = settings;
  let proc!: ChildProcess;
  let out = '';

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const args = ['--port', String(port), '--dir', dir];
      if (httpPort !== null) args.push('--http-port', String(httpPort));
      for (const [k, v] of Object.entries(current)) args.push(`--${k}`, v);
      args.push(...(opts.args ?? []));
      if (tlsPort > 0) args.push('--tls-port', String(tlsPort)); // a restart keeps the TLS port it had
      proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
      let settled = false;
      const from = out.length; // this launch's output: after a restart, the earlier ready line must not count
      const onData = (d: Buffer) => {
        out += d.toString();
        const ready = readyPorts(out.slice(from));
        if (ready && !settled) {
          settled = true;
          port = ready.port;
          httpPort = ready.httpPort;
          tlsPort = ready.tlsPort;
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code, sig) => {
        if (!settled) {
          settled = true;
          reject(new Error(`resq-server exited (${code ?? sig}) before ready:\n${out}`));
        }
      });
    });

  try {
    await launch();
  } catch (e) {
    // a broker that never got ready (a test of a refused start-up) leaves no temp dir behind
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const handle: BrokerProcess = {
    get port() {
      return port;
    },
    set port(p: number) {
      port = p;
    },
    get httpPort() {
      return httpPort ?? 0;
    },
    get tlsPort() {
      return tlsPort;
    },
    dir,
    get proc() {
      return proc;
    },
    output: () => out,
    async stop() {
      proc.kill('SIGTERM');
      return waitExit(proc);
    },
    async kill() {
      proc.kill('SIGKILL');
      await waitExit(proc);
    },
    async restart(extra?: Record<string, string>) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await waitExit(proc);
      }
      if (extra) current = { ...current, ...extra };
      await launch();
    },
    async cleanup() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await waitExit(proc);
      }
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  } as BrokerProcess;
  return handle;
}
