import { z } from "zod";
import type { SchedulingPolicy } from "./policy.ts";

export const KAIROS_STATIC_PARAMS = z
  .strictObject({
    /** An earlier run's report folder (its calls.csv): the run setup reads it and fills
     *  `priorities` (src does no I/O). Kept in the params so a report names where they came from. */
    profile: z.string().optional(),
    /** Agent key (`app/agent`) → static priority in seconds, lower first (kairosStaticPriorities). */
    priorities: z.record(z.string(), z.number().nonnegative()).optional(),
    /** Priority of a call whose agent the profile does not know (or that has none): `first` (0),
     *  `median` of the known priorities, or `last` (the largest known). */
    unknown_agent: z.enum(["first", "median", "last"]).default("median"),
    /** Seconds of rank a call gains per second it waits (0 = the pure static order, which can
     *  starve the slowest agent under sustained overload). */
    aging_s_per_s: z.number().min(0).default(0),
  })
  .refine((p) => p.priorities !== undefined, { message: "expected profile=DIR (an earlier run's report folder with calls.csv)", path: ["profile"] });

export type KairosStaticParams = z.infer<typeof KAIROS_STATIC_PARAMS>;

function fallbackPriority(values: number[], rule: KairosStaticParams["unknown_agent"]): number {
  if (values.length === 0 || rule === "first") return 0;
  const sorted = [...values].sort((a, b) => a - b);
  if (rule === "last") return sorted[sorted.length - 1];
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** kairos-static — Kairos's offline agent priority: every call ranks by its agent's static priority
 *  (distance of the agent's latency distribution from zero latency: Wasserstein-1 then 1-D MDS,
 *  computed from an earlier run by kairosStaticPriorities), lowest first; equal ranks keep arrival
 *  order. Unlike `kairos` (online remaining critical path) the order never changes during a run,
 *  unless `aging_s_per_s` > 0 (rank = priority − a × wait). Signal: `call.agent`.
 *  Source: Kairos's released scheduler (agent ranking by Wasserstein distance and MDS). */
export function createKairosStatic(params: KairosStaticParams): SchedulingPolicy {
  const priorities = new Map(Object.entries(params.priorities ?? {}));
  const fallback = fallbackPriority([...priorities.values()], params.unknown_agent);
  const aging = params.aging_s_per_s;
  const priorityOf = (agent: string | undefined) => (agent === undefined ? fallback : (priorities.get(agent) ?? fallback));
  return {
    name: "kairos-static",
    dynamic: aging > 0,
    rank(queued, view) {
      const base = priorityOf(queued.call.agent);
      return aging === 0 ? base : base - aging * (view.now_s - queued.enqueued_s);
    },
  };
}
