import { describe, expect, it } from "vitest";
import { harness } from "./engine-harness.ts";

const SYS = [{ key: "sys", tokens: 64 }, { tokens: 16 }];

/** Every block is either held or free, and the capacity is what the engine says. */
function expectConsistent(h: ReturnType<typeof harness>) {
  const b = h.engine.blocks;
  expect(b.usedBlocks + b.freeBlocks).toBe(b.numBlocks);
  expect(b.usedBlocks).toBeGreaterThanOrEqual(0);
  expect(b.cachedBlocks).toBeLessThanOrEqual(b.numBlocks);
  expect(h.engine.capacity_tokens).toBe(b.numBlocks * h.config.block_size);
}

describe("elastic KV: resize", () => {
  it("grows: new free blocks that requests can use", () => {
    const h = harness({}, 10);
    expect(h.engine.resize(40)).toBe(40);
    expectConsistent(h);
    expect(h.engine.blocks.freeBlocks).toBe(40);
    // 30 blocks' worth: rejected at 10 blocks, accepted at 40.
    h.add("big", 470, 10);
    h.drain();
    expect(h.log.finished).toEqual(["big"]);
    expect(h.engine.blocks.usedBlocks).toBe(0);
    expect(h.engine.snapshot(h.now).kv_capacity_tokens).toBe(40 * 16);
  });

  it("shrinks to an idle size, evicting cached blocks least recently used first", () => {
    const h = harness({}, 20);
    h.add("a", 80, 1, SYS);
    h.drain();
    expect(h.engine.blocks.cachedBlocks).toBe(4);
    expect(h.engine.resize(3)).toBe(3);
    expectConsistent(h);
    expect(h.engine.blocks.cachedBlocks).toBeLessThanOrEqual(3);
    // The free queue's head holds the never-used blocks first, so the cache keeps what fits.
    expect(h.engine.resize(1)).toBe(1);
    expect(h.engine.blocks.cachedBlocks).toBeLessThanOrEqual(1);
    expect(h.engine.resize(0)).toBe(1); // never below 1 while awake
    expect(h.engine.resize(20)).toBe(20);
    expectConsistent(h);
    h.add("b", 80, 1, SYS);
    h.drain();
    expect(h.engine.blocks.usedBlocks).toBe(0);
  });

  it("never shrinks below the blocks held, nor below what the largest request in the engine needs", () => {
    const h = harness({ max_num_seqs: 2 }, 50);
    h.add("a", 80, 40); // 5 blocks now, 8 to finish
    h.add("b", 32, 4); // 2 blocks now, 3 to finish
    h.step();
    expect(h.engine.blocks.usedBlocks).toBe(7);
    expect(h.engine.resize(2)).toBe(8);
    expectConsistent(h);
    expect(h.engine.resize(50)).toBe(50);
    h.add("waiting-big", 300, 20); // 20 blocks: it waits (max_num_seqs), and must stay servable
    h.step();
    expect(h.engine.waitingCount).toBe(1);
    expect(h.engine.resize(2)).toBe(20);
    h.add("too-big", 330, 20); // enqueued after the shrink: more than the capacity now
    expect(h.log.rejected).toEqual([["too-big", "exceeds_kv_capacity"]]);
    h.drain();
    expect(h.log.finished.sort()).toEqual(["a", "b", "waiting-big"]);
    expect(h.engine.blocks.usedBlocks).toBe(0);
    expect(h.engine.resize(2)).toBe(2);
    expectConsistent(h);
  });

  it("grows and shrinks repeatedly while requests run, without leaking or losing a block", () => {
    const h = harness({ max_num_batched_tokens: 64 }, 30);
    for (let i = 0; i < 12; i++) h.add(`r${i}`, 40 + ((i * 23) % 120), 5 + (i % 7), i % 2 === 0 ? SYS : undefined);
    const sizes = [12, 60, 14, 100, 13, 40];
    for (let i = 0; h.step() !== undefined; i++) {
      const target = sizes[i % sizes.length];
      const reached = h.engine.resize(target);
      expect(reached).toBeGreaterThanOrEqual(target); // exact, or held back by what is in use
      expect(h.engine.blocks.usedBlocks).toBeLessThanOrEqual(reached);
      expectConsistent(h);
    }
    expect(h.log.finished).toHaveLength(12);
    expect(h.engine.blocks.usedBlocks).toBe(0);
    expectConsistent(h);
  });

  it("a shrink pushes evicted cached blocks into the CPU tier", () => {
    const h = harness({ cpu_kv_blocks: 16 }, 20);
    h.add("a", 80, 1, SYS);
    h.drain();
    h.engine.resize(1);
    expect(h.engine.tiers!.cpuBlocks).toBeGreaterThanOrEqual(3);
    h.engine.resize(20);
    h.add("b", 80, 1, SYS);
    h.step();
    expect(h.requests.get("b")!.cached_tokens).toBe(64);
    expect(h.engine.stats.cpu_hit_tokens).toBeGreaterThan(0);
  });
});

describe("sleep mode", () => {
  it("refuses to sleep with running or waiting requests", () => {
    const h = harness({}, 20);
    h.add("a", 40, 3);
    expect(h.engine.sleep()).toBe(false); // waiting
    h.step();
    expect(h.engine.sleep()).toBe(false); // running
    expect(h.engine.asleep).toBe(false);
    h.drain();
    expect(h.engine.sleep()).toBe(true);
  });

  it("drops every cached block and all capacity; snapshots say asleep; enqueueing is an error", () => {
    const h = harness({ cpu_kv_blocks: 16 }, 20);
    h.add("a", 80, 1, SYS);
    h.drain();
    expect(h.engine.blocks.cachedBlocks).toBe(4);
    expect(h.engine.sleep()).toBe(true);
    expect(h.engine.asleep).toBe(true);
    expect(h.engine.blocks.numBlocks).toBe(0);
    expect(h.engine.blocks.cachedBlocks).toBe(0);
    expect(h.engine.tiers!.cpuBlocks).toBe(0); // discarded, not offloaded
    const snap = h.engine.snapshot(h.now);
    expect(snap).toMatchObject({ awake: false, kv_usage: 0, running: 0, waiting: 0, kv_capacity_tokens: 0 });
    expect(() => h.add("b", 10, 1)).toThrow(/asleep/);
    expect(() => h.engine.resize(10)).toThrow(/asleep/);
    expect(h.engine.startStep(h.now)).toBeUndefined();
    expect(h.engine.sleep()).toBe(true); // already asleep
  });

  it("wakes with the requested capacity (default: as before) and an empty cache", () => {
    const h = harness({}, 20);
    h.add("a", 80, 1, SYS);
    h.drain();
    h.engine.sleep();
    expect(h.engine.wake()).toBe(20);
    expect(h.engine.asleep).toBe(false);
    expect(h.engine.snapshot(h.now).awake).toBe(true);
    expectConsistent(h);
    h.add("b", 80, 1, SYS);
    h.drain();
    expect(h.requests.get("b")!.cached_tokens).toBe(0);
    h.engine.sleep();
    expect(h.engine.wake(35)).toBe(35);
    expect(h.engine.wake(50)).toBe(35); // awake: no-op
    expectConsistent(h);
    h.add("c", 500, 10);
    h.drain();
    expect(h.log.finished).toContain("c");
    expect(h.engine.blocks.usedBlocks).toBe(0);
  });
});
