import { InputError } from "../core/errors.ts";
import type { SchedulingPolicy } from "./scheduling/policy.ts";
import type { DispatchPolicy } from "./dispatch/policy.ts";
import { createFcfs } from "./scheduling/fcfs.ts";
import { createRoundRobin } from "./dispatch/round-robin.ts";
import { createLeastOutstanding } from "./dispatch/least-outstanding.ts";
import { createLeastKv } from "./dispatch/least-kv.ts";

/** Registering a policy is one line here. Factories, because policies may keep state per run. */
export const SCHEDULING_POLICIES: Record<string, () => SchedulingPolicy> = {
  fcfs: createFcfs,
};

export const DISPATCH_POLICIES: Record<string, () => DispatchPolicy> = {
  "round-robin": createRoundRobin,
  "least-outstanding": createLeastOutstanding,
  "least-kv": createLeastKv,
};

function lookup<T>(registry: Record<string, () => T>, kind: string, name: string, where: string): T {
  const factory = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!factory) {
    throw new InputError(`${where}: unknown ${kind} policy "${name}"; expected one of ${Object.keys(registry).join(", ")}`);
  }
  return factory();
}

export function createSchedulingPolicy(name: string, where = "--scheduling"): SchedulingPolicy {
  return lookup(SCHEDULING_POLICIES, "scheduling", name, where);
}

export function createDispatchPolicy(name: string, where = "--dispatch"): DispatchPolicy {
  return lookup(DISPATCH_POLICIES, "dispatch", name, where);
}
