import { expect } from 'chai';
import fc from 'fast-check';
import { DeadlineHeap } from '../server/engine/deadline-heap';
import type { Job } from '../server/engine/job';

/** the two fields the heap uses; a real Job has them too */
interface Slot {
  heapIndex: number;
  deadline: number;
  name: number;
}
const slot = (name: number): Slot => ({ heapIndex: -1, deadline: 0, name });
const asJob = (s: Slot) => s as unknown as Job;

type Op = { kind: 'set'; job: number; at: number } | { kind: 'remove'; job: number } | { kind: 'pop' };

describe('deadline heap (pure)', () => {
  it('peek is always a job with the earliest deadline, under random set/move/remove (past the first key block)', () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), job: fc.nat(3000), at: fc.integer({ min: 1, max: 5000 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), job: fc.nat(3000) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'pop' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op as fc.Arbitrary<Op>, { minLength: 1, maxLength: 4000, size: 'large' }), (ops) => {
        const heap = new DeadlineHeap();
        const jobs = new Map<number, Slot>();
        const model = new Map<number, number>(); // job -> deadline, for jobs in the heap
        for (const o of ops) {
          if (o.kind === 'pop') {
            const top = heap.peek() as unknown as Slot | undefined;
            if (top) {
              heap.remove(asJob(top));
              model.delete(top.name);
            }
          } else {
            let s = jobs.get(o.job);
            if (!s) jobs.set(o.job, (s = slot(o.job)));
            if (o.kind === 'set') {
              heap.set(asJob(s), o.at);
              model.set(o.job, o.at);
            } else {
              heap.remove(asJob(s));
              model.delete(o.job);
              expect(s.heapIndex).to.equal(-1);
            }
          }
          expect(heap.size).to.equal(model.size);
          const top = heap.peek() as unknown as Slot | undefined;
          if (model.size === 0) expect(top).to.equal(undefined);
          else {
            const min = Math.min(...model.values());
            expect(top!.deadline).to.equal(min);
            expect(model.get(top!.name)).to.equal(min);
          }
        }
        // draining gives the deadlines in order, each job once
        const drained: number[] = [];
        for (let top = heap.peek(); top; top = heap.peek()) {
          drained.push(top.deadline);
          heap.remove(top);
        }
        expect(drained).to.deep.equal([...model.values()].sort((a, b) => a - b));
      }),
      { numRuns: 25 },
    );
  });

  it('keeps order across key-array growth: 5,000 jobs in random order drain sorted, moved ones at their new deadline', () => {
    const heap = new DeadlineHeap();
    const slots = Array.from({ length: 5000 }, (_, i) => slot(i));
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 1e6;
    for (const s of slots) heap.set(asJob(s), Math.floor(rand()));
    for (let i = 0; i < 5000; i += 3) heap.set(asJob(slots[i]), Math.floor(rand())); // moves
    for (let i = 1; i < 5000; i += 7) heap.remove(asJob(slots[i]));
    const expected = slots
      .filter((s) => s.heapIndex >= 0)
      .map((s) => s.deadline)
      .sort((a, b) => a - b);
    const drained: number[] = [];
    for (let top = heap.peek(); top; top = heap.peek()) {
      drained.push(top.deadline);
      heap.remove(top);
    }
    expect(drained).to.deep.equal(expected);
  });
});
