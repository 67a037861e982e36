import { describe, expect, it } from "vitest";
import { CallBlockKeys, PrefixIndex } from "../../../src/policies/dispatch/prefix-index.ts";
import { createDispatchPolicy } from "../../../src/policies/registry.ts";
import { call, controller, finish, placements, prefixCall, spec, targets } from "./helpers.ts";

const three = () => [spec("a"), spec("b"), spec("c")];

describe("prefix-affinity dispatch", () => {
  it("sends a repeated prefix back to the instance that has it", () => {
    const c = controller("prefix-affinity", three());
    c.callArrived(0, prefixCall("p0", "system-A"));
    c.callArrived(0, prefixCall("q0", "system-B"));
    c.callArrived(0, prefixCall("r0", "system-C"));
    c.callArrived(0, prefixCall("q1", "system-B"));
    c.callArrived(0, prefixCall("p1", "system-A"));
    c.callArrived(0, prefixCall("r1", "system-C"));
    const placed = placements(c.drain());
    // The first of each prefix spreads by load; later ones follow their prefix despite equal load.
    expect([placed.p0, placed.q0, placed.r0]).toEqual(["a", "b", "c"]);
    expect(placed.p1).toBe(placed.p0);
    expect(placed.q1).toBe(placed.q0);
    expect(placed.r1).toBe(placed.r0);
  });

  it("matches only the shared part: a different continuation after a common prefix still counts", () => {
    // prefill_weight 3, so 8 cached blocks outweigh one call in flight (≈ 16 decode blocks).
    const c = controller({ name: "prefix-affinity", params: { prefill_weight: 3 } }, three());
    const seg = (keys: string[]) => keys.map((key) => ({ key, tokens: 128 }));
    c.callArrived(0, call("x", { prompt_tokens: 256, segments: seg(["sys", "doc1"]) }));
    c.callArrived(0, call("y", { prompt_tokens: 256, segments: seg(["other", "doc1"]) }));
    c.callArrived(0, call("z", { prompt_tokens: 256, segments: seg(["sys", "doc2"]) }));
    // y shares no prefix with x ("doc1" after a different system prompt is different content).
    expect(targets(c.drain())).toEqual(["a", "b", "a"]);
  });

  it("weighs uncached prefill against active blocks (Dynamo's cost), counting shared blocks once", () => {
    // Each call: keyed prefix A of 16 blocks, 224 output tokens → 30 blocks, 16 of them shared.
    const run = (prefill_weight: number) => {
      const c = controller({ name: "prefix-affinity", params: { prefill_weight } }, [spec("a"), spec("b")]);
      for (let i = 0; i < 4; i++) c.callArrived(0, prefixCall(`p${i}`, "A", 256, 0, { output_tokens: 224 }));
      return placements(c.drain());
    };
    // weight 1: p1 → a (0 prefill + 30 active + 14 new = 44 < b's 16 + 30 = 46);
    // p2 → b (a: 44 + 14 = 58 > 46); p3 → b (b now holds A: 0 + 30 + 14 = 44 < 58).
    expect(run(1)).toEqual({ p0: "a", p1: "a", p2: "b", p3: "b" });
    // weight 10: 160 blocks of prefill outweigh the active blocks → everything follows the prefix.
    expect(run(10)).toEqual({ p0: "a", p1: "a", p2: "a", p3: "a" });
  });

  it("forgets a call's active blocks when it closes", () => {
    const c = controller("prefix-affinity", [spec("a"), spec("b")]);
    const calls = [0, 1, 2].map((i) => prefixCall(`p${i}`, "A", 256, 0, { output_tokens: 224 }));
    c.callArrived(0, calls[0]);
    c.callArrived(0, calls[1]);
    expect(targets(c.drain())).toEqual(["a", "a"]);
    finish(c, 1, calls[0]);
    finish(c, 1, calls[1]);
    c.callArrived(2, calls[2]); // a idle again, with A cached: 0 + 30 < b's 16 + 30
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("falls back to the least-outstanding instance when load is imbalanced (SGLang's guard)", () => {
    const c = controller({ name: "prefix-affinity", params: { prefill_weight: 1000 } }, [spec("a"), spec("b")]);
    for (let i = 0; i < 34; i++) c.callArrived(0, prefixCall(`p${i}`, "hot"));
    const placed = targets(c.drain());
    // 33 outstanding vs 0: 33 − 0 > 32 and 33 > 1.5 × 0 → the 34th goes to b.
    expect(placed.slice(0, 33).every((t) => t === "a")).toBe(true);
    expect(placed[33]).toBe("b");
  });

  it("rejects bad params naming the field", () => {
    expect(() => createDispatchPolicy({ name: "prefix-affinity", params: { prefill_weight: -1 } })).toThrow(/prefix-affinity params\.prefill_weight/);
    expect(() => createDispatchPolicy({ name: "prefix-affinity", params: { block_size: 0 } })).toThrow(/params\.block_size/);
    expect(() => createDispatchPolicy({ name: "prefix-affinity", params: { prefil_weight: 1 } })).toThrow(/prefix-affinity params/);
  });
});

describe("prefix index", () => {
  it("keys only full blocks before the first unkeyed segment", () => {
    const keys = new CallBlockKeys(16);
    expect(keys.of(call("u", { prompt_tokens: 64 }))).toHaveLength(0);
    expect(keys.of(prefixCall("k", "A", 250, 30))).toHaveLength(15); // 250 keyed tokens = 15 full blocks
    const unkeyedFirst = call("v", { prompt_tokens: 96, segments: [{ tokens: 32 }, { key: "A", tokens: 64 }] });
    expect(keys.of(unkeyedFirst)).toHaveLength(0);
    // Same keyed prefix → same keys; a different first segment → different keys from block 0.
    const a = keys.of(prefixCall("a1", "A", 64, 0));
    expect(keys.of(prefixCall("a2", "A", 64, 5))).toEqual(a);
    expect(keys.of(prefixCall("b1", "B", 64, 0))[0]).not.toBe(a[0]);
  });

  it("matches the longest indexed prefix and evicts least recently routed blocks, tails first", () => {
    const index = new PrefixIndex(4);
    index.insert(0, [1, 2, 3]);
    expect(index.matchedBlocks(0, [1, 2, 3, 9])).toBe(3);
    expect(index.matchedBlocks(0, [1, 9, 3])).toBe(1); // the walk stops at the first miss
    expect(index.matchedBlocks(1, [1])).toBe(0);
    index.insert(0, [4, 5]);
    expect(index.size(0)).toBe(4);
    // Block 3, the tail of the older chain, went first: its root survives.
    expect(index.matchedBlocks(0, [1, 2, 3])).toBe(2);
    expect(index.matchedBlocks(0, [4, 5])).toBe(2);
  });
});
