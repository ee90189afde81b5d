import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * redis-server cannot report an ephemeral port (its port 0 means no TCP), so
 * it is given a random one and started again elsewhere if that one is taken;
 * INFO's process_id tells that the server answering is the one we started.
 */
export async function startRedisServer(extra: string[]): Promise<{ port: number; proc: ChildProcess; dir: string }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-bench-'));
    const proc = spawn('redis-server', ['--port', String(port), '--dir', dir, '--save', '', ...extra], { stdio: 'ignore' });
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        const info = execFileSync('redis-cli', ['-p', String(port), 'INFO', 'server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        if (new RegExp(`^process_id:${proc.pid}\\r?$`, 'm').test(info)) return { port, proc, dir };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
  }
  throw new Error('redis-server did not start');
}
