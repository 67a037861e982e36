import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../sim/des/event-queue.ts";

describe("EventQueue", () => {
  it("pops any interleaving of pushes and pops in (time, insertion order) order, with peeks to match", () => {
    // Few distinct times, so ties (broken by insertion order) are common.
    const op = fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 6 }) }), fc.constant({ pop: true as const }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const queue = new EventQueue<number>();
        const reference: { time: number; id: number }[] = [];
        let id = 0;
        for (const o of ops) {
          if ("push" in o) {
            if (o.push === 6) {
              queue.reserveSeq(); // reserved numbers leave gaps, never change the order
              continue;
            }
            queue.push(o.push / 4, id);
            reference.push({ time: o.push / 4, id: id++ });
          } else if (reference.length > 0) {
            reference.sort((a, b) => a.time - b.time || a.id - b.id);
            const first = reference.shift()!;
            expect(queue.peekTime()).toBe(first.time);
            expect(queue.pop()).toBe(first.id);
          }
          expect(queue.size).toBe(reference.length);
        }
        reference.sort((a, b) => a.time - b.time || a.id - b.id);
        for (const expected of reference) expect(queue.pop()).toBe(expected.id);
        expect(queue.size).toBe(0);
        expect(queue.peekTime()).toBe(Infinity);
      }),
    );
  });

  it("refuses a non-finite time", () => {
    expect(() => new EventQueue<number>().push(Number.NaN, 1)).toThrow(/finite/);
  });
});
