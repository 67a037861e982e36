import { inputError } from "../core/errors.ts";
import { attentionMatmulParams, canonicalModelName, type MlaSpec, type ModelSpec, type MoeSpec } from "./models.ts";

/** How each supported `architectures` value is read. Llama-style: GQA attention, SwiGLU MLP, RMSNorms. */
const ARCHITECTURES = {
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
  MixtralForCausalLM: "mixtral",
  Qwen3MoeForCausalLM: "qwen3-moe",
  DeepseekV2ForCausalLM: "deepseek",
  DeepseekV3ForCausalLM: "deepseek",
} as const;
type Family = (typeof ARCHITECTURES)[keyof typeof ARCHITECTURES];

/** `torch_dtype` values and the bytes vLLM serves them in. vLLM's dtype "auto" serves float32
 *  checkpoints (and ones that state no dtype) in 16 bits, so they count as 2 bytes too. */
const DTYPE_BYTES: Record<string, number> = { bfloat16: 2, float16: 2, float32: 2 };

/** Reads a HuggingFace `config.json` (already parsed) into a ModelSpec. Pure: `where` names the file
 *  in error messages, `fallback_name` (e.g. the folder's name) names the model unless the config
 *  carries `_name_or_path`. The parameter count is computed from the shapes (config.json does not
 *  state it): embeddings, attention, MLP or experts, norms, biases, and the LM head unless tied. */
export function modelSpecFromHfConfig(doc: unknown, where: string, fallback_name: string): ModelSpec {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw inputError(where, "expected a JSON object (a HuggingFace config.json)");
  }
  const c = new ConfigReader(doc as Record<string, unknown>, where);
  const family = c.architecture();
  const hidden_size = c.int("hidden_size");
  const layers = c.int("num_hidden_layers");
  const heads = c.int("num_attention_heads");
  const kv_heads = c.optionalInt("num_key_value_heads") ?? heads;
  if (heads % kv_heads !== 0) throw c.error("num_key_value_heads", `${kv_heads} does not divide num_attention_heads ${heads}`);
  const mla = family === "deepseek" ? c.mla() : undefined;
  const head_dim = mla ? mla.qk_nope_head_dim + mla.qk_rope_head_dim : (c.optionalInt("head_dim") ?? exactHeadDim(c, hidden_size, heads));
  const moe = c.moe(family, layers);
  const spec: ModelSpec = {
    name: modelName(c.raw._name_or_path, fallback_name),
    layers,
    hidden_size,
    heads,
    kv_heads,
    head_dim,
    intermediate_size: c.int("intermediate_size"),
    vocab_size: c.int("vocab_size"),
    params: 0,
    max_position_embeddings: c.int("max_position_embeddings"),
    dtype_bytes: c.dtypeBytes(),
    gated_mlp: true,
    tied_embeddings: c.optionalBool("tie_word_embeddings") ?? false,
  };
  if (c.fp8Weights()) spec.weight_dtype_bytes = 1;
  if (moe) spec.moe = moe;
  if (mla) spec.mla = mla;
  const window = c.slidingWindow(family);
  if (window !== undefined) spec.sliding_window = window;
  spec.params = countParams(spec, family, c);
  return spec;
}

/** The name instances and calls use: `_name_or_path`'s last segment, else the fallback, lower-cased,
 *  and a preset's name when it is an alias of one (`meta-llama/Llama-3.1-8B-Instruct` → llama-3.1-8b). */
function modelName(name_or_path: unknown, fallback: string): string {
  const raw = typeof name_or_path === "string" && name_or_path.trim() !== "" ? name_or_path : fallback;
  const last =
    raw
      .replace(/[/\\]+$/, "")
      .split(/[/\\]/)
      .pop() ?? raw;
  return canonicalModelName(last.trim().toLowerCase());
}

function exactHeadDim(c: ConfigReader, hidden_size: number, heads: number): number {
  if (hidden_size % heads !== 0) throw c.error("head_dim", `missing, and hidden_size ${hidden_size} is not a multiple of num_attention_heads ${heads}`);
  return hidden_size / heads;
}

