import { z } from "zod";
import { HashRings, sessionKey } from "./hash-ring.ts";
import { argMin, type DispatchPolicy } from "./policy.ts";

export const SESSION_AFFINITY_PARAMS = z.strictObject({
  /** Points per instance on the hash ring: more points, more even shares. */
  virtual_nodes: z.number().int().positive().max(4096).default(64),
  /** An instance with more calls in flight (router's count) than this is skipped. */
  max_outstanding: z.number().int().nonnegative().default(64),
  /** An instance whose last observed KV usage is above this fraction is skipped. */
  max_kv_usage: z.number().gt(0).lte(1).default(0.95),
});

export type SessionAffinityParams = z.infer<typeof SESSION_AFFINITY_PARAMS>;

/** session-affinity — keeps a session on one instance so its growing context stays in that
 *  instance's prefix cache: consistent hashing (a ring of `virtual_nodes` points per instance,
 *  FNV-1a + fmix32) of the call's workflow id, else its tenant, else its own id. When the owner is
 *  overloaded — more than `max_outstanding` calls in flight by the router's count, or observed KV
 *  usage above `max_kv_usage` — the call goes to the next instance clockwise that is not, so
 *  spill-over is itself consistent; when every instance is overloaded, to the least outstanding.
 *  Signals: router bookkeeping (`outstanding`) and the last scrape (`kv_usage`).
 *  Source: consistent hashing with bounded loads (Mirrokni et al. 2018) as used for session
 *  stickiness by Envoy's ring-hash balancer, the SGLang router and llm-d's session-affinity scorer. */
export function createSessionAffinity(params: SessionAffinityParams): DispatchPolicy {
  const rings = new HashRings(params.virtual_nodes);
  const available = (instance: { outstanding: number; observed?: { kv_usage: number } | undefined }) =>
    instance.outstanding <= params.max_outstanding && (instance.observed?.kv_usage ?? 0) <= params.max_kv_usage;
  return {
    name: "session-affinity",
    choose(call, candidates) {
      const found = rings.of(candidates).find(sessionKey(call), available);
      return found ?? argMin(candidates, (instance) => instance.outstanding);
    },
  };
}
