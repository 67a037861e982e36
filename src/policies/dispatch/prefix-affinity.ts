import { z } from "zod";
import type { LlmCall } from "../../core/types.ts";
import type { ControllerView, InstanceView } from "../../core/view.ts";
import { argMin, type DispatchPolicy } from "./policy.ts";
import { ActiveBlocks, CallBlockKeys, PrefixIndex } from "./prefix-index.ts";

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
 *  it sent there, and of the output of a finished call whose output is keyed for reuse; LRU-bounded,
 *  see prefix-index.ts) and sends a call where
 *    cost = prefill_weight × potential prefill blocks + potential active blocks
 *  is lowest (ties to config order):
 *  - potential prefill blocks = the call's prompt blocks − the longest prefix of its block keys
 *    indexed on the instance (what the instance would have to compute);
 *  - potential active blocks = the KV blocks of the router's calls in flight there, each call
 *    holding (prompt + predicted output) / block_size blocks with shared prefix blocks counted once,
 *    plus the blocks this call would add (its blocks not already held there). Predicted output is
 *    the agent's online mean, else the call's max output tokens.
 *  Guard: when the router's outstanding counts are imbalanced (max − min > balance_abs_threshold
 *  and max > balance_rel_threshold × min) the call goes to the least-outstanding instance instead,
 *  so a hot prefix cannot pile everything onto one instance. Signals: router bookkeeping only; no
 *  scrape is needed.
 *  Source: the NVIDIA Dynamo KV router (cost = overlap weight × prefill blocks + active blocks; its
 *  ActiveSequences dedupe shared blocks of requests in flight; its no-KV-events mode predicts the
 *  cache from routing decisions) and the SGLang router's cache-aware policy (approximate radix tree
 *  per worker, balance_abs_threshold / balance_rel_threshold). */
export function createPrefixAffinity(params: PrefixAffinityParams): DispatchPolicy {
  const blocks = new CallBlockKeys(params.block_size);
  const index = new PrefixIndex(params.max_blocks_per_instance);
  const active = new ActiveBlocks();
  const bs = params.block_size;
  const callBlocks = (call: LlmCall, view: ControllerView) => Math.ceil((call.prompt_tokens + view.workflows.predictedOutputTokens(call, call.output_tokens)) / bs);
  return {
    name: "prefix-affinity",
    choose(call, candidates, view) {
      active.remove(call.id); // a call back in the queue after a failed attempt holds nothing
      if (candidates.length === 1) return candidates[0];
      if (imbalanced(candidates, params.balance_abs_threshold, params.balance_rel_threshold)) {
        return argMin(candidates, (instance) => instance.outstanding);
      }
      const keys = blocks.of(call);
      const promptBlocks = Math.ceil(call.prompt_tokens / bs);
      const total = callBlocks(call, view);
      return argMin(candidates, (instance) => {
        const prefill = promptBlocks - index.matchedBlocks(instance.index, keys);
        const activeBlocks = active.blocks(instance.index) + total - active.heldPrefix(instance.index, keys);
        return params.prefill_weight * prefill + activeBlocks;
      });
    },
    callDispatched(call, instance, view) {
      const keys = blocks.of(call);
      index.insert(instance.index, keys);
      active.add(call.id, instance.index, keys, callBlocks(call, view));
    },
    callClosed(call, instance, usage) {
      active.remove(call.id);
      // A finished call whose output later calls continue from leaves prompt + output cached.
      const withOutput = instance && usage ? blocks.withOutput(call) : undefined;
      if (withOutput) index.insert(instance!.index, withOutput);
    },
  };
}