/** Parameters from the shapes, per family:
 *    embeddings (vocab × hidden) + LM head (the same, unless tied) + final norm (hidden)
 *    + per layer: two norms (2·hidden) + attention + MLP (dense, or router + experts + shared)
 *  Attention extras: Qwen2 biases its q/k/v projections; Qwen3 normalises q and k per head
 *  (2·head_dim); Llama-style configs may set attention_bias / mlp_bias; MLA has norms on its
 *  latents (kv_lora_rank, and q_lora_rank when queries are low-rank). DeepSeek-V3's router has a
 *  per-expert score bias (topk_method "noaux_tc"). Multi-token-prediction layers are not counted
 *  (vLLM does not load them for plain serving). */
function countParams(m: ModelSpec, family: Family, c: ConfigReader): number {
  const h = m.hidden_size;
  const q_dim = m.heads * m.head_dim;
  const kv_dim = m.kv_heads * m.head_dim;
  let attention_extra = 0;
  if (family === "qwen2") attention_extra = q_dim + 2 * kv_dim;
  if (family === "qwen3" || family === "qwen3-moe") attention_extra = 2 * m.head_dim;
  if (family === "llama" && c.optionalBool("attention_bias")) attention_extra = q_dim + 2 * kv_dim + h;
  if (m.mla) attention_extra = m.mla.kv_lora_rank + (m.mla.q_lora_rank ?? 0);
  const mlp_bias = family === "llama" && c.optionalBool("mlp_bias") ? 2 * m.intermediate_size + h : 0;

  const attention = attentionMatmulParams(m) + attention_extra;
  const dense_mlp = 3 * h * m.intermediate_size + mlp_bias;
  let mlps = m.layers * dense_mlp;
  if (m.moe) {
    const e = m.moe;
    const router = h * e.experts + (c.raw.topk_method === "noaux_tc" ? e.experts : 0);
    const moe_mlp = router + e.experts * 3 * h * e.expert_intermediate_size + e.shared_experts * 3 * h * e.shared_intermediate_size;
    mlps = e.dense_layers * dense_mlp + (m.layers - e.dense_layers) * moe_mlp;
  }
  const embeddings = m.vocab_size * h * (m.tied_embeddings ? 1 : 2);
  return embeddings + h + m.layers * (2 * h + attention) + mlps;
}

/** Typed field access with one-line errors: "config.json: num_hidden_layers: expected an integer ≥ 1". */
class ConfigReader {
  constructor(
    readonly raw: Record<string, unknown>,
    private readonly where: string,
  ) {}

  error(field: string, problem: string) {
    return inputError(this.where, `${field}: ${problem}`);
  }

