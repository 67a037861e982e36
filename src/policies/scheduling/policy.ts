import type { CallObserver, ControllerView, QueuedCall } from "../../core/view.ts";

/** Orders the calls waiting at the controller. Lower `rank` is dispatched first; equal ranks keep
 *  arrival order. A policy whose ranks change while calls wait (by elapsed time, by other calls
 *  finishing) sets `dynamic`, and the controller re-ranks the queue before each dispatch round. */
export interface SchedulingPolicy extends CallObserver {
  readonly name: string;
  readonly dynamic: boolean;
  rank(queued: QueuedCall, view: ControllerView): number;
  /** Optional per-request priority for the engine (vLLM `priority`; lower runs first). */
  enginePriority?(queued: QueuedCall, view: ControllerView): number | undefined;
  /** Optional, for decision traces (docs/decisions.md): the named terms of `rank` for this call
   *  (e.g. `{ remaining_s, aging_s }`). Called only while tracing; must not change state. */
  explain?(queued: QueuedCall, view: ControllerView): Record<string, number>;
}
