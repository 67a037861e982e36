import { z } from "zod";
import type { SchedulingPolicy } from "./policy.ts";

export const KAIROS_PARAMS = z.strictObject({
  /** Seconds of rank a call gains per second it waits (0 = pure least-remaining-work, which can
   *  starve long workflows under sustained load). */
  aging_s_per_s: z.number().min(0).default(0),
});

export type KairosParams = z.infer<typeof KAIROS_PARAMS>;

/** kairos — workflow-aware priority: the call whose workflow has the least remaining work goes
 *  first (shortest-remaining-time-first at the level of whole workflows, so short workflows are not
 *  stuck behind the many calls of long ones).
 *  Signals: `remainingCriticalPath_s(workflow)` — the workflow's remaining critical path, each step
 *  predicted from its agent's online latency profile (the zero-queueing estimate until the agent has
 *  one), steps already released counted less the time since their release; calls outside a
 *  workflow rank by `expectedCall_s(call)`. With `aging_s_per_s` = a, rank = remaining − a × wait.
 *  The ranks move as calls finish and time passes, so the policy is dynamic.
 *  Source: Kairos (multi-agent orchestration): priority scheduling by remaining workflow latency
 *  from online per-agent profiles. */
export function createKairos(params: KairosParams): SchedulingPolicy {
  const aging = params.aging_s_per_s;
  return {
    name: "kairos",
    dynamic: true,
    rank(queued, view) {
      const call = queued.call;
      const remaining_s = call.workflow_id !== undefined ? view.workflows.remainingCriticalPath_s(call.workflow_id) : view.workflows.expectedCall_s(call);
      return aging === 0 ? remaining_s : remaining_s - aging * (view.now_s - queued.enqueued_s);
    },
  };
}
