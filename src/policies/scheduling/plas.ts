import { z } from "zod";
import type { SchedulingPolicy } from "./policy.ts";
import { SERVICE_LEVEL_PARAMS, serviceLevels, type ServiceLevelParams } from "./service-levels.ts";

export const PLAS_PARAMS = z.strictObject(SERVICE_LEVEL_PARAMS);

/** plas — program-level least attained service: a workflow ("program") that has already received
 *  much service is demoted below workflows that have received little, so short programs finish
 *  quickly without knowing any program's length in advance.
 *  Signal: `attainedService_s(workflow)` — the summed service time (dispatch to finish) of the
 *  workflow's finished LLM calls; 0 for calls outside a workflow. It is quantised into `levels`
 *  FCFS levels: level = the first k with service < base_s × ratio^k (the last level takes the
 *  rest); lower levels go first, arrival order within a level. A call that has waited longer than
 *  `starvation_s` is promoted to level 0 (where it is among the oldest, so it goes next). Ranks move
 *  as calls finish and as calls wait, so the policy is dynamic.
 *  Source: Autellix (Luo et al., 2025), PLAS — program-level least-attained-service with a
 *  multi-level queue and anti-starvation promotion. */
export function createPlas(params: ServiceLevelParams): SchedulingPolicy {
  const levelOf = serviceLevels(params);
  const starvation_s = params.starvation_s;
  return {
    name: "plas",
    dynamic: true,
    rank(queued, view) {
      if (view.now_s - queued.enqueued_s > starvation_s) return 0;
      const workflowId = queued.call.workflow_id;
      return workflowId === undefined ? 0 : levelOf(view.workflows.attainedService_s(workflowId));
    },
  };
}
