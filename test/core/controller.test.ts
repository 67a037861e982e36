import { describe, expect, it } from "vitest";
import { Controller } from "../../src/core/controller.ts";
import type { ControllerAction } from "../../src/core/events.ts";
import type { InstanceSpec, LlmCall } from "../../src/core/types.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";

function spec(id: string, model = "m", max_model_len = 1000): InstanceSpec {
  return { id, model, gpu: "g", tensor_parallel: 1, max_model_len, kv_capacity_tokens: 10_000 };
}

function call(id: string, at: number, extra: Partial<LlmCall> = {}): LlmCall {
  return { id, arrival_s: at, prompt_tokens: 10, output_tokens: 5, segments: [{ tokens: 10 }], ...extra };
}

/** The recorder each test's controller writes to (the controller does not expose it). */
const recorders = new WeakMap<Controller, Recorder>();

function controller(dispatch: string, instances = [spec("a"), spec("b"), spec("c")]) {
  const recorder = new Recorder({ slo: {} });
  const c = new Controller({
    instances,
    scheduling: createSchedulingPolicy("fcfs"),
    dispatch: createDispatchPolicy(dispatch),
    recorder,
    random: () => 0.5,
  });
  recorders.set(c, recorder);
  return c;
}

const recorderOf = (c: Controller) => recorders.get(c)!;

const targets = (actions: readonly ControllerAction[]) => actions.map((a) => (a.kind === "dispatch" ? a.instanceId : a.kind));

describe("Controller: events in, actions out", () => {
  it("round-robin dispatches to instances in turn", () => {
    const c = controller("round-robin");
    for (let i = 0; i < 4; i++) c.callArrived(i, call(`x${i}`, i));
    expect(targets(c.drain())).toEqual(["a", "b", "c", "a"]);
  });

  it("least-outstanding sends each call where the fewest are in flight by its own count", () => {
    const c = controller("least-outstanding");
    c.callArrived(0, call("x0", 0));
    c.callArrived(0, call("x1", 0));
    c.callArrived(0, call("x2", 0));
    c.drain();
    c.callFirstToken(0.5, "x1");
    c.callFinished(1, "x1", { prompt_tokens: 10, cached_tokens: 0, output_tokens: 5, preemptions: 0 });
    c.callArrived(1, call("x3", 1));
    expect(targets(c.drain())).toEqual(["b"]);
  });

  it("least-kv prefers the instance with the lowest observed KV usage", () => {
    const c = controller("least-kv");
    const snap = (instance: string, kv_usage: number) => ({
      instance,
      at_s: 0,
      running: 0,
      waiting: 0,
      kv_usage,
      prefix_queried_tokens: 0,
      prefix_hit_tokens: 0,
      preemptions: 0,
      awake: true,
    });
    c.instanceObserved(0, snap("a", 0.5));
    c.instanceObserved(0, snap("b", 0.2));
    c.instanceObserved(0, snap("c", 0.9));
    c.callArrived(1, call("x", 1));
    expect(targets(c.drain())).toEqual(["b"]);
  });

  it("only dispatches a call to instances serving its model", () => {
    const c = controller("round-robin", [spec("a", "m1"), spec("b", "m2")]);
    c.callArrived(0, call("x", 0, { model: "m2" }));
    c.callArrived(0, call("y", 0, { model: "m2" }));
    expect(targets(c.drain())).toEqual(["b", "b"]);
  });

  it("rejects a call no instance can hold, with a reason, and counts it", () => {
    const c = controller("round-robin", [spec("a", "m", 100)]);
    c.callArrived(0, call("long", 0, { prompt_tokens: 90, output_tokens: 20, segments: [{ tokens: 90 }] }));
    c.callArrived(0, call("other-model", 0, { model: "zzz" }));
    expect(c.drain()).toEqual([
      { kind: "reject", callId: "long", reason: "exceeds_max_model_len" },
      { kind: "reject", callId: "other-model", reason: "no_instance_for_model" },
    ]);
    expect(recorderOf(c).summary().calls.rejected).toBe(2);
    expect(c.openCalls).toBe(0);
  });

  it("re-dispatches a call that failed before streaming, and fails it for good otherwise", () => {
    const c = controller("round-robin");
    c.callArrived(0, call("x", 0));
    expect(targets(c.drain())).toEqual(["a"]);
    c.callFailed(1, "x", "connection refused", true);
    expect(targets(c.drain())).toEqual(["b"]);
    c.callFailed(2, "x", "stream broken", false);
    expect(c.openCalls).toBe(0);
    expect(recorderOf(c).summary().calls.failed).toBe(1);
  });

  it("refuses events that go back in time", () => {
    const c = controller("round-robin");
    c.callArrived(5, call("x", 5));
    expect(() => c.tick(4)).toThrow(/backwards/);
  });

  it("handle() accepts the same events as data", () => {
    const c = controller("round-robin");
    c.handle({ kind: "callArrived", at_s: 0, call: call("x", 0) });
    c.handle({ kind: "callFirstToken", at_s: 0.1, callId: "x" });
    c.handle({ kind: "callFinished", at_s: 0.5, callId: "x", usage: { prompt_tokens: 10, cached_tokens: 0, output_tokens: 5, preemptions: 0 } });
    expect(recorderOf(c).summary().calls.completed).toBe(1);
    expect(recorderOf(c).summary().ttft_s.mean).toBeCloseTo(0.1);
  });
});

describe("policy registry", () => {
  it("names the known policies when one is unknown", () => {
    expect(() => createDispatchPolicy("fastest")).toThrow(/unknown dispatch policy "fastest"; expected one of round-robin, least-outstanding, least-kv/);
    expect(() => createSchedulingPolicy("lifo")).toThrow(/unknown scheduling policy "lifo"; expected one of fcfs/);
  });
});
