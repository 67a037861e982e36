import type { SchedulingPolicy } from "./policy.ts";

/** critical-path — the call with the longest remaining path through it goes first: delaying a call
 *  on a workflow's critical path delays the whole workflow, delaying one with slack does not.
 *  Signals: rank = −(`expectedCall_s(call)` + `remainingPathAfter_s(workflow, step)`): the call's
 *  own expected time (its agent's online mean, else the zero-queueing estimate) plus the longest
 *  remaining path among its successors. This is `remainingPathThrough_s` with the call's own time
 *  counted in full: the orchestrator counts a released step as running from its release, so the
 *  through-path of a call shrinks while it waits, and ranking by it would push a call further back
 *  the longer it has waited. Calls outside a workflow rank by −`expectedCall_s`. Successors' times
 *  move with the profiles and with running steps, so the policy is dynamic.
 *  Source: critical-path list scheduling of DAGs (HLFET/CPOP); the DAG workflow scheduler over
 *  AppWorld/MAST agent traces. */
export function createCriticalPath(): SchedulingPolicy {
  return {
    name: "critical-path",
    dynamic: true,
    rank(queued, view) {
      const call = queued.call;
      const own_s = view.workflows.expectedCall_s(call);
      if (call.workflow_id === undefined || call.step_id === undefined) return -own_s;
      return -(own_s + view.workflows.remainingPathAfter_s(call.workflow_id, call.step_id));
    },
  };
}
