import { describe, expect, it } from "vitest";
import { finish, gatedController, llm, workflow } from "./harness.ts";

/** A: a long branch `a` (runs 0–5 s) beside a short one `b` (0–0.5 s) that `c` follows.
 *  B: a chain x (0–2 s) → y. When c and y wait at 6 s:
 *  - workflow service: A 5.5 s (level 2 of 1, 4, 16), B 2 s (level 1) — plas serves y first;
 *  - service along the path to the call: c 0.5 s (level 0), y 2 s (level 1) — atlas serves c first. */
function scenario(policy: string) {
  const h = gatedController(policy);
  h.controller.workflowArrived(0, workflow("A", 0, [llm("a", [], 5), llm("b", [], 5), llm("c", ["b"], 5)]));
  h.controller.workflowArrived(0, workflow("B", 0, [llm("x", [], 5), llm("y", ["x"], 5)]));
  h.controller.drain();
  h.gate.held = true;
  finish(h.controller, 0.5, "A/b");
  finish(h.controller, 2, "B/x");
  finish(h.controller, 5, "A/a");
  return h;
}

describe("atlas scheduling", () => {
  it("ranks by the service attained along the call's path, not the workflow's total", () => {
    const { controller, release } = scenario("atlas");
    expect(controller.policyView.workflows.attainedServiceOnPath_s("A", "c")).toBeCloseTo(0.5);
    expect(controller.policyView.workflows.attainedService_s("A")).toBeCloseTo(5.5);
    expect(release(6)).toEqual(["A/c", "B/y"]);
  });

  it("plas, for contrast, demotes the wide workflow for the sum of its branches", () => {
    expect(scenario("plas").release(6)).toEqual(["B/y", "A/c"]);
  });

  it("takes the heaviest chain over all predecessors of a join", () => {
    const { controller, gate } = gatedController("atlas");
    controller.workflowArrived(0, workflow("W", 0, [llm("p", [], 5), llm("q", [], 5), llm("r", ["p"], 5), llm("join", ["q", "r"], 5)]));
    controller.drain();
    finish(controller, 1, "W/p"); // p: 1 s; r released
    finish(controller, 3, "W/q"); // q: 3 s
    gate.held = true;
    finish(controller, 4, "W/r"); // r: 3 s after p's 1 s → the chain p → r carries 4 s, q 3 s
    expect(controller.policyView.workflows.attainedServiceOnPath_s("W", "join")).toBeCloseTo(4);
    expect(controller.policyView.workflows.attainedServiceOnPath_s("W", "r")).toBeCloseTo(1);
    expect(controller.policyView.workflows.attainedServiceOnPath_s("W", "p")).toBe(0);
  });

  it("promotes a call that waited longer than starvation_s", () => {
    const h = gatedController({ name: "atlas", params: { starvation_s: 3 } });
    h.controller.workflowArrived(0, workflow("A", 0, [llm("x", [], 5), llm("y", ["x"], 5)]));
    h.controller.drain();
    h.gate.held = true;
    finish(h.controller, 2, "A/x"); // A/y: 2 s on its path → level 1
    h.controller.workflowArrived(5.5, workflow("B", 5.5, [llm("x", [], 5)]));
    expect(h.release(6)).toEqual(["A/y", "B/x"]); // A/y waited 4 s > 3 s
  });

  it("rejects bad params with an error naming the param", () => {
    expect(() => gatedController({ name: "atlas", params: { base_s: 0 } })).toThrow(/atlas params\.base_s/);
  });
});
