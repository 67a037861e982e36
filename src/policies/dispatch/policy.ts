import type { LlmCall } from "../../core/types.ts";
import type { ControllerView, InstanceView } from "../../core/view.ts";

/** Picks the instance for a call among `candidates` (the instances that serve its model and can
 *  hold it), or returns undefined to hold the call at the controller until state changes. */
export interface DispatchPolicy {
  readonly name: string;
  choose(call: LlmCall, candidates: readonly InstanceView[], view: ControllerView): InstanceView | undefined;
}

/** The candidate minimising `score`; ties go to the lower config index, so choices are stable. */
export function argMin(candidates: readonly InstanceView[], score: (instance: InstanceView) => number): InstanceView {
  let best = candidates[0];
  let bestScore = score(best);
  for (let i = 1; i < candidates.length; i++) {
    const s = score(candidates[i]);
    if (s < bestScore) {
      best = candidates[i];
      bestScore = s;
    }
  }
  return best;
}
