import { z } from "zod";
import type { LlmCall } from "../../core/types.ts";
import { CLASS_PRIORITY } from "../../workflow/orchestrator.ts";
import type { PriorityClass } from "../../workflow/types.ts";
import type { SchedulingPolicy } from "./policy.ts";

export const PRIORITY_CLASS_PARAMS = z.strictObject({
  /** Class of a call that names none (request traces, untagged gateway traffic). */
  default_class: z.enum(["high", "medium", "low"]).default("medium"),
});

export type PriorityClassParams = z.infer<typeof PRIORITY_CLASS_PARAMS>;

/** priority-class — three classes, high before medium before low, first come first served within a
 *  class. Signal: the call's `priority_class` (its workflow's class; `default_class` when it has
 *  none). The class number (high 0, medium 1, low 2) also goes to the engine as the vLLM request
 *  `priority`, so an engine running `scheduling_policy: priority` keeps the same order in its own
 *  waiting queue and picks preemption victims from the lowest class.
 *  Source: AgentSched's priority classes; vLLM's per-request priority scheduling. */
export function createPriorityClass(params: PriorityClassParams): SchedulingPolicy {
  const fallback: PriorityClass = params.default_class;
  const classOf = (call: LlmCall) => CLASS_PRIORITY[call.priority_class ?? fallback];
  return {
    name: "priority-class",
    dynamic: false,
    // Equal ranks keep arrival order, so the class number alone gives FCFS within a class.
    rank: (queued) => classOf(queued.call),
    enginePriority: (queued) => classOf(queued.call),
  };
}
