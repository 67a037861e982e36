import { Controller } from "../../../src/core/controller.ts";
import type { ControllerAction } from "../../../src/core/events.ts";
import type { CallUsage, InstanceSnapshot, InstanceSpec, LlmCall } from "../../../src/core/types.ts";
import { Recorder } from "../../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy, type PolicyChoice } from "../../../src/policies/registry.ts";

export function spec(id: string, extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return { id, model: "m", gpu: "g", tensor_parallel: 1, max_model_len: 100_000, kv_capacity_tokens: 100_000, ...extra };
}

export function call(id: string, extra: Partial<LlmCall> = {}): LlmCall {
  const prompt_tokens = extra.prompt_tokens ?? 10;
  return { id, arrival_s: 0, prompt_tokens, output_tokens: 5, segments: [{ tokens: prompt_tokens }], ...extra };
}

/** A call whose prompt is the keyed segment `prefix` (prefix_tokens) then `unique` unkeyed tokens. */
export function prefixCall(id: string, prefix: string, prefix_tokens = 256, unique = 32, extra: Partial<LlmCall> = {}): LlmCall {
  return call(id, {
    prompt_tokens: prefix_tokens + unique,
    segments: [{ key: prefix, tokens: prefix_tokens }, { tokens: unique }],
    ...extra,
  });
}

export function usage(c: Pick<LlmCall, "prompt_tokens" | "output_tokens">): CallUsage {
  return { prompt_tokens: c.prompt_tokens, cached_tokens: 0, output_tokens: c.output_tokens, preemptions: 0 };
}

export function snapshot(instance: string, at_s: number, kv_usage: number): InstanceSnapshot {
  return { instance, at_s, running: 0, waiting: 0, kv_usage, prefix_queried_tokens: 0, prefix_hit_tokens: 0, preemptions: 0, awake: true };
}

/** A controller over `instances` with fcfs scheduling and the given dispatch policy. */
export function controller(dispatch: PolicyChoice, instances: InstanceSpec[], random: () => number = () => 0.5): Controller {
  return new Controller({
    instances,
    scheduling: createSchedulingPolicy("fcfs"),
    dispatch: createDispatchPolicy(dispatch),
    recorder: new Recorder({ slo: {} }),
    random,
  });
}

/** Instance ids of dispatch actions (other actions by kind). */
export const targets = (actions: readonly ControllerAction[]) => actions.map((a) => (a.kind === "dispatch" ? a.instanceId : a.kind));

/** Where each call went, by call id. */
export function placements(actions: readonly ControllerAction[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of actions) if (a.kind === "dispatch") out[a.call.id] = a.instanceId;
  return out;
}

/** Reports a call's first token and its finish at `at_s`. */
export function finish(c: Controller, at_s: number, done: LlmCall): void {
  c.callFirstToken(at_s, done.id);
  c.callFinished(at_s, done.id, usage(done));
}
