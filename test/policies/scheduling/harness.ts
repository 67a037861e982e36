import { Controller } from "../../../src/core/controller.ts";
import type { ControllerAction } from "../../../src/core/events.ts";
import type { CallUsage, InstanceSpec, LlmCall } from "../../../src/core/types.ts";
import { Recorder } from "../../../src/metrics/recorder.ts";
import type { InstanceView } from "../../../src/core/view.ts";
import type { DispatchPolicy } from "../../../src/policies/dispatch/policy.ts";
import { createSchedulingPolicy, type PolicyChoice } from "../../../src/policies/registry.ts";
import type { CallEstimator } from "../../../src/workflow/orchestrator.ts";
import type { LlmStepSpec, WorkflowSpec } from "../../../src/workflow/types.ts";

export const INSTANCE: InstanceSpec = { id: "i0", model: "m", gpu: "g", tensor_parallel: 1, max_model_len: 100_000, kv_capacity_tokens: 1e6 };

/** A test-only dispatch policy with a gate: while `held`, every call waits at the controller, so a
 *  queue builds up; once opened, calls go to the first candidate in scheduling order. With `limit`,
 *  an instance takes at most that many calls in flight (by the router's own count), so calls leave
 *  the queue one at a time as others finish. */
export class Gate implements DispatchPolicy {
  readonly name = "gate";
  held = false;
  constructor(readonly limit = Infinity) {}
  choose(_call: LlmCall, candidates: readonly InstanceView[]): InstanceView | undefined {
    if (this.held) return undefined;
    return candidates.find((c) => c.outstanding < this.limit);
  }
}

/** Zero-queueing estimate used by these tests: 10 ms per output token, nothing else. */
export const TEN_MS_PER_TOKEN: CallEstimator = { isolatedCall_s: (_model, _prompt, _uncached, output) => output * 0.01 };

export function gatedController(scheduling: PolicyChoice, options: { estimator?: CallEstimator; limit?: number } = {}) {
  const gate = new Gate(options.limit);
  const controller = new Controller({
    instances: [INSTANCE],
    scheduling: createSchedulingPolicy(scheduling),
    dispatch: gate,
    recorder: new Recorder({ slo: {} }),
    random: () => 0.5,
    estimator: options.estimator ?? TEN_MS_PER_TOKEN,
  });
  /** Opens the gate at `at_s` and returns the ids dispatched then, in order. */
  const release = (at_s: number): string[] => {
    gate.held = false;
    controller.tick(at_s);
    return dispatched(controller.drain());
  };
  return { controller, gate, release };
}

export const dispatched = (actions: readonly ControllerAction[]) => actions.flatMap((a) => (a.kind === "dispatch" ? [a.call.id] : []));

export function usage(call_output_tokens: number, prompt_tokens = 10): CallUsage {
  return { prompt_tokens, cached_tokens: 0, output_tokens: call_output_tokens, preemptions: 0 };
}

/** A single call (not part of a workflow). */
export function call(id: string, at_s: number, extra: Partial<LlmCall> = {}): LlmCall {
  return { id, arrival_s: at_s, prompt_tokens: 10, output_tokens: 5, segments: [{ tokens: 10 }], ...extra };
}

/** LLM step shorthand: id, dependencies, output tokens, agent "a". */
export function llm(id: string, after: string[], output_tokens: number, agent = "a"): LlmStepSpec {
  return { kind: "llm", id, after, agent, input_tokens: 5, output_tokens };
}

export function workflow(id: string, arrival_s: number, steps: WorkflowSpec["steps"], extra: Partial<WorkflowSpec> = {}): WorkflowSpec {
  const agents: WorkflowSpec["agents"] = {};
  for (const step of steps) if (step.kind === "llm") agents[step.agent] = { system_tokens: 10 };
  return { id, arrival_s, agents, steps, ...extra };
}

/** Finishes a dispatched call at `at_s` (first token and finish together). */
export function finish(controller: Controller, at_s: number, callId: string, output_tokens = 5): string[] {
  controller.callFirstToken(at_s, callId);
  controller.callFinished(at_s, callId, usage(output_tokens));
  return dispatched(controller.drain());
}
