import type { ModelSpec } from "./model-spec.ts";

/** Shorthand for the fields every Llama-style preset shares (bf16, SwiGLU MLP, untied LM head). */
const LLAMA_LIKE = { dtype_bytes: 2, gated_mlp: true, tied_embeddings: false } as const;

/** Presets written from the public config.json of each model (values as published on HuggingFace);
 *  `params` is the total from the model card (the checkpoint's safetensors count). Where
 *  ../shared/data/models holds the config, a test checks the preset equals what the importer
 *  (hf-config.ts) reads from it; for the rest, that the shapes imply the stated `params`. */
export const MODEL_PRESETS: readonly ModelSpec[] = [
  {
    name: "llama-2-7b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 32, head_dim: 128,
    intermediate_size: 11008, vocab_size: 32000, params: 6_738_415_616,
    max_position_embeddings: 4096, ...LLAMA_LIKE,
  },
  {
    name: "llama-2-13b",
    layers: 40, hidden_size: 5120, heads: 40, kv_heads: 40, head_dim: 128,
    intermediate_size: 13824, vocab_size: 32000, params: 13_015_864_320,
    max_position_embeddings: 4096, ...LLAMA_LIKE,
  },
  {
    name: "llama-2-70b",
    layers: 80, hidden_size: 8192, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 28672, vocab_size: 32000, params: 68_976_648_192,
    max_position_embeddings: 4096, ...LLAMA_LIKE,
  },
  {
    name: "llama-3-8b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 14336, vocab_size: 128256, params: 8_030_261_248,
    max_position_embeddings: 8192, ...LLAMA_LIKE,
  },
  {
    name: "llama-3-70b",
    layers: 80, hidden_size: 8192, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 28672, vocab_size: 128256, params: 70_553_706_496,
    max_position_embeddings: 8192, ...LLAMA_LIKE,
  },
  {
    name: "qwen2.5-7b",
    layers: 28, hidden_size: 3584, heads: 28, kv_heads: 4, head_dim: 128,
    intermediate_size: 18944, vocab_size: 152064, params: 7_615_616_512,
    max_position_embeddings: 32768, ...LLAMA_LIKE,
  },
  {
    name: "mistral-7b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 14336, vocab_size: 32000, params: 7_241_732_096,
    max_position_embeddings: 32768, ...LLAMA_LIKE,
  },
  {
    // bigscience/bloom. ALiBi has no position table; 2048 is its training sequence length.
    name: "bloom-176b",
    layers: 70, hidden_size: 14336, heads: 112, kv_heads: 112, head_dim: 128,
    intermediate_size: 57344, vocab_size: 250880, params: 176_247_271_424,
    max_position_embeddings: 2048, dtype_bytes: 2, gated_mlp: false, tied_embeddings: true,
  },
  // Llama 3.1 / 3.2: same shapes as Llama 3 at 8B/70B, with a 128k context (rope_scaling "llama3").
  {
    name: "llama-3.1-8b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 14336, vocab_size: 128256, params: 8_030_261_248,
    max_position_embeddings: 131072, ...LLAMA_LIKE,
  },
  {
    name: "llama-3.1-70b",
    layers: 80, hidden_size: 8192, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 28672, vocab_size: 128256, params: 70_553_706_496,
    max_position_embeddings: 131072, ...LLAMA_LIKE,
  },
  {
    name: "llama-3.1-405b",
    layers: 126, hidden_size: 16384, heads: 128, kv_heads: 8, head_dim: 128,
    intermediate_size: 53248, vocab_size: 128256, params: 405_853_388_800,
    max_position_embeddings: 131072, ...LLAMA_LIKE,
  },
  {
    name: "llama-3.2-1b",
    layers: 16, hidden_size: 2048, heads: 32, kv_heads: 8, head_dim: 64,
    intermediate_size: 8192, vocab_size: 128256, params: 1_235_814_400,
    max_position_embeddings: 131072, ...LLAMA_LIKE, tied_embeddings: true,
  },
  {
    name: "llama-3.2-3b",
    layers: 28, hidden_size: 3072, heads: 24, kv_heads: 8, head_dim: 128,
    intermediate_size: 8192, vocab_size: 128256, params: 3_212_749_824,
    max_position_embeddings: 131072, ...LLAMA_LIKE, tied_embeddings: true,
  },
  // Qwen2.5 (Instruct configs: 32k positions; use_sliding_window false). Biased q/k/v projections.
  {
    name: "qwen2.5-14b",
    layers: 48, hidden_size: 5120, heads: 40, kv_heads: 8, head_dim: 128,
    intermediate_size: 13824, vocab_size: 152064, params: 14_770_033_664,
    max_position_embeddings: 32768, ...LLAMA_LIKE,
  },
  {
    name: "qwen2.5-32b",
    layers: 64, hidden_size: 5120, heads: 40, kv_heads: 8, head_dim: 128,
    intermediate_size: 27648, vocab_size: 152064, params: 32_763_876_352,
    max_position_embeddings: 32768, ...LLAMA_LIKE,
  },
  {
    name: "qwen2.5-72b",
    layers: 80, hidden_size: 8192, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 29568, vocab_size: 152064, params: 72_706_203_648,
    max_position_embeddings: 32768, ...LLAMA_LIKE,
  },
  // Qwen3 dense: head_dim 128 set explicitly (heads × head_dim need not equal hidden); q/k RMSNorms.
  {
    name: "qwen3-8b",
    layers: 36, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 12288, vocab_size: 151936, params: 8_190_735_360,
    max_position_embeddings: 40960, ...LLAMA_LIKE,
  },
  {
    name: "qwen3-14b",
    layers: 40, hidden_size: 5120, heads: 40, kv_heads: 8, head_dim: 128,
    intermediate_size: 17408, vocab_size: 151936, params: 14_768_307_200,
    max_position_embeddings: 40960, ...LLAMA_LIKE,
  },
  {
    name: "qwen3-32b",
    layers: 64, hidden_size: 5120, heads: 64, kv_heads: 8, head_dim: 128,
    intermediate_size: 25600, vocab_size: 151936, params: 32_762_123_264,
    max_position_embeddings: 40960, ...LLAMA_LIKE,
  },
  // Mixture of experts.
  {
    // 128 experts of width 768, 8 per token; `intermediate_size` is the (unused) dense width.
    name: "qwen3-30b-a3b",
    layers: 48, hidden_size: 2048, heads: 32, kv_heads: 4, head_dim: 128,
    intermediate_size: 6144, vocab_size: 151936, params: 30_532_122_624,
    max_position_embeddings: 40960, ...LLAMA_LIKE,
    moe: { experts: 128, active_experts: 8, expert_intermediate_size: 768, shared_experts: 0, shared_intermediate_size: 0, dense_layers: 0 },
  },
  {
    // 8 experts of width 14336, 2 per token.
    name: "mixtral-8x7b",
    layers: 32, hidden_size: 4096, heads: 32, kv_heads: 8, head_dim: 128,
    intermediate_size: 14336, vocab_size: 32000, params: 46_702_792_704,
    max_position_embeddings: 32768, ...LLAMA_LIKE,
    moe: { experts: 8, active_experts: 2, expert_intermediate_size: 14336, shared_experts: 0, shared_intermediate_size: 0, dense_layers: 0 },
  },
  {
    // MLA with a 512-wide latent + 64 rope dims; 64 routed experts (6 per token) + 2 shared, the
    // first layer dense. head_dim is the query/key head size (nope 128 + rope 64).
    name: "deepseek-v2-lite",
    layers: 27, hidden_size: 2048, heads: 16, kv_heads: 16, head_dim: 192,
    intermediate_size: 10944, vocab_size: 102400, params: 15_706_484_224,
    max_position_embeddings: 163840, ...LLAMA_LIKE,
    moe: { experts: 64, active_experts: 6, expert_intermediate_size: 1408, shared_experts: 2, shared_intermediate_size: 1408, dense_layers: 1 },
    mla: { kv_lora_rank: 512, qk_rope_head_dim: 64, qk_nope_head_dim: 128, v_head_dim: 128, q_lora_rank: null },
  },
];
