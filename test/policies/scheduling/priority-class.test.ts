import { describe, expect, it } from "vitest";
import { call, gatedController } from "./harness.ts";

function queueMixedClasses(controller: ReturnType<typeof gatedController>["controller"]) {
  controller.callArrived(0, call("low", 0, { priority_class: "low" }));
  controller.callArrived(1, call("unclassed", 1));
  controller.callArrived(2, call("high-1", 2, { priority_class: "high" }));
  controller.callArrived(3, call("medium", 3, { priority_class: "medium" }));
  controller.callArrived(4, call("high-2", 4, { priority_class: "high" }));
  controller.drain();
}

describe("priority-class scheduling", () => {
  it("serves high before medium before low, first come first served within a class", () => {
    const { controller, gate, release } = gatedController("priority-class");
    gate.held = true;
    queueMixedClasses(controller);
    // A call without a class is medium by default, and arrived before the explicit medium one.
    expect(release(5)).toEqual(["high-1", "high-2", "unclassed", "medium", "low"]);
  });

  it("passes the class number to the engine as the vLLM request priority", () => {
    const { controller, gate } = gatedController("priority-class");
    gate.held = true;
    queueMixedClasses(controller);
    gate.held = false;
    controller.tick(5);
    const priorities = Object.fromEntries(controller.drain().flatMap((a) => (a.kind === "dispatch" ? [[a.call.id, a.enginePriority]] : [])));
    expect(priorities).toEqual({ "high-1": 0, "high-2": 0, unclassed: 1, medium: 1, low: 2 });
  });

  it("puts unclassed calls in default_class", () => {
    const { controller, gate, release } = gatedController({ name: "priority-class", params: { default_class: "low" } });
    gate.held = true;
    queueMixedClasses(controller);
    expect(release(5)).toEqual(["high-1", "high-2", "medium", "low", "unclassed"]);
  });
});
