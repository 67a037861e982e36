import { z } from "zod";
import type { LlmCall } from "../../core/types.ts";
import type { SchedulingPolicy } from "./policy.ts";

export const VTC_PARAMS = z.strictObject({
  /** Cost of one prompt token, charged when the call is dispatched. */
  input_weight: z.number().min(0).default(1),
  /** Cost of one output token, charged when the call finishes (from its usage). */
  output_weight: z.number().min(0).default(2),
});

export type VtcParams = z.infer<typeof VTC_PARAMS>;

/** vtc — Virtual Token Counter fair queueing across tenants: each tenant has a counter of the
 *  weighted service it has received, w_in × prompt tokens + w_out × output tokens, and the waiting
 *  call of the tenant with the smallest counter goes first (arrival order breaks ties), so tenants
 *  that keep a backlog share the cluster's token service equally however unequal their demands.
 *  Signals: the policy's own bookkeeping from the controller's hooks — prompt tokens charged at
 *  dispatch (`callDispatched`), output tokens charged from `usage` when the call closes (a router
 *  sees tokens only as they stream; the true output length is never read in advance). Calls without
 *  a tenant share the tenant "". A tenant is active while it has calls waiting or in flight (seen
 *  when the controller first ranks a call, until it closes); when an inactive tenant gets a call,
 *  its counter is lifted to the smallest counter among active tenants (or, if none is active, to
 *  that of the tenant that went idle last), so idle time cannot be banked and spent later as a
 *  burst. Counters move as calls dispatch and finish, so the policy is dynamic.
 *  Source: Sheng et al., "Fairness in Serving Large Language Models" (OSDI '24), VTC. */
export function createVtc(params: VtcParams): SchedulingPolicy {
  const { input_weight, output_weight } = params;
  const counters = new Map<string, number>();
  /** Open calls (waiting or in flight) by id → tenant, and how many each active tenant has. */
  const openCalls = new Map<string, string>();
  const openByTenant = new Map<string, number>();
  let lastIdleCounter: number | undefined;

  const tenantOf = (call: LlmCall) => call.tenant ?? "";

  const activate = (tenant: string) => {
    let floor: number | undefined;
    for (const active of openByTenant.keys()) {
      const c = counters.get(active) ?? 0;
      if (floor === undefined || c < floor) floor = c;
    }
    floor ??= lastIdleCounter ?? 0;
    counters.set(tenant, Math.max(counters.get(tenant) ?? 0, floor));
  };

  return {
    name: "vtc",
    dynamic: true,
    rank(queued) {
      const call = queued.call;
      const tenant = tenantOf(call);
      // The controller ranks every call as it enters the queue: the first rank is its arrival.
      if (!openCalls.has(call.id)) {
        openCalls.set(call.id, tenant);
        const open = openByTenant.get(tenant) ?? 0;
        if (open === 0) activate(tenant);
        openByTenant.set(tenant, open + 1);
      }
      return counters.get(tenant) ?? 0;
    },
    callDispatched(call) {
      const tenant = tenantOf(call);
      counters.set(tenant, (counters.get(tenant) ?? 0) + input_weight * call.prompt_tokens);
    },
    callClosed(call, _instance, usage) {
      const tenant = openCalls.get(call.id);
      if (tenant === undefined) return;
      openCalls.delete(call.id);
      const counter = (counters.get(tenant) ?? 0) + (usage ? output_weight * usage.output_tokens : 0);
      counters.set(tenant, counter);
      const open = openByTenant.get(tenant)! - 1;
      if (open > 0) openByTenant.set(tenant, open);
      else {
        openByTenant.delete(tenant);
        lastIdleCounter = counter;
      }
    },
  };
}
