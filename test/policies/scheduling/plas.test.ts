import { describe, expect, it } from "vitest";
import { finish, gatedController, llm, workflow } from "./harness.ts";

const chain = (id: string, arrival_s: number) => workflow(id, arrival_s, [llm("x", [], 5), llm("y", ["x"], 5)]);

/** Workflow A's first call runs from 0 to 2 s (attained service 2 s: level 1 of 1, 4, 16…), then
 *  its second call waits; workflow B arrives at `b_arrival_s` with nothing attained (level 0). */
function demoted(params: Record<string, unknown>, b_arrival_s: number) {
  const h = gatedController({ name: "plas", params });
  h.controller.workflowArrived(0, chain("A", 0));
  h.controller.drain();
  h.gate.held = true;
  finish(h.controller, 2, "A/x");
  h.controller.workflowArrived(b_arrival_s, chain("B", b_arrival_s));
  h.controller.drain();
  return h;
}

describe("plas scheduling", () => {
  it("demotes a workflow once it has attained service", () => {
    const { release, controller } = demoted({}, 2.5);
    expect(controller.policyView.workflows.attainedService_s("A")).toBe(2);
    expect(release(3)).toEqual(["B/x", "A/y"]);
  });

  it("promotes a call that waited longer than starvation_s to level 0", () => {
    const { release } = demoted({ starvation_s: 5 }, 7.5);
    // A/y has waited 6 s > 5 s: level 0, and older than B/x.
    expect(release(8)).toEqual(["A/y", "B/x"]);
  });

  it("does not count time held at the controller as service", () => {
    const { controller, gate, release } = gatedController("plas");
    gate.held = true;
    controller.workflowArrived(0, chain("A", 0));
    expect(release(10)).toEqual(["A/x"]);
    finish(controller, 10.5, "A/x");
    expect(controller.policyView.workflows.attainedService_s("A")).toBeCloseTo(0.5);
  });

  it("quantises into levels with geometric thresholds set by its params", () => {
    // base 1, ratio 2, 2 levels: 2 s of service is level 1, the last; B (0 s) goes first.
    const { release } = demoted({ levels: 2, base_s: 1, ratio: 2 }, 2.5);
    expect(release(3)).toEqual(["B/x", "A/y"]);
    // base 4: 2 s is still level 0, so arrival order decides.
    const again = demoted({ base_s: 4 }, 2.5);
    expect(again.release(3)).toEqual(["A/y", "B/x"]);
  });

  it("rejects bad params with an error naming the param", () => {
    expect(() => gatedController({ name: "plas", params: { levels: 0 } })).toThrow(/plas params\.levels: .*>=1/);
    expect(() => gatedController({ name: "plas", params: { ratio: 1 } })).toThrow(/plas params\.ratio/);
    expect(() => gatedController({ name: "plas", params: { level: 3 } })).toThrow(/plas params: .*"level"/);
  });
});
