import * as path from 'path';
import { Worker } from 'worker_threads';
import { walkFile } from './file-walker';
import { FrameEnd } from './record-codec';

/**
 * A second walk over a file's frames that checks their CRCs on another
 * thread, so that a large snapshot load spends its own thread on decoding
 * only (~150 ms of CRCs of a million-job snapshot, perf-step-14-restart.md).
 * The loader walks with checkCrc false and must not use what it read
 * before this answers: firstDamage() then says where the first bad frame
 * is, if any. Answers the same as a CRC-checking walk would (the same
 * walkFile, the same file); if the thread cannot be had or fails, it walks
 * on this thread instead.
 */
export class FrameCheck {
  private readonly verdict: Promise<FrameEnd>;

  constructor(private readonly file: string) {
    this.verdict = this.inThread().catch(() => this.here());
  }

  /**
   * how the checking walk ended if it found damage before or at `readTo`
   * (the offset where the loader's own walk stopped), else null
   */
  async damageBefore(readTo: number): Promise<(FrameEnd & { kind: 'torn' | 'corrupt' }) | null> {
    const end = await this.verdict;
    return end.kind !== 'clean' && end.offset <= readTo ? end : null;
  }

  private inThread(): Promise<FrameEnd> {
    return new Promise<FrameEnd>((resolve, reject) => {
      const worker = new Worker(path.join(__dirname, 'frame-check-worker.js'), { workerData: { path: this.file } });
      worker.unref();
      worker.once('message', (m: { end?: FrameEnd; error?: string }) => (m.end ? resolve(m.end) : reject(new Error(m.error))));
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('frame check thread exited without an answer')));
    });
  }

  private async here(): Promise<FrameEnd> {
    return (await walkFile(this.file, () => {})).end;
  }
}
