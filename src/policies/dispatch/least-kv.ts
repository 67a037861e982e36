import type { InstanceView } from "../../core/view.ts";
import { argMin, type DispatchPolicy } from "./policy.ts";

const score = (instance: InstanceView) => (instance.observed?.kv_usage ?? 0) * 1e6 + instance.outstanding;

/** least-kv — the instance with the lowest observed KV-cache usage (vllm:kv_cache_usage_perc from
 *  the last scrape); ties, and instances not yet observed, fall back to the fewest outstanding calls.
 *  Between scrapes the observation is stale, so bursts can pile onto one instance — the known
 *  weakness of purely metric-driven routing that the outstanding-count tie-break softens.
 *  Source: KV-utilisation scorers of llm-d's inference scheduler and the AIBrix router. */
export function createLeastKv(): DispatchPolicy {
  return {
    name: "least-kv",
    choose: (_call, candidates) => argMin(candidates, score),
    explain: (_call, candidates) => ({
      scores: candidates.map(score),
      terms: candidates.map((instance) => ({ kv_usage: instance.observed?.kv_usage ?? 0, outstanding: instance.outstanding })),
    }),
  };
}
