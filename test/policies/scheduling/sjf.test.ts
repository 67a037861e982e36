import { describe, expect, it } from "vitest";
import { finish, gatedController, llm, workflow } from "./harness.ts";

/** Profiles first: a "chatty" call that produced 500 tokens and a "terse" one that produced 20. */
function profiled(params: Record<string, unknown> = {}) {
  const h = gatedController({ name: "sjf", params });
  h.controller.workflowArrived(0, workflow("warm", 0, [llm("c", [], 500, "chatty"), llm("t", [], 20, "terse")]));
  h.controller.drain();
  finish(h.controller, 1, "warm/c", 500);
  finish(h.controller, 1, "warm/t", 20);
  h.gate.held = true;
  return h;
}

describe("sjf scheduling", () => {
  it("orders by the agent's observed mean output, not the call's true length", () => {
    const { controller, release } = profiled();
    // True lengths are the reverse of the predictions: a router cannot know them.
    controller.workflowArrived(2, workflow("W1", 2, [llm("x", [], 5, "chatty")]));
    controller.workflowArrived(2, workflow("W2", 2, [llm("x", [], 5, "fresh")]));
    controller.workflowArrived(2, workflow("W3", 2, [llm("x", [], 900, "terse")]));
    // terse 20 < fresh (no profile: default 256) < chatty 500
    expect(release(3)).toEqual(["W3/x", "W2/x", "W1/x"]);
  });

  it("uses default_output_tokens for agents without a profile", () => {
    const { controller, release } = profiled({ default_output_tokens: 1000 });
    controller.workflowArrived(2, workflow("W1", 2, [llm("x", [], 5, "fresh")]));
    controller.workflowArrived(2, workflow("W2", 2, [llm("x", [], 5, "chatty")]));
    expect(release(3)).toEqual(["W2/x", "W1/x"]);
  });

  it("with starvation_s, a call that waited too long goes first", () => {
    const { controller, release } = profiled({ starvation_s: 5 });
    controller.workflowArrived(2, workflow("W1", 2, [llm("x", [], 5, "chatty")]));
    controller.workflowArrived(7.5, workflow("W2", 7.5, [llm("x", [], 5, "terse")]));
    expect(release(8)).toEqual(["W1/x", "W2/x"]);
  });

  it("rejects unknown params, naming them", () => {
    expect(() => gatedController({ name: "sjf", params: { default_output: 10 } })).toThrow(/sjf params: .*"default_output"/);
  });
});
