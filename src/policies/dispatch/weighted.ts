import { z } from "zod";
import { HashRings, sessionKey } from "./hash-ring.ts";
import { argMin, type DispatchPolicy } from "./policy.ts";
import { CallBlockKeys, PrefixIndex } from "./prefix-index.ts";

const weight = (fallback: number) => z.number().nonnegative().default(fallback);

export const WEIGHTED_PARAMS = z.strictObject({
  /** Scorer weights; each scorer is normalised to 0..1 (0 = best). */
  weights: z
    .strictObject({ queue: weight(1), kv: weight(1), prefix: weight(1), session: weight(0) })
    .refine((w) => w.queue + w.kv + w.prefix + w.session > 0, "expected at least one weight above 0")
    .default({ queue: 1, kv: 1, prefix: 1, session: 0 }),
  /** Tokens per KV block for the prefix scorer. */
  block_size: z.number().int().positive().default(16),
  /** Prefix-index bound per instance (LRU), as in prefix-affinity. */
  max_blocks_per_instance: z.number().int().positive().default(200_000),
  /** Hash-ring points per instance for the session scorer. */
  virtual_nodes: z.number().int().positive().max(4096).default(64),
});

export type WeightedParams = z.infer<typeof WEIGHTED_PARAMS>;

/** weighted — a weighted sum of normalised scorers, lowest total wins (ties: config order):
 *  - queue   = outstanding / the most outstanding among the candidates (router bookkeeping);
 *  - kv      = last observed KV usage, 0..1 (scrape; 0 before the first);
 *  - prefix  = 1 − the fraction of the call's prompt blocks found as a prefix in the router's
 *              approximate index of that instance (the index of prefix-affinity, prefix-index.ts);
 *  - session = 0 on the instance the session's consistent hash picks (as session-affinity, without
 *              its overload fallback — the other scorers carry load), else 1.
 *  Weights come from the cluster file (`policies.dispatch.params.weights`); a scorer with weight 0
 *  costs nothing.
 *  Source: llm-d's inference scheduler (filter → weighted scorers: queue, kv-cache utilisation,
 *  prefix-cache, session-affinity) and the Gateway API Inference Extension's endpoint picker. */
export function createWeighted(params: WeightedParams): DispatchPolicy {
  const w = params.weights;
  const blocks = new CallBlockKeys(params.block_size);
  const index = new PrefixIndex(params.max_blocks_per_instance);
  const rings = new HashRings(params.virtual_nodes);
  return {
    name: "weighted",
    choose(call, candidates) {
      let maxOutstanding = 0;
      for (const c of candidates) if (c.outstanding > maxOutstanding) maxOutstanding = c.outstanding;
      const keys = w.prefix > 0 ? blocks.of(call) : [];
      const promptBlocks = Math.floor(call.prompt_tokens / params.block_size);
      const home = w.session > 0 ? rings.of(candidates).owner(sessionKey(call)) : undefined;
      return argMin(candidates, (instance) => {
        let score = 0;
        if (w.queue > 0 && maxOutstanding > 0) score += (w.queue * instance.outstanding) / maxOutstanding;
        if (w.kv > 0) score += w.kv * (instance.observed?.kv_usage ?? 0);
        if (w.prefix > 0) score += w.prefix * (promptBlocks > 0 ? 1 - index.matchedBlocks(instance.index, keys) / promptBlocks : 1);
        if (w.session > 0 && instance !== home) score += w.session;
        return score;
      });
    },
    callDispatched(call, instance) {
      if (w.prefix > 0) index.insert(instance.index, blocks.of(call));
    },
    callClosed(call, instance, usage) {
      const withOutput = w.prefix > 0 && instance && usage ? blocks.withOutput(call) : undefined;
      if (withOutput) index.insert(instance!.index, withOutput);
    },
  };
}
