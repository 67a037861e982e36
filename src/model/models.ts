import type { ModelSpec } from "./model-spec.ts";
import { MODEL_PRESETS } from "./model-presets.ts";
import { inputErrorAt } from "./where.ts";

export type { MlaSpec, ModelSpec, MoeSpec } from "./model-spec.ts";

// Frozen (nested MoE/MLA parts too): every caller shares these objects.
const BY_NAME = new Map(
  MODEL_PRESETS.map((spec) => {
    if (spec.moe) Object.freeze(spec.moe);
    if (spec.mla) Object.freeze(spec.mla);
    return [spec.name, Object.freeze(spec)];
  }),
);

/** Names that the normalisation below does not reach on its own. */
const ALIASES: Record<string, string> = {
  bloom: "bloom-176b",
};

/** Release suffixes that do not change the architecture: `-hf`, `-instruct`, `-chat`, `-base`, and
 *  Mistral's `-v0.1`/`-v0.2` (same shapes; v0.3 grew the vocabulary, so it is not accepted). */
const SUFFIX = /-(hf|instruct|chat|base|v0\.[12])$/;

/** Canonical key for a model name: lower case, no org prefix (`meta-llama/`), no `meta-` vendor
 *  prefix, `llama2` → `llama-2`, and release suffixes dropped. */
export function normaliseModelName(name: string): string {
  let key = name.trim().toLowerCase();
  key = key.slice(key.lastIndexOf("/") + 1).replace(/[\s_]+/g, "-");
  key = key.replace(/^meta-/, "").replace(/^llama(\d)/, "llama-$1");
  while (SUFFIX.test(key)) key = key.replace(SUFFIX, "");
  return ALIASES[key] ?? key;
}

export function modelNames(): string[] {
  return MODEL_PRESETS.map((spec) => spec.name);
}

/** The preset for `name` (case-insensitive, aliases accepted). `where` names the config field the
 *  name came from, for the error message. */
export function modelSpec(name: string, where?: string): ModelSpec {
  const spec = BY_NAME.get(normaliseModelName(name));
  if (spec) return spec;
  const problem = `model "${name}": unknown; expected one of ${modelNames().join(", ")}`;
  throw inputErrorAt(where, problem);
}

/** Bytes one weight occupies in memory (FP8 checkpoints: 1). */
export function weightBytesPerParam(model: ModelSpec): number {
  return model.weight_dtype_bytes ?? model.dtype_bytes;
}

/** Bytes one KV-cache element occupies (vLLM's --kv-cache-dtype "auto" is the model's dtype). */
export function kvBytesPerElement(model: ModelSpec): number {
  return model.kv_dtype_bytes ?? model.dtype_bytes;
}

/** Matmul weights of one layer's attention: the q, k, v and o projections (GQA: k and v have
 *  kv_heads heads), or MLA's low-rank ones (DeepSeek: q, or q_a·q_b; kv_a to the latent + rope
 *  key; kv_b from the latent to per-head nope keys and values; o). Biases and norms are left out:
 *  they are < 0.1% of the weights and do no matmul work. */
export function attentionMatmulParams(model: ModelSpec): number {
  const h = model.hidden_size;
  const mla = model.mla;
  if (mla) {
    const q_head = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    const q = mla.q_lora_rank === null ? h * model.heads * q_head : h * mla.q_lora_rank + mla.q_lora_rank * model.heads * q_head;
    const kv_a = h * (mla.kv_lora_rank + mla.qk_rope_head_dim);
    const kv_b = mla.kv_lora_rank * model.heads * (mla.qk_nope_head_dim + mla.v_head_dim);
    const o = model.heads * mla.v_head_dim * h;
    return q + kv_a + kv_b + o;
  }
  const q_dim = model.heads * model.head_dim;
  const kv_dim = model.kv_heads * model.head_dim;
  return h * (q_dim + 2 * kv_dim) + q_dim * h;
}

/** Matmul weights of one MLP of the given width: gate, up and down (SwiGLU), or up and down (GELU). */
export function mlpMatmulParams(model: ModelSpec, intermediate_size: number): number {
  return (model.gated_mlp ? 3 : 2) * model.hidden_size * intermediate_size;
}

/** Matmul weights of one dense layer (attention + an MLP of `intermediate_size`). */
export function layerMatmulParams(model: ModelSpec): number {
  return attentionMatmulParams(model) + mlpMatmulParams(model, model.intermediate_size);
}

/** Layers whose MLP is a mixture of experts (0 for dense models). */
export function moeLayerCount(model: ModelSpec): number {
  return model.moe ? model.layers - model.moe.dense_layers : 0;
}

/** Matmul weights of one MoE layer's MLP that `experts` routed experts bring: the router
 *  (hidden × experts, always run), the routed experts, and the always-on shared experts. */
function moeMlpMatmulParams(model: ModelSpec, routed_experts: number): number {
  const moe = model.moe!;
  const router = model.hidden_size * moe.experts;
  return router + routed_experts * mlpMatmulParams(model, moe.expert_intermediate_size) + moe.shared_experts * mlpMatmulParams(model, moe.shared_intermediate_size);
}

/** Parameters one token multiplies through every layer (the embedding lookup is a gather, the LM
 *  head is per sequence, see `lmHeadParams`): attention and MLP for dense models; for MoE, the
 *  router, the `active_experts` routed experts and the shared experts, not the experts the token
 *  skips. Twice this is the linear-layer FLOPs per token. */
export function activeMatmulParamsPerToken(model: ModelSpec): number {
  if (!model.moe) return model.layers * layerMatmulParams(model);
  const moe_layers = moeLayerCount(model);
  return (
    model.layers * attentionMatmulParams(model) + model.moe.dense_layers * mlpMatmulParams(model, model.intermediate_size) + moe_layers * moeMlpMatmulParams(model, model.moe.active_experts)
  );
}

/** Matmul weights resident in memory: every layer, and for MoE every expert (vLLM loads them all;
 *  with TP each expert is split across the GPUs). What a step streams when tokens touch them all. */
export function residentMatmulParams(model: ModelSpec): number {
  if (!model.moe) return model.layers * layerMatmulParams(model);
  return (
    model.layers * attentionMatmulParams(model) +
    model.moe.dense_layers * mlpMatmulParams(model, model.intermediate_size) +
    moeLayerCount(model) * moeMlpMatmulParams(model, model.moe.experts)
  );
}

/** Parameters multiplied once per token (`activeMatmulParamsPerToken`; kept for the step models). */
export function transformerMatmulParams(model: ModelSpec): number {
  return activeMatmulParamsPerToken(model);
}

/** The LM head: vocab × hidden, run once per sequence per step (only the sampled position). */
export function lmHeadParams(model: ModelSpec): number {
  return model.vocab_size * model.hidden_size;
}

/** Bytes of all the weights (embeddings, every expert, norms: the model card's `params`) at the
 *  checkpoint's weight dtype, across all GPUs. */
export function residentWeightBytes(model: ModelSpec): number {
  return model.params * weightBytesPerParam(model);
}

/** A preset's canonical name for a model alias; unknown names stay as they are. */
export function canonicalModelName(model: string): string {
  const key = normaliseModelName(model);
  return modelNames().includes(key) ? key : model;
}
