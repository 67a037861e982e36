import type { DispatchExplanation } from "../../core/decisions.ts";
import type { InstanceSnapshot, LlmCall } from "../../core/types.ts";
import type { CallObserver, ControllerView, InstanceView } from "../../core/view.ts";

/** Picks the instance for a call among `candidates` (the instances that serve its model and can
 *  hold it), or returns undefined to hold the call at the controller: it is retried on the next
 *  event, or at `retryAt_s` if the policy names a time (e.g. the next time slot). */
export interface DispatchPolicy extends CallObserver {
  readonly name: string;
  choose(call: LlmCall, candidates: readonly InstanceView[], view: ControllerView): InstanceView | undefined;
  /** After a hold: when to try again even if nothing else happens (undefined = on the next event). */
  retryAt_s?(view: ControllerView): number | undefined;
  /** Every report of an instance's state, as it arrives (`instance.observed` is already it): for a
   *  policy that learns from the sequence of reports, not just the latest one. */
  instanceObserved?(snapshot: InstanceSnapshot, instance: InstanceView, view: ControllerView): void;
  /** Optional, for decision traces (docs/decisions.md): the scores or score terms behind the coming
   *  `choose`, called just before it with the same arguments and only while tracing. Must not
   *  change the policy's state (a traced run decides exactly as an untraced one). */
  explain?(call: LlmCall, candidates: readonly InstanceView[], view: ControllerView): DispatchExplanation;
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
