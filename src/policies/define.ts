/** Typed helpers for a policy written outside tandem: a researcher's own file declares its policy
 *  through these, so the compiler checks it against the interface the controller calls, and
 *  `--scheduling FILE` / `--dispatch FILE` load it (docs/writing-policies.md). */
import type { z } from "zod";
import type { DispatchPolicy } from "./dispatch/policy.ts";
import { NO_PARAMS, type PolicyEntry } from "./entry.ts";
import type { SchedulingPolicy } from "./scheduling/policy.ts";

/** A policy's factory may leave out `name`: the definition's name is used. */
type Created<T extends { readonly name: string }> = Omit<T, "name"> & { readonly name?: string };

interface DefinitionInput<T extends { readonly name: string }, S extends z.ZodType> {
  name: string;
  description?: string;
  /** Its parameters: a zod schema (strict objects with defaults, as the built-in policies use), so
   *  `--scheduling-param` / `--dispatch-param` and config params are checked before the run. */
  params?: S;
  /** A fresh policy per run (policies may keep state), from the parsed params. */
  create(params: z.infer<S>): Created<T>;
}

/** What `defineSchedulingPolicy({ name, params, create })` returns: a registry entry tagged with its
 *  kind, the shape a policy file's default export has. */
export interface PolicyDefinition<K extends "scheduling" | "dispatch", T> extends PolicyEntry<T> {
  readonly kind: K;
  readonly name: string;
}

export type SchedulingPolicyDefinition = PolicyDefinition<"scheduling", SchedulingPolicy>;
export type DispatchPolicyDefinition = PolicyDefinition<"dispatch", DispatchPolicy>;

function definition<K extends "scheduling" | "dispatch", T extends { readonly name: string }, S extends z.ZodType>(kind: K, input: DefinitionInput<T, S>): PolicyDefinition<K, T> {
  return {
    kind,
    name: input.name,
    description: input.description ?? `${input.name} (a policy file)`,
    params: input.params ?? NO_PARAMS,
    create(params: never): T {
      const policy = input.create(params) as T & { name?: string };
      if (policy.name === undefined) Object.defineProperty(policy, "name", { value: input.name, enumerable: true });
      return policy as T;
    },
  };
}

/** A scheduling policy. With `{ name, params, create }`: a definition that a policy file exports by
 *  default (`--scheduling ./file.ts`); `create` gets the parsed params and returns the policy
 *  (`rank` orders the waiting calls, lower first, ties keep arrival order; `dynamic: true` re-ranks
 *  before each dispatch round). With a policy object: returns it unchanged (for `simulate` from a
 *  script).
 *
 *  ```ts
 *  export default defineSchedulingPolicy({
 *    name: "shortest-prompt-first",
 *    params: z.strictObject({ weight: z.number().positive().default(1) }),
 *    create: ({ weight }) => ({ dynamic: false, rank: (queued) => weight * queued.call.prompt_tokens }),
 *  });
 *  ``` */
export function defineSchedulingPolicy<S extends z.ZodType = typeof NO_PARAMS>(input: DefinitionInput<SchedulingPolicy, S>): SchedulingPolicyDefinition;
export function defineSchedulingPolicy<P extends SchedulingPolicy>(policy: P): P;
export function defineSchedulingPolicy(input: SchedulingPolicy | DefinitionInput<SchedulingPolicy, z.ZodType>): unknown {
  return "create" in input ? definition("scheduling", input) : input;
}

/** A dispatch policy: `choose` picks one of the candidate instances for a call, or returns
 *  undefined to hold it at the controller; an optional `explain` reports its scores to decision
 *  traces. Definition or policy object, as for `defineSchedulingPolicy`. */
export function defineDispatchPolicy<S extends z.ZodType = typeof NO_PARAMS>(input: DefinitionInput<DispatchPolicy, S>): DispatchPolicyDefinition;
export function defineDispatchPolicy<P extends DispatchPolicy>(policy: P): P;
export function defineDispatchPolicy(input: DispatchPolicy | DefinitionInput<DispatchPolicy, z.ZodType>): unknown {
  return "create" in input ? definition("dispatch", input) : input;
}
