import type { CallEstimator } from "../workflow/orchestrator.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, resetBatchShape } from "./latency-model.ts";
import { canonicalModelName } from "./models.ts";
import type { ConfiguredInstance } from "./instance.ts";

/** Zero-queueing call times from the cluster's latency models: the call alone on an idle instance
 *  of its model, its uncached prompt prefilled in budget-sized chunks after the cached prefix, then
 *  one decode step per further output token (at the mean context, exact for latency linear in
 *  context). Used for workflow critical paths and as the prior of agent profiles. */
export function simCallEstimator(instances: readonly ConfiguredInstance[]): CallEstimator {
  const byModel = new Map<string, ConfiguredInstance>();
  for (const instance of instances) if (!byModel.has(instance.spec.model)) byModel.set(instance.spec.model, instance);
  const shape = emptyBatchShape();
  return {
    isolatedCall_s(model, prompt_tokens, uncached_tokens, output_tokens) {
      const instance = (model !== undefined ? byModel.get(canonicalModelName(model)) : undefined) ?? instances[0];
      if (!instance) return 0;
      const budget = instance.engine.max_num_batched_tokens;
      const latency = instance.latency;
      let total_s = 0;
      let computed = prompt_tokens - Math.max(1, uncached_tokens);
      while (computed < prompt_tokens) {
        const chunk = Math.min(budget, prompt_tokens - computed);
        resetBatchShape(shape);
        addPrefillChunk(shape, chunk, computed);
        total_s += latency.stepTime_s(shape);
        computed += chunk;
      }
      if (output_tokens > 1) {
        resetBatchShape(shape);
        addDecode(shape, prompt_tokens + Math.round(output_tokens / 2));
        total_s += (output_tokens - 1) * latency.stepTime_s(shape);
      }
      return total_s;
    },
  };
}
