/**
 * The thread behind checkFramesInThread (frame-check.ts): walks the file's
 * frames, checking lengths and CRCs, and posts how the walk ended.
 */
import { parentPort, workerData } from 'worker_threads';
import { walkFile } from './file-walker';

walkFile((workerData as { path: string }).path, () => {}).then(
  (walk) => parentPort!.postMessage({ end: walk.end }),
  (e: Error) => parentPort!.postMessage({ error: e.message }),
);
