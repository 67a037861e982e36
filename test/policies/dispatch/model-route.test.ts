import { describe, expect, it } from "vitest";
import { Controller } from "../../../src/core/controller.ts";
import { Recorder } from "../../../src/metrics/recorder.ts";
import { createModelRoute, modelGroupSizes } from "../../../src/policies/dispatch/model-route.ts";
import { createSchedulingPolicy } from "../../../src/policies/registry.ts";
import { call, controller, placements, snapshot, spec } from "./helpers.ts";

const cluster = () => [spec("small-0", { model: "m1" }), spec("big-0", { model: "m2" }), spec("small-1", { model: "m1" }), spec("big-1", { model: "m2" })];

describe("model-route dispatch", () => {
  it("sends calls of each model to that model's own group", () => {
    const c = controller("model-route", cluster());
    for (let i = 0; i < 20; i++) c.callArrived(i, call(`x${i}`, { model: i % 2 === 0 ? "m1" : "m2" }));
    const placed = placements(c.drain());
    for (let i = 0; i < 20; i++) expect(placed[`x${i}`]).toMatch(i % 2 === 0 ? /^small-/ : /^big-/);
    // least-outstanding within each group uses both of its instances.
    expect(new Set(Object.values(placed))).toEqual(new Set(["small-0", "small-1", "big-0", "big-1"]));
  });

  it("rotates within each group independently with within: round-robin", () => {
    const c = controller({ name: "model-route", params: { within: "round-robin" } }, cluster());
    const models = ["m1", "m2", "m2", "m1", "m1", "m2"];
    models.forEach((model, i) => c.callArrived(i, call(`x${i}`, { model })));
    const placed = placements(c.drain());
    expect(models.map((_, i) => placed[`x${i}`])).toEqual(["small-0", "big-0", "big-1", "small-1", "small-0", "big-0"]);
  });

  it("picks the lowest observed KV usage within the group with within: least-kv", () => {
    const c = controller({ name: "model-route", params: { within: "least-kv" } }, cluster());
    c.instanceObserved(0, snapshot("small-0", 0, 0.8));
    c.instanceObserved(0, snapshot("small-1", 0, 0.1));
    c.instanceObserved(0, snapshot("big-0", 0, 0.05)); // lowest overall, but serves another model
    c.callArrived(1, call("x", { model: "m1" }));
    expect(placements(c.drain()).x).toBe("small-1");
  });

  it("reports its per-model group sizes", () => {
    const policy = createModelRoute({ within: "least-outstanding" });
    const c = new Controller({
      instances: [...cluster(), spec("big-2", { model: "m2" })],
      scheduling: createSchedulingPolicy("fcfs"),
      dispatch: policy,
      recorder: new Recorder({ slo: {} }),
      random: () => 0.5,
    });
    c.callArrived(0, call("x", { model: "m2" }));
    expect(policy.groupSizes()).toEqual({ m2: 3 });
    c.callArrived(0, call("y", { model: "m1" }));
    expect(policy.groupSizes()).toEqual({ m1: 2, m2: 3 });
    expect(modelGroupSizes(cluster().map((s) => ({ spec: s })))).toEqual({ m1: 2, m2: 2 });
  });

  it("rejects an unknown inner policy naming the field", async () => {
    const { createDispatchPolicy } = await import("../../../src/policies/registry.ts");
    expect(() => createDispatchPolicy({ name: "model-route", params: { within: "fastest" } })).toThrow(/model-route params\.within/);
  });
});
