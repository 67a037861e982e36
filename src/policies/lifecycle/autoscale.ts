import type { InstanceView } from "../../core/view.ts";
import { TIME_EPSILON_S, type LifecycleDecision, type LifecyclePolicy } from "./policy.ts";

export interface AutoscaleParams {
  /** Scale up when waiting calls per active instance of a group exceed this… */
  queue_per_instance: number;
  /** …or when the mean observed KV usage of its awake instances exceeds this fraction. */
  kv_usage: number;
  /** Scale down an awake instance idle (nothing in flight, no activity) this long. */
  idle_s: number;
  /** Fewest instances a group keeps running. */
  min_instances: number;
  /** After a scaling action, a group waits this long before the next one. */
  cooldown_s: number;
}

/** autoscale — adds instances of a group (its `stopped` spares, which take the host's start-up
 *  delay to come up) when calls pile up (at the controller and in the engines' waiting queues, as
 *  scraped) or KV usage runs high, and stops idle
 *  ones down to a minimum (AgentSched's dynamic scaling; the thresholds of Kubernetes-style
 *  LLM autoscalers). Signals: waiting calls per model, observed KV usage, router activity times. */
export function createAutoscale(params: AutoscaleParams): LifecyclePolicy {
  const lastAction = new Map<string, number>();
  const groupOf = (i: InstanceView) => i.spec.group ?? i.spec.model;
  return {
    name: "autoscale",
    decide(view, context) {
      const now = view.now_s;
      const groups = new Map<string, InstanceView[]>();
      for (const i of view.instances) {
        const g = groupOf(i);
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g)!.push(i);
      }
      const decisions: LifecycleDecision[] = [];
      for (const [group, members] of groups) {
        if (now - (lastAction.get(group) ?? -Infinity) < params.cooldown_s) continue;
        const active = members.filter((i) => i.state === "awake" || i.state === "starting" || i.state === "waking");
        const awake = members.filter((i) => i.state === "awake");
        // Calls held here plus those queued in the engines (their last scrape).
        const waiting = (context.waitingByModel.get(members[0].spec.model) ?? 0) + awake.reduce((sum, i) => sum + (i.observed?.waiting ?? 0), 0);
        const kv = awake.length === 0 ? 0 : awake.reduce((sum, i) => sum + (i.observed?.kv_usage ?? 0), 0) / awake.length;
        const spare = members.find((i) => i.state === "stopped");
        if (spare && (waiting > params.queue_per_instance * Math.max(1, active.length) || kv > params.kv_usage)) {
          decisions.push({ kind: "startInstance", instanceId: spare.spec.id });
          lastAction.set(group, now);
          continue;
        }
        if (active.length > params.min_instances && waiting === 0) {
          const idle = awake.find((i) => i.outstanding === 0 && now - i.last_activity_s >= params.idle_s - TIME_EPSILON_S);
          if (idle) {
            decisions.push({ kind: "stopInstance", instanceId: idle.spec.id });
            lastAction.set(group, now);
          }
        }
      }
      return decisions;
    },
    nextCheck_s(view) {
      let next = Infinity;
      for (const i of view.instances) if (i.state === "awake" && i.outstanding === 0) next = Math.min(next, i.last_activity_s + params.idle_s);
      for (const t of lastAction.values()) if (t + params.cooldown_s > view.now_s) next = Math.min(next, t + params.cooldown_s);
      return next > view.now_s && next < Infinity ? next : undefined;
    },
  };
}
