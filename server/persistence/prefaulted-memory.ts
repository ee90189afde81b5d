import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from 'worker_threads';
import { CHUNK_BYTES, payloads } from '../engine/payload-arena';

/** loads of this many bytes of files and more get the helper thread */
const PREFAULT_FROM = 16 * 1024 * 1024;

/**
 * runs a load of `fileBytes` of snapshot or log with the payload arena's new
 * chunks taken from PrefaultedMemory when the load is large enough to gain;
 * prefaultedBytes: the memory it took from there (null: no helper)
 */
export async function withPrefaultedArena<T>(
  fileBytes: number,
  load: () => Promise<T>,
  from = PREFAULT_FROM,
): Promise<{ value: T; prefaultedBytes: number | null }> {
  const memory = fileBytes >= from ? startHelper() : null;
  if (memory === null) return { value: await load(), prefaultedBytes: null };
  const before = payloads.useChunkMemory(() => memory.take());
  try {
    return { value: await load(), prefaultedBytes: memory.chunksTaken * CHUNK_BYTES };
  } finally {
    payloads.useChunkMemory(before);
    memory.close();
  }
}

function startHelper(): PrefaultedMemory | null {
  try {
    return new PrefaultedMemory(CHUNK_BYTES);
  } catch {
    return null; // no thread to be had (resource limits): load as without one
  }
}

/**
 * Memory for the payload arena's chunks that a helper thread has already
 * touched, for the length of a large load.
 *
 * The first write to each fresh 4 KiB page costs a page fault; on the
 * virtual machines measured that is 12-16 µs a page, so the ~100 MB of
 * payload bytes of a million-job snapshot cost ~0.6 s of faults on the
 * loading thread (perf-step-14-restart.md). Here a worker thread allocates
 * SharedArrayBuffer blocks and writes to every page of each, on the other
 * core, a few blocks ahead of the load; the load slices them into chunks.
 * take() never waits: with no block ready it answers null and the arena
 * allocates as usual, so a slow helper costs nothing but its own thread.
 *
 * A block is freed when the last chunk cut from it is, so memory can stay
 * held a little longer than with one allocation per chunk; blocks are
 * kept small (2 MiB, 32 chunks) for that reason.
 */
export class PrefaultedMemory {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ready: Buffer[] = [];
  private asked = 0;
  private closed = false;
  /** chunks handed out so far */
  chunksTaken = 0;

  constructor(
    private readonly chunkBytes: number,
    /** blocks the helper stays ahead by */
    private readonly ahead = 4,
    private readonly blockBytes = 2 * 1024 * 1024,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(HELPER, { eval: true, workerData: { port: port2, blockBytes }, transferList: [port2] });
    this.worker.unref();
    this.worker.on('error', () => this.close()); // it only ever speeds things up: without it, chunks are allocated as before
    this.askFor(ahead);
  }

  /** a chunk's worth of touched memory, or null if none is ready */
  take(): Buffer | null {
    if (this.ready.length === 0) {
      if (this.closed) return null;
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) return null;
      this.asked--;
      const block = m.message as SharedArrayBuffer;
      for (let at = block.byteLength - this.chunkBytes; at >= 0; at -= this.chunkBytes) this.ready.push(Buffer.from(block, at, this.chunkBytes));
      this.askFor(this.ahead - this.asked);
    }
    const chunk = this.ready.pop();
    if (chunk === undefined) return null;
    this.chunksTaken++;
    return chunk;
  }

  /** stops the helper; chunks not taken are left to the garbage collector */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready.length = 0;
    this.port.close();
    void this.worker.terminate();
  }

  private askFor(n: number): void {
    if (n <= 0 || this.closed) return;
    this.asked += n;
    this.port.postMessage(n);
  }
}

/** the helper: for each block asked for, allocate it, write one byte per page, send it */
const HELPER = `
const { workerData } = require('worker_threads');
const { port, blockBytes } = workerData;
port.on('message', (n) => {
  for (let k = 0; k < n; k++) {
    const block = new SharedArrayBuffer(blockBytes);
    const bytes = new Uint8Array(block);
    for (let i = 0; i < blockBytes; i += 4096) bytes[i] = 0;
    port.postMessage(block);
  }
});
`;
