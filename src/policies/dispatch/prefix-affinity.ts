import { z } from "zod";
import type { InstanceView } from "../../core/view.ts";
import { argMin, type DispatchPolicy } from "./policy.ts";
import { CallBlockKeys, PrefixIndex } from "./prefix-index.ts";

export const PREFIX_AFFINITY_PARAMS = z.strictObject({
  /** Tokens per KV block, as the engines hash them. */
  block_size: z.number().int().positive().default(16),
  /** Weight of an uncached prefill block against an active decode block. */
  prefill_weight: z.number().nonnegative().default(1),
  /** Blocks remembered per instance before the least recently routed are forgotten. */
  max_blocks_per_instance: z.number().int().positive().default(200_000),
  /** Imbalance guard: max − min outstanding must exceed this… */
  balance_abs_threshold: z.number().nonnegative().default(32),
  /** …and max must exceed this × min, to route to the least outstanding instead. */
  balance_rel_threshold: z.number().min(1).default(1.5),
});

export type PrefixAffinityParams = z.infer<typeof PREFIX_AFFINITY_PARAMS>;

/** True when the candidates' outstanding counts are imbalanced by both the absolute and the
 *  relative threshold (the SGLang router's cache-aware policy guard). */
export function imbalanced(candidates: readonly InstanceView[], abs_threshold: number, rel_threshold: number): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const c of candidates) {
    if (c.outstanding < min) min = c.outstanding;
    if (c.outstanding > max) max = c.outstanding;
  }
  return max - min > abs_threshold && max > rel_threshold * min;
}

/** prefix-affinity — KV-cache-aware routing from the router's own history. The policy keeps an
 *  approximate prefix index per instance (the block keys of the keyed prompt prefix of every call
 *  it sent there; LRU-bounded, see prefix-index.ts) and sends a call where
 *    cost = prefill_weight × uncached prefill blocks + active decode blocks
 *  is lowest: uncached = the call's prompt blocks minus the longest prefix indexed on the instance;
 *  active = the router's outstanding tokens there / block_size (prompt + max output of the calls in
 *  flight). Ties go to the lower config index. Guard: when the router's outstanding counts are
 *  imbalanced (max − min > balance_abs_threshold and max > balance_rel_threshold × min) the call
 *  goes to the least-outstanding instance instead, so a hot prefix cannot pile everything onto one
 *  instance. Signals: router bookkeeping only; no scrape is needed.
 *  Source: the NVIDIA Dynamo KV router's cost (overlap-weighted prefill blocks + decode blocks) and
 *  the SGLang router's cache-aware policy (approximate radix tree per worker, balance thresholds). */
export function createPrefixAffinity(params: PrefixAffinityParams): DispatchPolicy {
  const blocks = new CallBlockKeys(params.block_size);
  const index = new PrefixIndex(params.max_blocks_per_instance);
  const bs = params.block_size;
  return {
    name: "prefix-affinity",
    choose(call, candidates) {
      if (candidates.length === 1) return candidates[0];
      if (imbalanced(candidates, params.balance_abs_threshold, params.balance_rel_threshold)) {
        return argMin(candidates, (instance) => instance.outstanding);
      }
      const keys = blocks.of(call);
      const promptBlocks = Math.ceil(call.prompt_tokens / bs);
      return argMin(
        candidates,
        (instance) =>
          params.prefill_weight * (promptBlocks - index.matchedBlocks(instance.index, keys)) + instance.outstanding_tokens / bs,
      );
    },
    callDispatched(call, instance) {
      index.insert(instance.index, blocks.of(call));
    },
  };
}
