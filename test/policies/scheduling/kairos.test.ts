import { describe, expect, it } from "vitest";
import { gatedController, llm, workflow } from "./harness.ts";

// Estimates: 10 ms per output token. "long" starts with a short call (0.1 s) but has a 5 s step
// after it; "short" is one 0.5 s call. Per call, long's first call is the shorter one.
const long = (arrival_s: number) => workflow("long", arrival_s, [llm("first", [], 10), llm("then", ["first"], 500)]);
const short = (arrival_s: number) => workflow("short", arrival_s, [llm("only", [], 50)]);

describe("kairos scheduling", () => {
  it("dispatches the call of the workflow with less remaining work first", () => {
    const { controller, gate, release } = gatedController("kairos");
    gate.held = true;
    controller.workflowArrived(0, long(0));
    controller.workflowArrived(0.1, short(0.1));
    controller.drain();
    expect(release(0.2)).toEqual(["short/only", "long/first"]);
  });

  it("fcfs, for contrast, serves them in arrival order", () => {
    const { controller, gate, release } = gatedController("fcfs");
    gate.held = true;
    controller.workflowArrived(0, long(0));
    controller.workflowArrived(0.1, short(0.1));
    expect(release(0.2)).toEqual(["long/first", "short/only"]);
  });

  it("with aging, a workflow that has waited long enough goes ahead of a shorter one", () => {
    const { controller, gate, release } = gatedController({ name: "kairos", params: { aging_s_per_s: 1 } });
    gate.held = true;
    controller.workflowArrived(0, long(0));
    controller.workflowArrived(10, short(10));
    // long: 5 s remaining − 10 s waited × 1 = −5 < short's 0.5.
    expect(release(10.1)).toEqual(["long/first", "short/only"]);
  });

  it("rejects a negative aging factor, naming the param", () => {
    expect(() => gatedController({ name: "kairos", params: { aging_s_per_s: -1 } })).toThrow(/kairos params\.aging_s_per_s/);
  });
});
