import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockKeyTable } from "../../sim/engine/block-key-table.ts";

const SPAN = 2 ** 21; // prefix-identity's offset span: keys are chain × SPAN + offset
const key = (chain: number, offset: number) => chain * SPAN + offset;

describe("BlockKeyTable", () => {
  it("stores, replaces and removes values under keys beyond the small-integer range", () => {
    const table = new BlockKeyTable();
    expect(table.get(key(7, 3))).toBe(-1);
    table.set(key(7, 3), 11);
    table.set(key(8, 3), 12); // differs only in the chain (the high bits)
    expect([table.get(key(7, 3)), table.get(key(8, 3)), table.size]).toEqual([11, 12, 2]);
    table.set(key(7, 3), 5);
    expect([table.get(key(7, 3)), table.size]).toEqual([5, 2]);
    expect(table.delete(key(7, 3))).toBe(true);
    expect(table.delete(key(7, 3))).toBe(false);
    expect([table.has(key(7, 3)), table.get(key(8, 3)), table.size]).toEqual([false, 12, 1]);
  });

  it("grows past its expected size and keeps every key", () => {
    const table = new BlockKeyTable(4);
    for (let i = 0; i < 5000; i++) table.set(key(1 + (i % 97), i), i);
    expect(table.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(table.get(key(1 + (i % 97), i))).toBe(i);
  });

  it("finds every remaining key after deleting from full probe runs", () => {
    // 8 keys in 16 slots share probe runs: emptying a deleted slot without shifting loses some.
    const table = new BlockKeyTable(8);
    const keys = Array.from({ length: 8 }, (_, i) => key(1000 + 16 * i, 0));
    keys.forEach((k, i) => table.set(k, i));
    for (let d = 0; d < keys.length; d++) {
      expect(table.delete(keys[d])).toBe(true);
      for (let i = d + 1; i < keys.length; i++) expect(table.get(keys[i])).toBe(i);
      expect(table.get(keys[d])).toBe(-1);
    }
    expect(table.size).toBe(0);
  });

  it("behaves as a Map<number, number> under random sets, deletes and lookups", () => {
    // A small pool of realistic keys (large chain ids, offsets inside a segment) so that the same
    // keys come back after deletion and probe runs collide, grow and shift.
    const pool = fc.uniqueArray(
      fc.tuple(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 0, max: SPAN - 1 })).map(([c, o]) => key(c, o)),
      { minLength: 1, maxLength: 40 },
    );
    const op = fc.oneof(fc.record({ set: fc.nat(), value: fc.integer({ min: 0, max: 2 ** 31 - 1 }) }), fc.record({ del: fc.nat() }), fc.record({ get: fc.nat() }));
    fc.assert(
      fc.property(pool, fc.nat({ max: 64 }), fc.array(op, { maxLength: 300 }), (keys, expected, ops) => {
        const table = new BlockKeyTable(expected);
        const model = new Map<number, number>();
        for (const o of ops) {
          if ("set" in o) {
            const k = keys[o.set % keys.length];
            table.set(k, o.value);
            model.set(k, o.value);
          } else if ("del" in o) {
            const k = keys[o.del % keys.length];
            expect(table.delete(k)).toBe(model.delete(k));
          } else {
            const k = keys[o.get % keys.length];
            expect(table.get(k)).toBe(model.get(k) ?? -1);
          }
          expect(table.size).toBe(model.size);
        }
        for (const k of keys) expect(table.get(k)).toBe(model.get(k) ?? -1);
      }),
      { numRuns: 300 },
    );
  });
});
