import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LruKeySet } from "../../sim/engine/lru-key-set.ts";

const SPAN = 2 ** 21; // prefix-identity's offset span: keys are chain × SPAN + offset
const key = (chain: number, offset: number) => chain * SPAN + offset;

describe("LruKeySet", () => {
  it("keeps insertion order; re-adding a key present leaves it in place", () => {
    const set = new LruKeySet(2);
    set.add(key(5, 0));
    set.add(key(6, 0));
    set.add(key(5, 0));
    expect([set.size, set.oldest()]).toEqual([2, key(5, 0)]);
    expect(set.delete(key(5, 0))).toBe(true);
    expect(set.delete(key(5, 0))).toBe(false);
    set.add(key(5, 0)); // back as the most recent
    expect([set.size, set.oldest(), set.has(key(5, 0))]).toEqual([2, key(6, 0), true]);
  });

  it("refuses oldest() when empty", () => {
    expect(() => new LruKeySet().oldest()).toThrow(/empty key set/);
  });

  it("behaves as an insertion-ordered Set<number> under random adds, deletes and evictions", () => {
    const pool = fc.uniqueArray(
      fc.tuple(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 0, max: SPAN - 1 })).map(([c, o]) => key(c, o)),
      { minLength: 1, maxLength: 30 },
    );
    const op = fc.oneof(fc.record({ add: fc.nat() }), fc.record({ del: fc.nat() }), fc.constant({ evict: true as const }));
    fc.assert(
      fc.property(pool, fc.nat({ max: 16 }), fc.array(op, { maxLength: 300 }), (keys, expected, ops) => {
        const set = new LruKeySet(expected);
        const model = new Set<number>();
        for (const o of ops) {
          if ("add" in o) {
            const k = keys[o.add % keys.length];
            set.add(k);
            model.add(k);
          } else if ("del" in o) {
            const k = keys[o.del % keys.length];
            expect(set.delete(k)).toBe(model.delete(k));
          } else if (model.size > 0) {
            // What the tiers do when over capacity: drop the least recently added key.
            const oldest = model.values().next().value as number;
            expect(set.oldest()).toBe(oldest);
            set.delete(oldest);
            model.delete(oldest);
          }
          expect(set.size).toBe(model.size);
        }
        for (const k of keys) expect(set.has(k)).toBe(model.has(k));
        // Drain: the whole order matches.
        const order: number[] = [];
        while (set.size > 0) {
          const k = set.oldest();
          order.push(k);
          set.delete(k);
        }
        expect(order).toEqual([...model]);
      }),
      { numRuns: 300 },
    );
  });
});
