import type { SchedulingPolicy } from "./policy.ts";

/** fcfs — first come, first served: calls leave the controller in arrival order.
 *  Source: vLLM's default scheduling policy. */
export function createFcfs(): SchedulingPolicy {
  return {
    name: "fcfs",
    dynamic: false,
    rank: (queued) => queued.call.arrival_s,
  };
}
