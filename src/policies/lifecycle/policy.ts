import type { ControllerView } from "../../core/view.ts";

/** A lifecycle decision about one instance. The controller applies it to its view at once (the
 *  router issued it) and asks the host to carry it out. */
export interface LifecycleDecision {
  kind: "sleep" | "wake" | "startInstance" | "stopInstance";
  instanceId: string;
}

/** What lifecycle policies see besides the view: waiting calls per model (key "" = any model). */
export interface LifecycleContext {
  readonly waitingByModel: ReadonlyMap<string, number>;
}

/** Decides which instances sleep, wake, start or stop. Called after the controller handled an
 *  event; `nextCheck_s` asks for a tick at a time when a decision may become due (an idle timer). */
export interface LifecyclePolicy {
  readonly name: string;
  decide(view: ControllerView, context: LifecycleContext): LifecycleDecision[];
  nextCheck_s?(view: ControllerView): number | undefined;
}

/** Deadlines computed as `t + idle_s` can come back a rounding error short of `idle_s` when the
 *  tick arrives exactly then: compare with this slack. */
export const TIME_EPSILON_S = 1e-9;
