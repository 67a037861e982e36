import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockManager } from "../../sim/engine/block-manager.ts";

/** The free queue as one plain list of every free block (vLLM's FreeKVCacheBlockQueue): the model
 *  the manager must match in its evictions, hits and counts (it may name blocks differently). */
class OneQueueModel {
  readonly queue: number[] = [];
  readonly ref: number[] = [];
  readonly key: (number | undefined)[] = [];
  readonly cached = new Map<number, number>();
  constructor(n: number) {
    for (let b = 0; b < n; b++) {
      this.queue.push(b);
      this.ref.push(0);
      this.key.push(undefined);
    }
  }
  allocate(count: number, into: number[]): void {
    for (let i = 0; i < count; i++) {
      const b = this.queue.shift()!;
      const k = this.key[b];
      if (k !== undefined) this.cached.delete(k);
      this.key[b] = undefined;
      this.ref[b] = 1;
      into.push(b);
    }
  }
  release(blocks: number[]): void {
    for (let i = blocks.length - 1; i >= 0; i--) if (--this.ref[blocks[i]] === 0) this.queue.push(blocks[i]);
  }
  touch(b: number): void {
    if (this.ref[b]++ === 0) this.queue.splice(this.queue.indexOf(b), 1);
  }
  register(b: number, k: number): void {
    if (this.key[b] !== undefined || this.cached.has(k)) return;
    this.key[b] = k;
    this.cached.set(k, b);
  }
}

const op = fc.oneof(
  fc.record({ allocate: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ release: fc.nat() }),
  fc.record({ register: fc.nat(), key: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ hit: fc.integer({ min: 1, max: 12 }) }),
);

describe("BlockManager", () => {
  it("keeps the one-queue LRU order of cached blocks: same evictions, hits and counts for any run of operations", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.array(op, { maxLength: 200 }), (n, ops) => {
        const manager = new BlockManager(n);
        const model = new OneQueueModel(n);
        // Requests hold the same positions in both; their block ids may differ.
        const held: { real: number[]; model: number[] }[] = [];
        for (const o of ops) {
          if ("allocate" in o) {
            if (o.allocate > manager.freeBlocks) continue;
            const r = { real: [] as number[], model: [] as number[] };
            manager.allocate(o.allocate, r.real);
            model.allocate(o.allocate, r.model);
            held.push(r);
          } else if ("release" in o) {
            if (held.length === 0) continue;
            const [r] = held.splice(o.release % held.length, 1);
            manager.release(r.real);
            model.release(r.model);
          } else if ("register" in o) {
            if (held.length === 0) continue;
            const r = held[o.register % held.length];
            const i = o.register % r.real.length;
            manager.register(r.real[i], o.key);
            model.register(r.model[i], o.key);
          } else {
            // A prefix hit: the cached block is taken (out of the free queue if free) and held.
            const real = manager.lookup(o.hit);
            const modelled = model.cached.get(o.hit);
            expect(real === undefined).toBe(modelled === undefined);
            if (real === undefined || modelled === undefined) continue;
            expect(manager.isFree(real)).toBe(model.ref[modelled] === 0);
            manager.touch(real);
            model.touch(modelled);
            held.push({ real: [real], model: [modelled] });
          }
          expect(manager.freeBlocks).toBe(model.queue.length);
          expect(manager.cachedBlocks).toBe(model.cached.size);
          for (const key of model.cached.keys()) expect(manager.lookup(key)).toBeDefined();
        }
        // Every id handed out is held once: no blank id was handed out twice.
        const ids = held.flatMap((r) => r.real);
        expect(manager.usedBlocks).toBeLessThanOrEqual(ids.length);
        expect(new Set(ids.filter((b) => !manager.isFree(b))).size).toBe(manager.usedBlocks);
      }),
    );
  });
});
