import { z } from "zod";
import type { InstanceView } from "../../core/view.ts";
import { createLeastKv } from "./least-kv.ts";
import { createLeastOutstanding } from "./least-outstanding.ts";
import type { DispatchPolicy } from "./policy.ts";
import { createRoundRobin } from "./round-robin.ts";

export const MODEL_ROUTE_PARAMS = z.strictObject({
  /** How to pick within the call's model group. */
  within: z.enum(["least-outstanding", "round-robin", "least-kv"]).default("least-outstanding"),
});

export type ModelRouteParams = z.infer<typeof MODEL_ROUTE_PARAMS>;

export interface ModelRoutePolicy extends DispatchPolicy {
  /** Instances per model among the groups this policy has routed to, by model name (sorted). */
  groupSizes(): Record<string, number>;
}

/** model-route — multi-model clusters: a call goes to the group of instances serving its `model`
 *  (the controller has already narrowed the candidates to that group, after resolving aliases), and
 *  inside the group an inner policy picks (`within`: least-outstanding, round-robin — rotating per
 *  group — or least-kv). Groups are independent: load on one model never moves another model's
 *  calls. `groupSizes()` reports the instances per model seen so far (`modelGroupSizes` computes it
 *  for a whole cluster).
 *  Source: the kvcached multi-LLM router (route by the OpenAI `model` field, then balance within
 *  the model's instances) and vLLM production-stack's per-model service discovery. */
export function createModelRoute(params: ModelRouteParams): ModelRoutePolicy {
  const inner = params.within === "round-robin" ? createRoundRobin() : params.within === "least-kv" ? createLeastKv() : createLeastOutstanding();
  const sizes = new Map<string, number>();
  return {
    name: "model-route",
    choose(call, candidates, view) {
      const model = candidates[0].spec.model;
      if (!sizes.has(model)) sizes.set(model, view.instances.filter((i) => i.spec.model === model).length);
      return inner.choose(call, candidates, view);
    },
    groupSizes: () => Object.fromEntries([...sizes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** Instances per model in a cluster, by model name (sorted). */
export function modelGroupSizes(instances: readonly Pick<InstanceView, "spec">[]): Record<string, number> {
  const sizes = new Map<string, number>();
  for (const instance of instances) sizes.set(instance.spec.model, (sizes.get(instance.spec.model) ?? 0) + 1);
  return Object.fromEntries([...sizes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
