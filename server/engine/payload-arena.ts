/**
 * Payload bytes kept outside the JS heap.
 *
 * A million queued jobs used to be a million payload strings: about 20 bytes
 * of string header each, and, worse, a million more objects for the garbage
 * collector to copy through the young generation on every load and every
 * burst of ENQUEUEs (perf-step-13-payload-arena.md). Here a payload of up
 * to MAX_STORED bytes is copied into a slot of a 64 KiB chunk, and the job
 * keeps a small integer (a "ref") instead of a string.
 *
 * Slots come in size classes (multiples of 8 bytes up to 256, then steps of
 * about 1/8); each chunk holds slots of one class, and a freed slot goes on
 * its chunk's free list, so a slot is reused by the next payload of its
 * class and memory follows the peak of live payloads, not the number of
 * jobs ever seen. A chunk whose last slot is freed is handed back to the
 * garbage collector, except the one chunk per class kept for the next
 * allocation (so a steady trickle does not allocate a chunk per job).
 *
 * Ownership is explicit: the store frees a job's slot when it drops the job
 * (Job.releasePayload); nothing else frees. Pure: no I/O, no clock.
 */

/** Buffer's undocumented but long-standing latin1 fast paths (reply-writer.ts uses them too) */
interface Latin1Buffer extends Buffer {
  latin1Slice?: (start: number, end: number) => string;
  latin1Write?: (s: string, offset: number, length: number) => number;
}

/** bytes of memory per chunk */
export const CHUNK_BYTES = 64 * 1024;
/** slot sizes and offsets are multiples of this, so an offset fits in 13 bits */
const UNIT = 8;
const UNITS_PER_CHUNK = CHUNK_BYTES / UNIT;
/** each slot starts with its payload's length, little-endian */
const LENGTH_BYTES = 2;
/** larger payloads stay JS strings: beside a few KiB a string's header is nothing */
export const MAX_STORED = 4096 - LENGTH_BYTES;
/** refs stay below 2^31 (a small integer in V8, no box) */
const MAX_CHUNKS = 2 ** 31 / UNITS_PER_CHUNK;
/** storeBytes copies payloads up to this long byte by byte (measured: bench/results/perf-step-14-restart.md) */
const COPY_IN_JS = 128;
/** written in a free slot: the end of its chunk's free list */
const NO_SLOT = -1;

/** the slot sizes: every multiple of 8 up to 256 (small payloads waste at most 7 bytes), then about 1/8 apart up to 4096 */
const SLOT_SIZES: number[] = [];
for (let s = UNIT; s <= 256; s += UNIT) SLOT_SIZES.push(s);
for (let s = 256; s < MAX_STORED + LENGTH_BYTES;) {
  s = Math.min(MAX_STORED + LENGTH_BYTES, Math.ceil((s * 1.125) / UNIT) * UNIT);
  SLOT_SIZES.push(s);
}
export const SIZE_CLASSES = SLOT_SIZES.length;
/** the class of a slot of `units` units: CLASS_OF_UNITS[units] */
const CLASS_OF_UNITS = new Uint8Array((MAX_STORED + LENGTH_BYTES) / UNIT + 1);
for (let u = 0, c = 0; u < CLASS_OF_UNITS.length; u++) {
  while (SLOT_SIZES[c] < u * UNIT) c++;
  CLASS_OF_UNITS[u] = c;
}

/**
 * Where new chunks get their memory when not from a fresh allocation: a
 * snapshot load installs a source of memory that another thread has already
 * touched (prefaulted-memory.ts); it answers null when it has none ready.
 */
export type ChunkMemory = () => Buffer | null;

class Chunk {
  /** first free slot (in units), NO_SLOT = none; each free slot holds the next */
  freeHead = NO_SLOT;
  /** first never-used unit */
  bump = 0;
  live = 0;
  /** links in its class's list of chunks with room */
  prev: Chunk | null = null;
  next: Chunk | null = null;
  linked = false;
  constructor(
    readonly id: number,
    readonly slotUnits: number,
    readonly cls: number,
    readonly buf: Latin1Buffer,
  ) {}

  get hasRoom(): boolean {
    return this.freeHead !== NO_SLOT || (this.bump + this.slotUnits) * UNIT <= CHUNK_BYTES;
  }
}

export interface ArenaStats {
  /** bytes of the chunks held */
  bytes: number;
  /** bytes of the slots in use */
  used: number;
  /** payloads stored */
  payloads: number;
  chunks: number;
}

export class PayloadArena {
  private readonly chunks: Array<Chunk | null> = [];
  /** ids of released chunks, for reuse (refs stay small) */
  private readonly freeIds: number[] = [];
  /** per class, the chunks with room, the one to fill first at the head */
  private readonly withRoom: Array<Chunk | null> = SLOT_SIZES.map(() => null);
  private chunkMemory: ChunkMemory | null = null;
  private usedBytes = 0;
  private payloadCount = 0;
  private chunkCount = 0;

  /** a ref for the payload's bytes, or the string itself when it is empty or too large to store here */
  storeString(s: string): number | string {
    const len = s.length;
    if (len === 0 || len > MAX_STORED) return s;
    const ref = this.alloc(len);
    if (ref < 0) return s;
    const c = this.chunkOf(ref);
    const at = offsetOf(ref) + LENGTH_BYTES;
    if (c.buf.latin1Write) c.buf.latin1Write(s, at, len);
    else c.buf.write(s, at, len, 'latin1');
    return ref;
  }

