import type { InstanceView } from "../../core/view.ts";
import { TIME_EPSILON_S, type LifecycleDecision, type LifecyclePolicy } from "./policy.ts";

export interface SleepWakeParams {
  /** An awake instance with nothing in flight and no activity for this long is put to sleep. */
  idle_s: number;
  /** Once asleep, an instance stays asleep at least this long, even when requests wait for it
   *  (a guard against reload thrashing; 0 = wake on request at once). */
  min_sleep_s: number;
  /** Awake instances kept per model whatever the idleness (0 = a whole model may sleep). */
  min_awake_per_model: number;
}

/** sleep-wake — kvcached's multi-LLM controller: models that go idle are put to sleep (vLLM sleep
 *  mode frees their weights and KV cache, so co-located models get a larger KV pool) and woken on
 *  the next request for them (a wake takes the host's wake latency; calls wait at the controller
 *  meanwhile). Signals: the router's own per-instance activity times and outstanding counts, and
 *  the waiting calls per model. */
export function createSleepWake(params: SleepWakeParams): LifecyclePolicy {
  const modelOf = (i: InstanceView) => i.spec.model;
  return {
    name: "sleep-wake",
    decide(view, context) {
      const decisions: LifecycleDecision[] = [];
      const now = view.now_s;
      const awakeByModel = new Map<string, number>();
      for (const i of view.instances) {
        if (i.state === "awake" || i.state === "waking") awakeByModel.set(modelOf(i), (awakeByModel.get(modelOf(i)) ?? 0) + 1);
      }
      // Wake on request: a model with waiting calls and nothing awake or waking.
      for (const [model, waiting] of context.waitingByModel) {
        if (waiting === 0) continue;
        const group = view.instances.filter((i) => model === "" || modelOf(i) === model);
        if (group.some((i) => i.state === "awake" || i.state === "waking")) continue;
        const sleeper = group.find((i) => i.state === "asleep" && now - i.state_since_s >= params.min_sleep_s - TIME_EPSILON_S);
        if (sleeper) {
          decisions.push({ kind: "wake", instanceId: sleeper.spec.id });
          awakeByModel.set(modelOf(sleeper), (awakeByModel.get(modelOf(sleeper)) ?? 0) + 1);
        }
      }
      // Sleep the idle.
      for (const i of view.instances) {
        if (i.state !== "awake" || i.outstanding > 0 || now - i.last_activity_s < params.idle_s - TIME_EPSILON_S) continue;
        if ((context.waitingByModel.get(modelOf(i)) ?? 0) > 0 || (context.waitingByModel.get("") ?? 0) > 0) continue;
        const awake = awakeByModel.get(modelOf(i)) ?? 0;
        if (awake <= params.min_awake_per_model) continue;
        awakeByModel.set(modelOf(i), awake - 1);
        decisions.push({ kind: "sleep", instanceId: i.spec.id });
      }
      return decisions;
    },
    nextCheck_s(view) {
      let next = Infinity;
      for (const i of view.instances) {
        if (i.state === "awake" && i.outstanding === 0) next = Math.min(next, i.last_activity_s + params.idle_s);
        if (i.state === "asleep" && params.min_sleep_s > 0) next = Math.min(next, i.state_since_s + params.min_sleep_s);
      }
      return next > view.now_s && next < Infinity ? next : undefined;
    },
  };
}
