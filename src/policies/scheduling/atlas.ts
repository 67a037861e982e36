import { z } from "zod";
import type { SchedulingPolicy } from "./policy.ts";
import { SERVICE_LEVEL_PARAMS, serviceLevels, type ServiceLevelParams } from "./service-levels.ts";

export const ATLAS_PARAMS = z.strictObject(SERVICE_LEVEL_PARAMS);

/** atlas — attained service along the critical path: like plas, but a call's priority counts only
 *  the service on the heaviest chain of steps that leads to it, not everything its workflow has
 *  received. A wide workflow whose parallel branches each received a little is not demoted for
 *  their sum; a call deep in a long sequential chain is.
 *  Signal: `attainedServiceOnPath_s(workflow, step)` — kept by the orchestrator, which knows the
 *  DAG: when a step is released its path service is the maximum over its predecessors of (their
 *  path service + their own service time, dispatch to finish; tools count 0). This is Autellix's
 *  ATLAS recurrence priority(c) = max over parents p of (priority(p) + service(p)), evaluated on the
 *  workflow's explicit DAG instead of being reconstructed from call threads. Calls outside a
 *  workflow have 0. The value is quantised into `levels` FCFS levels exactly as in plas (level = the
 *  first k with service < base_s × ratio^k), and a call waiting longer than `starvation_s` is
 *  promoted to level 0. A call's path service is fixed once it is released, so only the starvation
 *  promotion moves ranks — but that is time-driven, so the policy is dynamic.
 *  Source: Autellix (Luo et al., 2025), ATLAS — attained service along the critical path for
 *  programs that are DAGs of calls. */
export function createAtlas(params: ServiceLevelParams): SchedulingPolicy {
  const levelOf = serviceLevels(params);
  const starvation_s = params.starvation_s;
  return {
    name: "atlas",
    dynamic: true,
    rank(queued, view) {
      if (view.now_s - queued.enqueued_s > starvation_s) return 0;
      const { workflow_id, step_id } = queued.call;
      if (workflow_id === undefined || step_id === undefined) return 0;
      return levelOf(view.workflows.attainedServiceOnPath_s(workflow_id, step_id));
    },
  };
}
