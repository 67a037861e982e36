import { describe, expect, it } from "vitest";
import { Controller } from "../../../src/core/controller.ts";
import { Recorder } from "../../../src/metrics/recorder.ts";
import type { SchedulingPolicy } from "../../../src/policies/scheduling/policy.ts";
import { Gate, INSTANCE, llm, workflow } from "./harness.ts";

describe("scheduling policy hooks", () => {
  it("closes, through callClosed, the calls rejected from the queue when their workflow fails", () => {
    const closed: string[] = [];
    const spy: SchedulingPolicy = {
      name: "spy",
      dynamic: false,
      rank: (q) => q.seq,
      callClosed: (call, instance, usage) => closed.push(`${call.id}:${instance?.spec.id ?? "-"}:${usage ? "usage" : "-"}`),
    };
    const gate = new Gate();
    gate.held = true;
    const recorder = new Recorder({ slo: {} });
    const controller = new Controller({ instances: [INSTANCE], scheduling: spy, dispatch: gate, recorder, random: () => 0.5 });
    const huge = { ...llm("huge", [], 5), input_tokens: 200_000 };
    controller.workflowArrived(0, workflow("w", 0, [llm("ok", [], 5), huge]));
    expect(controller.drain().filter((a) => a.kind === "reject")).toHaveLength(2);
    // "huge" never entered the queue; "ok" was queued and is closed without instance or usage.
    expect(closed).toEqual(["w/ok:-:-"]);
    expect(controller.openCalls).toBe(0);
  });
});
