import type { Bytes, Job } from './job';
import { JobKey, idOfKey, jobKey } from './job-key';

/** a block holds the jobs of 1,024 consecutive number keys: 8 KB of slots */
const BLOCK_BITS = 10;
const BLOCK_SLOTS = 1 << BLOCK_BITS;
const SLOT_MASK = BLOCK_SLOTS - 1;
/** a block down to this many jobs hands them to the Map and goes (unless it is the newest one) */
const SPARSE = BLOCK_SLOTS >> 5;

class Block {
  readonly slots: Array<Job | undefined> = new Array<Job | undefined>(BLOCK_SLOTS);
  count = 0;
}

/**
 * Every job of the store by its id. A decimal id (job-key.ts) is found by
 * its number in a block of consecutive numbers: one 8-byte slot per job,
 * where a Map entry is ~30 bytes and a Map of a million grows by rehashing
 * everything (a third of a second of a snapshot load, and tens of MB of
 * dropped tables). Server-made ids are consecutive, so blocks fill up and
 * empty out in order. Other ids, and the few jobs left in a block that has
 * mostly emptied (so a long-lived job does not keep 8 KB alive), are in a
 * Map. The API speaks ids.
 */
export class JobIndex {
  private readonly blocks = new Map<number, Block>();
  private readonly others = new Map<JobKey, Job>();
  /** number keys in `others`: while 0, a miss in the blocks is a miss */
  private numbersInOthers = 0;
  /** the block of the highest number key set: not given up while sparse (it is still filling) */
  private newest = -1;
  private inBlocks = 0;

  get size(): number {
    return this.inBlocks + this.others.size;
  }

  get(id: Bytes): Job | undefined {
    return this.byKey(jobKey(id));
  }

  has(id: Bytes): boolean {
    return this.byKey(jobKey(id)) !== undefined;
  }

  byKey(key: JobKey): Job | undefined {
    if (typeof key !== 'number') return this.others.get(key);
    const job = this.blocks.get(key >>> BLOCK_BITS)?.slots[key & SLOT_MASK];
    return job !== undefined || this.numbersInOthers === 0 ? job : this.others.get(key);
  }

  /** adds the job under its id (replacing a job with that id, if any) */
  set(job: Job): void {
    const key = job.key;
    if (typeof key !== 'number') {
      this.others.set(key, job);
      return;
    }
    if (this.numbersInOthers > 0 && this.others.delete(key)) this.numbersInOthers--;
    const b = key >>> BLOCK_BITS;
    let block = this.blocks.get(b);
    if (block === undefined) this.blocks.set(b, (block = new Block()));
    if (b > this.newest) this.newest = b;
    const i = key & SLOT_MASK;
    if (block.slots[i] === undefined) {
      block.count++;
      this.inBlocks++;
    }
    block.slots[i] = job;
  }

  delete(job: Job): void {
    const key = job.key;
    if (typeof key !== 'number') {
      this.others.delete(key);
      return;
    }
    const b = key >>> BLOCK_BITS;
    const block = this.blocks.get(b);
    const i = key & SLOT_MASK;
    if (block === undefined || block.slots[i] !== job) {
      if (this.others.get(key) === job) {
        this.others.delete(key);
        this.numbersInOthers--;
      }
      return;
    }
    block.slots[i] = undefined;
    block.count--;
    this.inBlocks--;
    if (block.count <= SPARSE && b !== this.newest) this.giveUp(b, block);
  }

  /** moves a sparse block's jobs to the Map; a walk of values() may then meet some twice (see there) */
  private giveUp(b: number, block: Block): void {
    this.blocks.delete(b);
    this.inBlocks -= block.count;
    this.numbersInOthers += block.count;
    const base = b << BLOCK_BITS;
    const slots = block.slots;
    for (let i = 0; i < BLOCK_SLOTS; i++) {
      const job = slots[i];
      if (job !== undefined) this.others.set(base + i, job);
    }
    slots.fill(undefined); // a walk of values() in this block goes on in the Map instead
  }

  clear(): void {
    this.blocks.clear();
    this.others.clear();
    this.numbersInOthers = 0;
    this.newest = -1;
    this.inBlocks = 0;
  }

  /**
   * Every job: the blocks in the order they were made, each in key order
   * (for server-made ids: enqueue order), then the Map's. The walk may run
   * while jobs come and go, and still ends: it goes through the blocks of
   * its start only (a block made later holds only jobs added later: a job
   * never moves into a block), then the Map in insertion order. So a job
   * there from its start to its end is met, twice only if its block was
   * given up meanwhile after it was met; one added meanwhile may or may not
   * be (the snapshot writer knows both kinds from its `done` set).
   */
  values(): IterableIterator<Job> {
    return this.walk([...this.blocks.values()]);
  }

  private *walk(blocks: Block[]): IterableIterator<Job> {
    for (const block of blocks) {
      const slots = block.slots;
      for (let i = 0; i < BLOCK_SLOTS; i++) {
        const job = slots[i];
        if (job !== undefined) yield job;
      }
    }
    yield* this.others.values();
  }

  *keys(): IterableIterator<Bytes> {
    for (const job of this.values()) yield idOfKey(job.key);
  }
}
