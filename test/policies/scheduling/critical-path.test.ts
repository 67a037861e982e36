import { describe, expect, it } from "vitest";
import { call, finish, gatedController, llm, workflow } from "./harness.ts";

describe("critical-path scheduling", () => {
  it("dispatches the call on the longest remaining path of its DAG first", () => {
    const { controller, gate, release } = gatedController("critical-path");
    // After the root: a lone side step (1 s) listed first, and a chain of three 1 s steps.
    controller.workflowArrived(0, workflow("W", 0, [llm("root", [], 5), llm("side", ["root"], 100), llm("s1", ["root"], 100), llm("s2", ["s1"], 100), llm("s3", ["s2"], 100)]));
    controller.drain();
    gate.held = true;
    finish(controller, 1, "W/root");
    expect(release(1.5)).toEqual(["W/s1", "W/side"]);
  });

  it("does not push a call back for having waited", () => {
    const { controller, gate, release } = gatedController("critical-path");
    gate.held = true;
    // p (2 s) → q (8 s): 10 s through p. It waits 5.5 s; then u (9 s, alone) arrives.
    controller.workflowArrived(0, workflow("P", 0, [llm("p", [], 200), llm("q", ["p"], 800)]));
    controller.workflowArrived(5, workflow("U", 5, [llm("u", [], 900)]));
    expect(release(5.5)).toEqual(["P/p", "U/u"]);
  });

  it("ranks calls outside a workflow by their expected time", () => {
    const { controller, gate, release } = gatedController("critical-path");
    gate.held = true;
    controller.callArrived(0, call("single", 0));
    controller.workflowArrived(0.1, workflow("W", 0.1, [llm("x", [], 100)]));
    // The single call has no profile (0 s expected); the workflow step 1 s.
    expect(release(0.2)).toEqual(["W/x", "single"]);
  });
});
