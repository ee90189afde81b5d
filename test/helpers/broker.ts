import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as net from 'net';

const BIN = path.resolve(__dirname, '../../../bin/resq-server');

/** A real broker process on an ephemeral port, for tests. */
export interface BrokerProcess {
  port: number;
  dir: string;
  readonly proc: ChildProcess;
  /** everything the process printed so far (stdout + stderr) */
  output(): string;
  /** SIGTERM, wait for exit; resolves with the exit code */
  stop(): Promise<number | null>;
  /** SIGKILL, wait for exit */
  kill(): Promise<void>;
  /** start again on the same dir and port (after stop or kill) */
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
  let current = settings;
  let proc!: ChildProcess;
  let out = '';

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      // no HTTP listener unless a test asks for one: test brokers would all race for port 7378
      const args = ['--port', String(port), '--dir', dir, '--http-port', '0'];
      for (const [k, v] of Object.entries(current)) args.push(`--${k}`, v);
      args.push(...(opts.args ?? []));
      proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
      let settled = false;
      const from = out.length; // after a restart, only this process's "ready" line counts
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /resq ready .*port=(\d+)/.exec(out.slice(from));
        if (m && !settled) {
          settled = true;
          port = Number(m[1]);
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

  await launch();
  const handle: BrokerProcess = {
    get port() {
      return port;
    },
    set port(p: number) {
      port = p;
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

/** a port nothing listens on now (bind 0, read it, close), e.g. for --http-port */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
