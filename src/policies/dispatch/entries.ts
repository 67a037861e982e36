import { entry, NO_PARAMS, type PolicyEntry } from "../entry.ts";
import { CAPACITY_PARAMS, createCapacity } from "./capacity.ts";
import { createKairosTimeslot, KAIROS_TIMESLOT_PARAMS } from "./kairos-timeslot.ts";
import { createModelRoute, MODEL_ROUTE_PARAMS } from "./model-route.ts";
import type { DispatchPolicy } from "./policy.ts";
import { createPrefixAffinity, PREFIX_AFFINITY_PARAMS } from "./prefix-affinity.ts";
import { createRandom } from "./random.ts";
import { createSessionAffinity, SESSION_AFFINITY_PARAMS } from "./session-affinity.ts";
import { createWeighted, WEIGHTED_PARAMS } from "./weighted.ts";

/** Dispatch policies beyond the foundation's three, one line each: name → entry(...). */
export const DISPATCH_ENTRIES: Record<string, PolicyEntry<DispatchPolicy>> = {
  random: entry("uniformly random instance (seeded)", NO_PARAMS, createRandom),
  "kairos-timeslot": entry("Kairos memory-aware time-slot dispatch: admit where no predicted KV slot overflows, lowest peak wins", KAIROS_TIMESLOT_PARAMS, createKairosTimeslot),
  "prefix-affinity": entry("KV-aware: least uncached prefill + active decode blocks (Dynamo), with SGLang's balance guard", PREFIX_AFFINITY_PARAMS, createPrefixAffinity),
  "session-affinity": entry("consistent hash of workflow/tenant, next on the ring when overloaded", SESSION_AFFINITY_PARAMS, createSessionAffinity),
  "model-route": entry("route by model, then an inner policy within the model's group", MODEL_ROUTE_PARAMS, createModelRoute),
  capacity: entry("AgentSched: per-instance concurrency caps and task-type routing, hold when full", CAPACITY_PARAMS, createCapacity),
  weighted: entry("llm-d style weighted sum of queue, KV, prefix and session scorers", WEIGHTED_PARAMS, createWeighted),
};
