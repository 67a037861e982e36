import { inputErrorAt } from "./where.ts";

/** The shape of a decoder-only transformer, as its HuggingFace config.json describes it. */
export interface ModelSpec {
  name: string;
  layers: number; // num_hidden_layers (BLOOM: n_layer)
  hidden_size: number;
  heads: number; // num_attention_heads
  kv_heads: number; // num_key_value_heads (= heads for multi-head attention)
  head_dim: number;
  intermediate_size: number; // MLP width (BLOOM: 4 × hidden)
  vocab_size: number;
  /** Total parameter count, embeddings included (what the model card states). */
  params: number;
  max_position_embeddings: number;
  /** Bytes per weight and per KV element: 2 for fp16/bf16. */
  dtype_bytes: number;
  /** SwiGLU MLPs have three matrices (gate, up, down); BLOOM's GELU MLP has two. */
  gated_mlp: boolean;
  /** The LM head reuses the input embedding matrix (BLOOM); otherwise it is a separate matrix. */
  tied_embeddings: boolean;
  /** Bytes per KV-cache element when it differs from `dtype_bytes` (vLLM --kv-cache-dtype fp8: 1). */
  kv_dtype_bytes?: number;
  /** Mixture-of-experts MLPs (Mixtral, Qwen3-MoE, DeepSeek-V2/V3); absent for dense models. */
  moe?: MoeSpec;
  /** Multi-head latent attention (DeepSeek-V2/V3): the KV cache holds one compressed latent per token. */
  mla?: MlaSpec;
  /** Sliding-window attention span in tokens (Mistral v0.1, some Qwen layers); absent: full attention. */
  sliding_window?: number;
}

/** config.json's MoE fields: `num_local_experts`/`num_experts`/`n_routed_experts`, `num_experts_per_tok`,
 *  `moe_intermediate_size`, `n_shared_experts` / `shared_expert_intermediate_size`, `first_k_dense_replace`. */
export interface MoeSpec {
  experts: number;
  /** Experts each token is routed to. */
  active_experts: number;
  /** Width of one expert's MLP. */
  expert_intermediate_size: number;
  /** Always-on shared experts (DeepSeek, Qwen2-MoE) and the width of each; 0 when none. */
  shared_experts: number;
  shared_intermediate_size: number;
  /** Leading layers with a dense MLP of `intermediate_size` instead of experts (DeepSeek's first_k_dense_replace). */
  dense_layers: number;
}

/** config.json's MLA fields (DeepSeek-V2/V3). */
export interface MlaSpec {
  kv_lora_rank: number;
  qk_rope_head_dim: number;
  qk_nope_head_dim: number;
  v_head_dim: number;
  /** null: queries are not low-rank (DeepSeek-V2-Lite). */
  q_lora_rank: number | null;
}

/** Presets written from the public config.json of each model (values as published on HuggingFace). */
// biome-ignore format: preset tables keep each entry's fields grouped on a few lines, as in the sources they copy.
const PRESETS: readonly ModelSpec[] = [
  {
    name: "llama-2-7b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 32, head_dim: 128,
    intermediate_size: 11008, vocab_size: 32000, params: 6_738_415_616,
    max_position_embeddings: 4096, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    name: "llama-2-13b",
    layers: 40, hidden_size: 5120, heads: 40, kv_heads: 40, head_dim: 128,
    intermediate_size: 13824, vocab_size: 32000, params: 13_015_864_320,
    max_position_embeddings: 4096, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    name: "llama-2-70b",
    layers: 80, hidden_size: 8192, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 28672, vocab_size: 32000, params: 68_976_648_192,
    max_position_embeddings: 4096, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    name: "llama-3-8b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 14336, vocab_size: 128256, params: 8_030_261_248,
    max_position_embeddings: 8192, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    name: "llama-3-70b",
    layers: 80, hidden_size: 8192, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 28672, vocab_size: 128256, params: 70_553_706_496,
    max_position_embeddings: 8192, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    name: "qwen2.5-7b",
    layers: 28, hidden_size: 3584, heads: 28, kv_heads: 4, head_dim: 128,
    intermediate_size: 18944, vocab_size: 152064, params: 7_615_616_512,
    max_position_embeddings: 32768, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    name: "mistral-7b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 14336, vocab_size: 32000, params: 7_241_732_096,
    max_position_embeddings: 32768, dtype_bytes: 2, gated_mlp: true, tied_embeddings: false,
  },
  {
    // bigscience/bloom. ALiBi has no position table; 2048 is its training sequence length.
    name: "bloom-176b",
    layers: 70, hidden_size: 14336, heads: 112, kv_heads: 112, head_dim: 128,
    intermediate_size: 57344, vocab_size: 250880, params: 176_247_271_424,
    max_position_embeddings: 2048, dtype_bytes: 2, gated_mlp: false, tied_embeddings: true,
  },
];

// Frozen: every caller shares these objects.
const BY_NAME = new Map(PRESETS.map((spec) => [spec.name, Object.freeze(spec)]));

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
  return PRESETS.map((spec) => spec.name);
}

/** The preset for `name` (case-insensitive, aliases accepted). `where` names the config field the
 *  name came from, for the error message. */
export function modelSpec(name: string, where?: string): ModelSpec {
  const spec = BY_NAME.get(normaliseModelName(name));
  if (spec) return spec;
  const problem = `model "${name}": unknown; expected one of ${modelNames().join(", ")}`;
  throw inputErrorAt(where, problem);
}

/** Weights of one transformer layer that take part in matmuls (biases and norms are left out:
 *  they are < 0.1% of the weights and do no matmul work). */
export function layerMatmulParams(model: ModelSpec): number {
  const q_dim = model.heads * model.head_dim;
  const kv_dim = model.kv_heads * model.head_dim;
  const attention = model.hidden_size * (q_dim + 2 * kv_dim) + q_dim * model.hidden_size;
  const mlp = (model.gated_mlp ? 3 : 2) * model.hidden_size * model.intermediate_size;
  return attention + mlp;
}

/** Parameters multiplied once per token: every layer's matmuls (the embedding lookup is a gather). */
export function transformerMatmulParams(model: ModelSpec): number {
  return model.layers * layerMatmulParams(model);
}

/** The LM head: vocab × hidden, run once per sequence per step (only the sampled position). */
export function lmHeadParams(model: ModelSpec): number {
  return model.vocab_size * model.hidden_size;
}

/** A preset's canonical name for a model alias; unknown names stay as they are. */
export function canonicalModelName(model: string): string {
  const key = normaliseModelName(model);
  return modelNames().includes(key) ? key : model;
}
