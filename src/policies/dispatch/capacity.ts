import { z } from "zod";
import { InputError } from "../../core/errors.ts";
import type { LlmCall } from "../../core/types.ts";
import type { InstanceView } from "../../core/view.ts";
import type { DispatchPolicy } from "./policy.ts";

const DEFAULT_MAX_CONCURRENCY = 64;

export const CAPACITY_PARAMS = z.strictObject({
  /** Calls in flight allowed per instance: one number for all, or instance id → number (instances
   *  not named get 64). */
  max_concurrency: z
    .union([z.number().int().positive(), z.record(z.string(), z.number().int().positive())], {
      error: "expected a positive integer, or a map of instance id → positive integer",
    })
    .default(DEFAULT_MAX_CONCURRENCY),
  /** Instance id → the agents (`app/agent`) or apps (`app`) it serves; instances not named serve all. */
  task_types: z.record(z.string(), z.array(z.string().min(1)).min(1)).default({}),
});

export type CapacityParams = z.infer<typeof CAPACITY_PARAMS>;

/** Whether a call of agent `agent` (`app/agent`, or undefined for calls outside workflows) is one
 *  of `types`: the full agent key or its app matches. Calls without an agent have no task type and
 *  may go anywhere. */
export function supportsTaskType(types: readonly string[] | undefined, agent: string | undefined): boolean {
  if (types === undefined || agent === undefined) return true;
  const slash = agent.indexOf("/");
  const app = slash < 0 ? agent : agent.slice(0, slash);
  return types.includes(agent) || types.includes(app);
}

/** capacity — AgentSched's capacity- and type-aware routing. Each instance takes at most
 *  `max_concurrency` calls in flight (the router's own count: a bounded connection pool per
 *  backend) and only the task types `task_types` lists for it (an agent `app/agent` matches its full
 *  key or its app; instances without an entry take every type). Among the eligible instances with
 *  spare capacity the least loaded — lowest outstanding / cap, then fewest outstanding, then config
 *  order — gets the call; when none has room the call is held at the controller and retried on the
 *  next event (a call closing frees a slot, an instance waking adds room). A call whose type no
 *  instance of its model serves is a config error and is reported as one, since holding it would
 *  hold it forever.
 *  Source: AgentSched (per-model capacity limits, task-type routing, bounded concurrency). */
export function createCapacity(params: CapacityParams): DispatchPolicy {
  let checked = false;
  const caps: number[] = [];
  const types: (readonly string[] | undefined)[] = [];

  /** Resolves per-instance caps and types once the instances are known; unknown ids are errors. */
  const resolve = (instances: readonly InstanceView[]) => {
    const ids = new Set(instances.map((i) => i.spec.id));
    const named = (field: string, record: Record<string, unknown>) => {
      for (const id of Object.keys(record)) {
        if (!ids.has(id)) {
          throw new InputError(`capacity params.${field}: unknown instance "${id}"; instances are ${[...ids].join(", ")}`);
        }
      }
    };
    if (typeof params.max_concurrency === "object") named("max_concurrency", params.max_concurrency);
    named("task_types", params.task_types);
    for (const instance of instances) {
      const cap = params.max_concurrency;
      caps[instance.index] = typeof cap === "number" ? cap : (cap[instance.spec.id] ?? DEFAULT_MAX_CONCURRENCY);
      types[instance.index] = Object.hasOwn(params.task_types, instance.spec.id) ? params.task_types[instance.spec.id] : undefined;
    }
    checked = true;
  };

  return {
    name: "capacity",
    choose(call: LlmCall, candidates, view) {
      if (!checked) resolve(view.instances);
      let best: InstanceView | undefined;
      let bestLoad = Infinity;
      let anySupports = false;
      for (const instance of candidates) {
        if (!supportsTaskType(types[instance.index], call.agent)) continue;
        anySupports = true;
        const cap = caps[instance.index];
        if (instance.outstanding >= cap) continue;
        const load = instance.outstanding / cap;
        if (load < bestLoad || (load === bestLoad && instance.outstanding < best!.outstanding)) {
          best = instance;
          bestLoad = load;
        }
      }
      if (!anySupports && !view.instances.some((i) => i.spec.model === candidates[0].spec.model && supportsTaskType(types[i.index], call.agent))) {
        throw new InputError(`capacity params.task_types: no instance of model ${candidates[0].spec.model} lists agent "${call.agent}" or its app (call ${call.id})`);
      }
      return best;
    },
  };
}
