import { describe, expect, it } from "vitest";
import { call, controller, finish, snapshot, spec, targets } from "./helpers.ts";

// Calls without an agent profile: predicted output = default_output_tokens (20), predicted duration
// = 50 / 8000 + 20 × 0.03 ≈ 0.606 s for a 50-token prompt.
const kairos = (params: Record<string, unknown> = {}) => ({ name: "kairos-timeslot", params: { default_output_tokens: 20, ...params } });

describe("kairos-timeslot dispatch", () => {
  it("holds a call that would overflow the KV capacity, wakes at the next slot, admits it once memory frees", () => {
    // 100 tokens of KV at 95 % headroom: one call (50 + 20 predicted) fits, two do not.
    const c = controller(kairos(), [spec("a", { kv_capacity_tokens: 100 })]);
    const x0 = call("x0", { prompt_tokens: 50 });
    const x1 = call("x1", { prompt_tokens: 50 });
    c.callArrived(0.1, x0);
    expect(targets(c.drain())).toEqual(["a"]);

    c.callArrived(0.2, x1);
    expect(c.drain()).toEqual([{ kind: "wakeMeAt", at_s: 0.5 }]);
    expect(c.waitingCalls).toBe(1);

    c.tick(0.5); // x0 is predicted to run until ≈ 0.71: still no room
    expect(c.drain()).toEqual([{ kind: "wakeMeAt", at_s: 1 }]);
    c.tick(1); // x0 is overdue but still open: it counts until it closes
    expect(c.drain()).toEqual([{ kind: "wakeMeAt", at_s: 1.5 }]);

    finish(c, 1.2, x0);
    expect(targets(c.drain())).toEqual(["a"]);
    expect(c.waitingCalls).toBe(0);
  });

  it("admits where the predicted peak is lowest, spreading calls that fit anywhere", () => {
    const c = controller(kairos(), [spec("a", { kv_capacity_tokens: 1000 }), spec("b", { kv_capacity_tokens: 1000 })]);
    c.callArrived(0, call("x0", { prompt_tokens: 100 }));
    c.callArrived(0, call("x1", { prompt_tokens: 10 }));
    c.callArrived(0, call("x2", { prompt_tokens: 10 }));
    c.callArrived(0, call("x3", { prompt_tokens: 10 }));
    // a holds the big call, so the small ones go to b until b's peak would pass a's.
    expect(targets(c.drain())).toEqual(["a", "b", "b", "b"]);
  });

  it("corrects its prediction with the instance's observed KV usage", () => {
    const run = (observe: boolean, bias_weight = 0.5) => {
      const c = controller(kairos({ bias_weight }), [spec("a", { kv_capacity_tokens: 1000 }), spec("b", { kv_capacity_tokens: 1000 })]);
      for (const id of ["x0", "x1", "x2"]) c.callArrived(0, call(id, { prompt_tokens: 10 }));
      expect(targets(c.drain())).toEqual(["a", "b", "a"]);
      // b reports 500 tokens in use though the router predicts about 10 (other traffic, say).
      if (observe) c.instanceObserved(0.05, snapshot("b", 0.05, 0.5));
      c.callArrived(0.1, call("x3", { prompt_tokens: 10 }));
      return targets(c.drain());
    };
    expect(run(false)).toEqual(["b"]);
    expect(run(true)).toEqual(["a"]);
    expect(run(true, 0)).toEqual(["b"]); // bias_weight 0: observations are ignored
  });

  it("admits a call larger than the headroom on an idle instance rather than holding it forever", () => {
    const c = controller(kairos(), [spec("a", { kv_capacity_tokens: 100 })]);
    const big = call("big", { prompt_tokens: 200 });
    c.callArrived(0, big);
    expect(targets(c.drain())).toEqual(["a"]);
    c.callArrived(0.1, call("next", { prompt_tokens: 10 }));
    expect(c.drain()).toEqual([{ kind: "wakeMeAt", at_s: 0.5 }]);
    finish(c, 2, big);
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("drops a failed attempt from the prediction when the call is dispatched again", () => {
    const c = controller(kairos(), [spec("a", { kv_capacity_tokens: 100 })]);
    c.callArrived(0, call("x", { prompt_tokens: 50 }));
    expect(targets(c.drain())).toEqual(["a"]);
    c.callFailed(0.1, "x", "connection refused", true);
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("rejects bad params with the field named", async () => {
    const { createDispatchPolicy } = await import("../../../src/policies/registry.ts");
    expect(() => createDispatchPolicy({ name: "kairos-timeslot", params: { headroom: 1.5 } })).toThrow(/kairos-timeslot params\.headroom/);
    expect(() => createDispatchPolicy({ name: "kairos-timeslot", params: { slot: 1 } })).toThrow(/kairos-timeslot params/);
  });
});
