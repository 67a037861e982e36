import { InputError } from "../core/errors.ts";
import { zodInputError } from "../core/zod-issue.ts";
import type { SchedulingPolicy } from "./scheduling/policy.ts";
import type { DispatchPolicy } from "./dispatch/policy.ts";
import { createFcfs } from "./scheduling/fcfs.ts";
import { createRoundRobin } from "./dispatch/round-robin.ts";
import { createLeastOutstanding } from "./dispatch/least-outstanding.ts";
import { createLeastKv } from "./dispatch/least-kv.ts";
import { entry, NO_PARAMS, type PolicyEntry } from "./entry.ts";
import { SCHEDULING_ENTRIES } from "./scheduling/entries.ts";
import { DISPATCH_ENTRIES } from "./dispatch/entries.ts";
import { takeWaitingHoldParams, withWaitingHold } from "./dispatch/waiting-hold.ts";

/** Registering a policy is one line here, or in the entries file of its kind. */
export const SCHEDULING_POLICIES: Record<string, PolicyEntry<SchedulingPolicy>> = {
  fcfs: entry("first come, first served", NO_PARAMS, createFcfs),
  ...SCHEDULING_ENTRIES,
};

export const DISPATCH_POLICIES: Record<string, PolicyEntry<DispatchPolicy>> = {
  "round-robin": entry("instances in turn", NO_PARAMS, createRoundRobin),
  "least-outstanding": entry("fewest calls in flight by the router's own count", NO_PARAMS, createLeastOutstanding),
  "least-kv": entry("lowest observed KV-cache usage", NO_PARAMS, createLeastKv),
  ...DISPATCH_ENTRIES,
};

/** A policy as a config names it: a bare name, or a name with parameters. */
export type PolicyChoice = string | { name: string; params?: Record<string, unknown> };

function lookup<T>(registry: Record<string, PolicyEntry<T>>, kind: string, choice: PolicyChoice, where: string): T {
  const name = typeof choice === "string" ? choice : choice.name;
  const params = typeof choice === "string" ? {} : (choice.params ?? {});
  const policy = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!policy) {
    throw new InputError(`${where}: unknown ${kind} policy "${name}"; expected one of ${Object.keys(registry).join(", ")}`);
  }
  const parsed = policy.params.safeParse(params, { jitless: true }); // once per policy: skip compiling a fast path
  if (!parsed.success) throw zodInputError(`${where}: ${name} params`, parsed.error);
  return policy.create(parsed.data as never);
}

export function createSchedulingPolicy(choice: PolicyChoice, where = "--scheduling"): SchedulingPolicy {
  return lookup(SCHEDULING_POLICIES, "scheduling", choice, where);
}

/** Every dispatch policy also takes the waiting hold's options (`hold_when_waiting`,
 *  `max_waiting_s`; see dispatch/waiting-hold.ts), split off before its own schema checks the rest. */
export function createDispatchPolicy(choice: PolicyChoice, where = "--dispatch"): DispatchPolicy {
  const name = typeof choice === "string" ? choice : choice.name;
  const params = typeof choice === "string" ? {} : (choice.params ?? {});
  const { rest, hold } = takeWaitingHoldParams(name, params, where);
  const policy = lookup(DISPATCH_POLICIES, "dispatch", { name, params: rest }, where);
  return hold ? withWaitingHold(policy, hold) : policy;
}

/** `key=value` pairs from the command line as policy params: numbers and booleans parsed, the rest
 *  kept as strings; dotted keys build nested objects (`weights.queue=2`). */
export function parsePolicyParams(pairs: readonly string[], flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InputError(`${flag}: ${JSON.stringify(pair)}; expected key=value`);
    const path = pair.slice(0, eq).trim().split(".");
    const text = pair.slice(eq + 1).trim();
    const value = text === "true" ? true : text === "false" ? false : text !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
    let target = out;
    for (const key of path.slice(0, -1)) {
      if (typeof target[key] !== "object" || target[key] === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path[path.length - 1]] = value;
  }
  return out;
}
