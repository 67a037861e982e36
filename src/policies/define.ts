/** Typed helpers for a policy written outside tandem: a researcher's own file declares its policy
 *  through these, so the compiler checks it against the interface the controller calls. */
import type { DispatchPolicy } from "./dispatch/policy.ts";
import type { SchedulingPolicy } from "./scheduling/policy.ts";

/** A scheduling policy: `rank` orders the waiting calls (lower first; ties keep arrival order),
 *  `dynamic: true` re-ranks the queue before each dispatch round. Returns `policy` unchanged.
 *
 *  ```ts
 *  const shortestPromptFirst = defineSchedulingPolicy({
 *    name: "shortest-prompt-first",
 *    dynamic: false,
 *    rank: (queued) => queued.call.prompt_tokens,
 *  });
 *  ``` */
export function defineSchedulingPolicy<P extends SchedulingPolicy>(policy: P): P {
  return policy;
}

/** A dispatch policy: `choose` picks one of the candidate instances for a call, or returns
 *  undefined to hold it at the controller. Returns `policy` unchanged. */
export function defineDispatchPolicy<P extends DispatchPolicy>(policy: P): P {
  return policy;
}
