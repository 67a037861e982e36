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
  /** Bytes per element of the model's compute dtype (config.json `torch_dtype`: 2 for fp16/bf16):
   *  activations, all-reduce buffers, and the KV cache and weights unless overridden below. */
  dtype_bytes: number;
  /** Bytes per weight when the checkpoint is quantised (FP8 checkpoints, quant_method "fp8": 1);
   *  absent: `dtype_bytes`. Read it through `weightBytesPerParam`. */
  weight_dtype_bytes?: number;
  /** SwiGLU MLPs have three matrices (gate, up, down); BLOOM's GELU MLP has two. */
  gated_mlp: boolean;
  /** The LM head reuses the input embedding matrix (BLOOM); otherwise it is a separate matrix. */
  tied_embeddings: boolean;
  /** Bytes per KV-cache element when it differs from `dtype_bytes` (vLLM --kv-cache-dtype fp8: 1);
   *  read it through `kvBytesPerElement`. */
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
