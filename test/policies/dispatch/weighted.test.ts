import { describe, expect, it } from "vitest";
import { createDispatchPolicy } from "../../../src/policies/registry.ts";
import { call, controller, placements, prefixCall, snapshot, spec, targets } from "./helpers.ts";

const three = () => [spec("a"), spec("b"), spec("c")];
const weighted = (weights: Record<string, number>) => ({ name: "weighted", params: { weights } });

describe("weighted dispatch", () => {
  it("with only the kv weight, picks the least observed KV usage", () => {
    const c = controller(weighted({ queue: 0, kv: 1, prefix: 0 }), three());
    c.instanceObserved(0, snapshot("a", 0, 0.6));
    c.instanceObserved(0, snapshot("b", 0, 0.7));
    c.instanceObserved(0, snapshot("c", 0, 0.2));
    for (let i = 0; i < 3; i++) c.callArrived(1, call(`x${i}`));
    // The scrape does not move between calls, so all three follow it (as pure least-kv does).
    expect(targets(c.drain())).toEqual(["c", "c", "c"]);
  });

  it("with only the queue weight, picks the fewest outstanding", () => {
    const c = controller(weighted({ queue: 1, kv: 0, prefix: 0 }), three());
    c.instanceObserved(0, snapshot("a", 0, 0.9));
    for (let i = 0; i < 6; i++) c.callArrived(1, call(`x${i}`));
    expect(targets(c.drain())).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("with only the prefix weight, follows the prefix", () => {
    const c = controller(weighted({ queue: 0, kv: 0, prefix: 1 }), three());
    c.callArrived(0, prefixCall("p0", "A"));
    c.callArrived(0, prefixCall("q0", "B"));
    c.callArrived(0, prefixCall("p1", "A"));
    const placed = placements(c.drain());
    expect(placed.p1).toBe(placed.p0);
  });

  it("with only the session weight, keeps a session on its consistent-hash instance", () => {
    const c = controller(weighted({ queue: 0, kv: 0, prefix: 0, session: 1 }), three());
    for (let i = 0; i < 5; i++) c.callArrived(0, call(`x${i}`, { tenant: "alice" }));
    expect(new Set(targets(c.drain())).size).toBe(1);
  });

  it("trades the scorers off by their weights", () => {
    // a has the prefix (all 16 of 18 blocks) but reports high KV usage; b is empty.
    const run = (weights: Record<string, number>) => {
      const c = controller(weighted(weights), [spec("a"), spec("b")]);
      c.callArrived(0, prefixCall("p0", "A"));
      c.drain();
      c.instanceObserved(0.1, snapshot("a", 0.1, 0.5));
      c.callArrived(0.2, prefixCall("p1", "A"));
      return placements(c.drain()).p1;
    };
    // a: queue 1 + kv 0.5 + prefix 1 − 16/18 ≈ 1.61; b: 0 + 0 + 1 = 1 → b.
    expect(run({ queue: 1, kv: 1, prefix: 1 })).toBe("b");
    // prefix weight 5: a ≈ 1 + 0.5 + 0.56 = 2.06; b = 5 → a.
    expect(run({ queue: 1, kv: 1, prefix: 5 })).toBe("a");
  });

  it("rejects weights that are negative or all zero, naming the field", () => {
    expect(() => createDispatchPolicy(weighted({ kv: -1 }))).toThrow(/weighted params\.weights\.kv/);
    expect(() => createDispatchPolicy(weighted({ queue: 0, kv: 0, prefix: 0, session: 0 }))).toThrow(/weighted params\.weights: expected at least one weight above 0/);
    expect(() => createDispatchPolicy(weighted({ latency: 1 }))).toThrow(/weighted params\.weights/);
  });
});
