import type { ModelSpec } from "./models.ts";
import { inputErrorAt } from "./where.ts";

/** vLLM's max_model_len when none is given: the model's context (`max_position_embeddings`) if
 *  the KV cache can hold one sequence of that length; otherwise vLLM refuses to start, and so does
 *  this, naming the longest length that fits (vLLM's "estimated maximum model length": whole blocks
 *  of the KV cache, `kv_capacity_tokens`). Sliding windows do not raise it: tandem's engine keeps a
 *  sequence's whole KV (docs/latency.md). `where` names the instance group. */
export function defaultMaxModelLen(model: ModelSpec, kv_capacity_tokens: number, where?: string): number {
  const context = model.max_position_embeddings;
  if (context <= kv_capacity_tokens) return context;
  throw inputErrorAt(where, `${model.name}'s context ${context} tokens does not fit the KV cache (${kv_capacity_tokens} tokens);` + ` set engine.max_model_len ≤ ${kv_capacity_tokens}`);
}
