import { describe, expect, it } from "vitest";
import { classicalMds1d } from "../../../src/policies/scheduling/classical-mds.ts";
import { kairosStaticPriorities } from "../../../src/policies/scheduling/kairos-static-profile.ts";
import { wasserstein1 } from "../../../src/policies/scheduling/wasserstein.ts";
import { createSchedulingPolicy } from "../../../src/policies/registry.ts";
import { gatedController, llm, workflow } from "./harness.ts";

describe("wasserstein1", () => {
  it("is the distance between two point masses", () => {
    expect(wasserstein1([0], [1])).toBe(1);
    expect(wasserstein1([3, 3], [1])).toBe(2);
  });

  it("against a point mass at zero is the mean of non-negative samples", () => {
    expect(wasserstein1([2, 4, 6], [0])).toBeCloseTo(4, 12);
    expect(wasserstein1([0, 1], [0])).toBeCloseTo(0.5, 12);
  });

  it("handles unequal sample counts (hand-checked area between the CDFs)", () => {
    // CDFs: [1,2) 1/3 vs 0; [2,3) 2/3 vs 1/2; [3,4) 1 vs 1/2 → 1/3 + 1/6 + 1/2 = 1.
    expect(wasserstein1([3, 1, 2], [4, 2])).toBeCloseTo(1, 12);
    // Quantiles: (0,½) 0 vs 1, (½,1) 10 vs 1 → ½ + 4.5 = 5.
    expect(wasserstein1([0, 10], [1])).toBeCloseTo(5, 12);
  });

  it("is symmetric and zero for equal distributions", () => {
    expect(wasserstein1([1, 5, 2], [7, 0])).toBeCloseTo(wasserstein1([7, 0], [1, 5, 2]), 12);
    expect(wasserstein1([1, 2, 3], [3, 2, 1])).toBe(0);
  });
});

describe("classicalMds1d", () => {
  it("places two points ±d/2 around their centre", () => {
    const x = classicalMds1d([
      [0, 4],
      [4, 0],
    ]);
    expect(Math.abs(x[0])).toBeCloseTo(2, 10);
    expect(x[0] + x[1]).toBeCloseTo(0, 10);
  });

  it("recovers points on a line (0, 1, 3 → centred −4/3, −1/3, 5/3, up to a reflection)", () => {
    const x = classicalMds1d([
      [0, 1, 3],
      [1, 0, 2],
      [3, 2, 0],
    ]);
    const sign = Math.sign(x[2]);
    expect(x.map((v) => sign * v)).toEqual([expect.closeTo(-4 / 3, 9), expect.closeTo(-1 / 3, 9), expect.closeTo(5 / 3, 9)]);
  });

  it("is deterministic", () => {
    const d = [
      [0, 1, 2.5, 2],
      [1, 0, 1.2, 3],
      [2.5, 1.2, 0, 0.7],
      [2, 3, 0.7, 0],
    ];
    expect(classicalMds1d(d)).toEqual(classicalMds1d(d));
  });
});

describe("kairosStaticPriorities", () => {
  it("ranks agents by distance from zero latency: with point-mass latencies, the latencies themselves", () => {
    const p = kairosStaticPriorities(
      new Map([
        ["slow", [3, 3, 3]],
        ["fast", [1, 1]],
        ["mid", [2]],
      ]),
    );
    expect(p.fast).toBeCloseTo(1, 9);
    expect(p.mid).toBeCloseTo(2, 9);
    expect(p.slow).toBeCloseTo(3, 9);
  });

  it("orders spread distributions by how far they sit from zero", () => {
    const p = kairosStaticPriorities(
      new Map([
        ["long", [5, 9, 12, 20]],
        ["short", [0.2, 0.4, 1.5]],
        ["empty", []],
      ]),
    );
    expect(Object.keys(p).sort()).toEqual(["long", "short"]);
    expect(p.short).toBeLessThan(p.long);
  });
});

describe("kairos-static scheduling", () => {
  const priorities = { fast: 1, mid: 2, slow: 3 };

  it("dispatches calls by their agent's static priority, lowest first, whatever the arrival order", () => {
    const { controller, gate, release } = gatedController({ name: "kairos-static", params: { priorities } });
    gate.held = true;
    controller.workflowArrived(0, workflow("W1", 0, [llm("x", [], 5, "slow")]));
    controller.workflowArrived(0.1, workflow("W2", 0.1, [llm("x", [], 500, "fast")]));
    controller.workflowArrived(0.2, workflow("W3", 0.2, [llm("x", [], 5, "mid")]));
    controller.workflowArrived(0.3, workflow("W4", 0.3, [llm("x", [], 5, "fast")]));
    controller.drain();
    // fast, fast (ties in arrival order), mid, slow — the calls' true lengths do not matter.
    expect(release(1)).toEqual(["W2/x", "W4/x", "W3/x", "W1/x"]);
  });

  it("gives an unknown agent the median priority by default, or first/last as asked", () => {
    for (const [rule, order] of [
      ["median", ["W2/x", "W3/x", "W1/x"]],
      ["first", ["W3/x", "W2/x", "W1/x"]],
      ["last", ["W2/x", "W1/x", "W3/x"]],
    ] as const) {
      const { controller, gate, release } = gatedController({ name: "kairos-static", params: { priorities: { fast: 1, slow: 3 }, unknown_agent: rule } });
      gate.held = true;
      controller.workflowArrived(0, workflow("W1", 0, [llm("x", [], 5, "slow")]));
      controller.workflowArrived(0.1, workflow("W2", 0.1, [llm("x", [], 5, "fast")]));
      controller.workflowArrived(0.2, workflow("W3", 0.2, [llm("x", [], 5, "new")]));
      controller.drain();
      expect(release(1), rule).toEqual(order);
    }
  });

  it("with aging, a call that waited long enough overtakes faster agents", () => {
    const { controller, gate, release } = gatedController({ name: "kairos-static", params: { priorities, aging_s_per_s: 1 } });
    gate.held = true;
    controller.workflowArrived(0, workflow("W1", 0, [llm("x", [], 5, "slow")]));
    controller.workflowArrived(2.5, workflow("W2", 2.5, [llm("x", [], 5, "fast")]));
    controller.drain();
    // At 3 s: slow 3 − 3 = 0 beats fast 1 − 0.5 = 0.5.
    expect(release(3)).toEqual(["W1/x", "W2/x"]);
  });

  it("without a profile or priorities, fails naming profile=DIR", () => {
    expect(() => createSchedulingPolicy("kairos-static")).toThrow(/kairos-static params\.profile.*profile=DIR/);
  });
});