  architecture(): Family {
    const value = this.raw.architectures;
    if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== "string") {
      throw this.error("architectures", 'expected a list of model class names (e.g. ["LlamaForCausalLM"])');
    }
    const name = value[0];
    const family = (ARCHITECTURES as Record<string, Family>)[name];
    if (!family) throw this.error("architectures", `"${name}" is not supported; expected one of ${Object.keys(ARCHITECTURES).join(", ")}`);
    return family;
  }

  int(field: string, min = 1): number {
    const value = this.optionalInt(field, min);
    if (value === undefined) throw this.error(field, `expected an integer ≥ ${min} (missing)`);
    return value;
  }

  /** undefined when absent or null (configs write `null` for "not set"). */
  optionalInt(field: string, min = 1): number | undefined {
    const value = this.raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw this.error(field, `expected an integer ≥ ${min} (got ${JSON.stringify(value)})`);
    }
    return value;
  }

  optionalBool(field: string): boolean | undefined {
    const value = this.raw[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw this.error(field, `expected true or false (got ${JSON.stringify(value)})`);
    return value;
  }

  dtypeBytes(): number {
    // Newer transformers write `dtype`; older ones `torch_dtype`.
    const field = this.raw.torch_dtype !== undefined ? "torch_dtype" : "dtype";
    const value = this.raw[field] ?? "float32";
    const bytes = typeof value === "string" ? DTYPE_BYTES[value] : undefined;
    if (bytes === undefined) throw this.error(field, `expected one of ${Object.keys(DTYPE_BYTES).join(", ")} (got ${JSON.stringify(value)})`);
    return bytes;
  }

  /** FP8 checkpoints (quantization_config.quant_method "fp8": DeepSeek-V3, *-FP8 releases) keep
   *  one byte per weight; other quantisation methods are not modelled. */
  fp8Weights(): boolean {
    const q = this.raw.quantization_config;
    if (q === undefined || q === null) return false;
    const method = typeof q === "object" ? (q as Record<string, unknown>).quant_method : undefined;
    if (method === "fp8") return true;
    throw this.error("quantization_config.quant_method", `${JSON.stringify(method)} is not supported; expected "fp8" (or no quantization_config)`);
  }

  /** Mistral's `sliding_window`; Qwen2/3 state one but apply it only with `use_sliding_window` true. */
  slidingWindow(family: Family): number | undefined {
    if (family === "deepseek") return undefined;
    const window = this.optionalInt("sliding_window");
    if (window === undefined) return undefined;
    if ((family === "qwen2" || family === "qwen3" || family === "qwen3-moe") && this.optionalBool("use_sliding_window") !== true) return undefined;
    return window;
  }

  mla(): MlaSpec {
    return {
      kv_lora_rank: this.int("kv_lora_rank"),
      qk_rope_head_dim: this.int("qk_rope_head_dim"),
      qk_nope_head_dim: this.int("qk_nope_head_dim"),
      v_head_dim: this.int("v_head_dim"),
      q_lora_rank: this.optionalInt("q_lora_rank") ?? null,
    };
  }

  moe(family: Family, layers: number): MoeSpec | undefined {
    if (family === "mixtral") {
      const experts = this.int("num_local_experts");
      return this.moeSpec(experts, this.int("intermediate_size"), 0, 0, 0);
    }
    if (family === "qwen3-moe") {
      const experts = this.int("num_experts");
      const step = this.optionalInt("decoder_sparse_step") ?? 1;
      const only_mlp = this.intList("mlp_only_layers");
      // As Qwen3-MoE's modelling code: layer i has experts unless listed, every `step`-th layer.
      let dense = 0;
      for (let i = 0; i < layers; i++) if (only_mlp.includes(i) || (i + 1) % step !== 0) dense++;
      return this.moeSpec(experts, this.int("moe_intermediate_size"), 0, 0, dense);
    }
    if (family === "deepseek") {
      const experts = this.int("n_routed_experts");
      const width = this.int("moe_intermediate_size");
      const shared = this.optionalInt("n_shared_experts", 0) ?? 0;
      const first_dense = this.optionalInt("first_k_dense_replace", 0) ?? 0;
      const freq = this.optionalInt("moe_layer_freq") ?? 1;
      // DeepSeek's modelling code: layer i has experts when i ≥ first_k_dense_replace and i % freq == 0.
      let dense = 0;
      for (let i = 0; i < layers; i++) if (i < first_dense || i % freq !== 0) dense++;
      return this.moeSpec(experts, width, shared, shared > 0 ? width : 0, dense);
    }
    return undefined;
  }

  private moeSpec(experts: number, width: number, shared: number, shared_width: number, dense_layers: number): MoeSpec {
    const active = this.int("num_experts_per_tok");
    if (active > experts) throw this.error("num_experts_per_tok", `${active} exceeds the ${experts} experts`);
    return { experts, active_experts: active, expert_intermediate_size: width, shared_experts: shared, shared_intermediate_size: shared_width, dense_layers };
  }

  private intList(field: string): number[] {
    const value = this.raw[field];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && v >= 0)) {
      throw this.error(field, `expected a list of layer indices (got ${JSON.stringify(value)})`);
    }
    return value as number[];
  }
}