  /** as storeString, from bytes (a snapshot being read): no string made on the way */
  storeBytes(src: Buffer, start: number, end: number): number | string {
    const len = end - start;
    if (len === 0 || len > MAX_STORED) return latin1(src, start, end);
    const ref = this.alloc(len);
    if (ref < 0) return latin1(src, start, end);
    const dst = this.chunkOf(ref).buf;
    const to = offsetOf(ref) + LENGTH_BYTES;
    // Buffer#copy of a range makes a Uint8Array view of it (~100 bytes of young-generation garbage per
    // payload, which kept a snapshot load's pages from being promoted whole); short ones are copied here
    if (len <= COPY_IN_JS) for (let i = 0; i < len; i++) dst[to + i] = src[start + i];
    else src.copy(dst, to, start, end);
    return ref;
  }

  /** the payload as a byte string */
  read(ref: number): string {
    const c = this.chunkOf(ref);
    const at = offsetOf(ref);
    return latin1(c.buf, at + LENGTH_BYTES, at + LENGTH_BYTES + lengthAt(c.buf, at));
  }

  /** the first `n` bytes of the payload as a byte string */
  head(ref: number, n: number): string {
    const c = this.chunkOf(ref);
    const at = offsetOf(ref);
    return latin1(c.buf, at + LENGTH_BYTES, at + LENGTH_BYTES + Math.min(n, lengthAt(c.buf, at)));
  }

  /** a view of the payload's bytes: valid until the slot is freed, so copy it before anything can drop the job */
  view(ref: number): Buffer {
    const c = this.chunkOf(ref);
    const at = offsetOf(ref);
    return c.buf.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + lengthAt(c.buf, at));
  }

  size(ref: number): number {
    return lengthAt(this.chunkOf(ref).buf, offsetOf(ref));
  }

  free(ref: number): void {
    const c = this.chunkOf(ref);
    const unit = ref % UNITS_PER_CHUNK;
    c.buf.writeInt32LE(c.freeHead, unit * UNIT);
    c.freeHead = unit;
    c.live--;
    this.usedBytes -= c.slotUnits * UNIT;
    this.payloadCount--;
    if (c.live === 0 && (c.prev !== null || c.next !== null || !c.linked)) {
      // empty, and not the last chunk of its class with room: give its memory back
      if (c.linked) this.unlink(c);
      this.chunks[c.id] = null;
      this.freeIds.push(c.id);
      this.chunkCount--;
    } else if (!c.linked) {
      this.linkFirst(c);
    }
  }

  /** set (or clear, with null) where new chunks get their memory; returns the source it replaces */
  useChunkMemory(source: ChunkMemory | null): ChunkMemory | null {
    const before = this.chunkMemory;
    this.chunkMemory = source;
    return before;
  }

  stats(): ArenaStats {
    return { bytes: this.chunkCount * CHUNK_BYTES, used: this.usedBytes, payloads: this.payloadCount, chunks: this.chunkCount };
  }

  /** a slot for `len` payload bytes with its length written, or -1 when the arena has no more chunk ids */
  private alloc(len: number): number {
    const units = Math.ceil((len + LENGTH_BYTES) / UNIT);
    const cls = CLASS_OF_UNITS[units];
    let c = this.withRoom[cls];
    if (c === null) {
      c = this.newChunk(cls);
      if (c === null) return -1;
    }
    let unit: number;
    if (c.freeHead !== NO_SLOT) {
      unit = c.freeHead;
      c.freeHead = c.buf.readInt32LE(unit * UNIT);
    } else {
      unit = c.bump;
      c.bump += c.slotUnits;
    }
    c.live++;
    this.usedBytes += c.slotUnits * UNIT;
    this.payloadCount++;
    if (!c.hasRoom) this.unlink(c);
    const at = unit * UNIT;
    c.buf[at] = len & 0xff;
    c.buf[at + 1] = len >>> 8;
    return c.id * UNITS_PER_CHUNK + unit;
  }

  private newChunk(cls: number): Chunk | null {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.chunks.length;
    if (id >= MAX_CHUNKS) return null;
    const c = new Chunk(id, SLOT_SIZES[cls] / UNIT, cls, (this.chunkMemory !== null ? this.chunkMemory() : null) ?? Buffer.allocUnsafeSlow(CHUNK_BYTES));
    if (id === this.chunks.length) this.chunks.push(c);
    else this.chunks[id] = c;
    this.chunkCount++;
    this.linkFirst(c);
    return c;
  }

  private chunkOf(ref: number): Chunk {
    const c = this.chunks[Math.floor(ref / UNITS_PER_CHUNK)];
    if (!c) throw new Error(`payload ref ${ref} is not in the arena`);
    return c;
  }

  private linkFirst(c: Chunk): void {
    const head = this.withRoom[c.cls];
    c.prev = null;
    c.next = head;
    if (head) head.prev = c;
    this.withRoom[c.cls] = c;
    c.linked = true;
  }

  private unlink(c: Chunk): void {
    if (c.prev) c.prev.next = c.next;
    else this.withRoom[c.cls] = c.next;
    if (c.next) c.next.prev = c.prev;
    c.prev = c.next = null;
    c.linked = false;
  }
}

function offsetOf(ref: number): number {
  return (ref % UNITS_PER_CHUNK) * UNIT;
}

function lengthAt(buf: Buffer, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

function latin1(buf: Latin1Buffer, start: number, end: number): string {
  return buf.latin1Slice ? buf.latin1Slice(start, end) : buf.toString('latin1', start, end);
}

/**
 * The process's arena: jobs are created in the engine, the snapshot reader
 * and tests, and a ref means the same slot wherever the job goes.
 */
export const payloads = new PayloadArena();
