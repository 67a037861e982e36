import { describe, expect, it } from "vitest";
import { harness } from "./engine-harness.ts";

describe("Engine.abort", () => {
  it("frees a running request's blocks and drops it, keeping its prefix cached", () => {
    const h = harness({}, 64);
    h.add("a", 100, 50, [{ key: "shared", tokens: 100 }]);
    h.step(); // prefill: a holds ceil(101/16) blocks
    expect(h.engine.runningCount).toBe(1);
    expect(h.engine.blocks.usedBlocks).toBeGreaterThan(0);
    expect(h.engine.abort("a")).toBe(true);
    expect(h.engine.runningCount).toBe(0);
    expect(h.engine.blocks.usedBlocks).toBe(0);
    expect(h.engine.hasWork).toBe(false);
    expect(h.step()).toBeUndefined();
    expect(h.log.finished).toEqual([]);
    // Its full prompt blocks stay in the prefix cache: a request with the same prefix hits them.
    const b = h.add("b", 100, 2, [{ key: "shared", tokens: 100 }]);
    h.drain();
    expect(b.cached_tokens).toBe(96);
  });

  it("removes a waiting request from the queue and leaves the others", () => {
    const h = harness({ max_num_seqs: 1 }, 64);
    h.add("a", 20, 3);
    h.add("b", 20, 3);
    h.add("c", 20, 3);
    expect(h.engine.abort("b")).toBe(true);
    expect(h.engine.waitingCount).toBe(2);
    h.drain();
    expect(h.log.finished).toEqual(["a", "c"]);
    expect(h.engine.blocks.usedBlocks).toBe(0);
  });

  it("returns false for an unknown or finished request and refuses during a step", () => {
    const h = harness({}, 64);
    expect(h.engine.abort("nope")).toBe(false);
    h.add("a", 20, 1);
    h.drain();
    expect(h.engine.abort("a")).toBe(false);
    h.add("b", 20, 5);
    h.engine.startStep(h.now);
    expect(() => h.engine.abort("b")).toThrow(/during a step/);
  });
});
