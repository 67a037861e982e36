import { gpuSpec, type GpuSpec } from "./gpus.ts";
import { kvBytesPerElement, modelSpec, residentWeightBytes, type ModelSpec } from "./models.ts";
import { kvHeadsPerGpu, validateTensorParallel } from "./parallel.ts";
import { fieldAt, inputErrorAt } from "./where.ts";

const GiB = 2 ** 30;

/** Memory vLLM's profiling run sees outside PyTorch's allocator (CUDA context growth, cuBLAS
 *  workspaces, NCCL buffers); vLLM logs this as `non_torch_memory`, typically 0.2–1 GiB. */
export const NON_TORCH_RESERVE_BYTES = 0.5 * GiB;
/** The sampler holds fp32 logits and a same-sized probability copy for every sequence. */
export const LOGITS_BYTES_PER_VOCAB_ENTRY = 2 * 4;

/** KV cache bytes one token occupies, summed over the GPUs that hold distinct parts of it:
 *    GQA/MHA: K and V, per layer, per KV head: 2 × layers × kv_heads × head_dim × kv dtype
 *    MLA:     one latent per layer shared by all heads, no separate V:
 *             layers × (kv_lora_rank + qk_rope_head_dim) × kv dtype
 *  Sliding windows do not shrink it: tandem's engine keeps every token's KV, as vLLM does for
 *  full-attention layers (see docs/latency.md, "Sliding windows"). */
export function kvBytesPerToken(model: ModelSpec): number {
  if (model.mla) return model.layers * (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * kvBytesPerElement(model);
  return 2 * model.layers * model.kv_heads * model.head_dim * kvBytesPerElement(model);
}

/** KV bytes per token on one GPU: 1/TP of it, or one whole head per layer once KV heads are
 *  replicated. MLA's latent is not split: vLLM stores it as a single KV head, which every TP rank
 *  needs for all its query heads, so each GPU holds the whole latent (replicated, like GQA heads
 *  beyond kv_heads). */
export function kvBytesPerTokenPerGpu(model: ModelSpec, tensor_parallel: number): number {
  if (model.mla) return kvBytesPerToken(model);
  return 2 * model.layers * kvHeadsPerGpu(model, tensor_parallel) * model.head_dim * kvBytesPerElement(model);
}

/** Weight bytes on one GPU: all of them (every expert of an MoE model is resident) split over TP. */
export function weightBytesPerGpu(model: ModelSpec, tensor_parallel: number): number {
  return residentWeightBytes(model) / tensor_parallel;
}

/** Estimate of the peak activation memory vLLM's profiling forward pass measures (it runs one step of
 *  `max_num_batched_tokens` dummy tokens and keeps its peak out of the KV budget):
 *    non-torch reserve
 *    + max_num_batched_tokens × dtype × (4·hidden                  residual, norm, attention and MLP outputs
 *                                       + (2|1)·mlp_width / TP     gate+up (or up) projection output
 *                                       + (heads + 2·kv_heads)·head_dim / TP)   fused QKV output
 *    + max_num_seqs × vocab × 8                                   fp32 logits and probabilities
 *  For llama-3-8b at 8192 tokens and 256 sequences this is ≈ 1.5 GiB, in line with vLLM's logs.
 *  `mlp_width` is `intermediate_size` for dense models; for MoE, the widest MLP a token passes
 *  through (its routed experts and shared experts together, or a dense layer). */
export function activationReserveBytes(model: ModelSpec, tensor_parallel: number, max_num_batched_tokens: number, max_num_seqs: number): number {
  const per_token_elements =
    4 * model.hidden_size + ((model.gated_mlp ? 2 : 1) * mlpActivationWidth(model)) / tensor_parallel + ((model.heads + 2 * model.kv_heads) * model.head_dim) / tensor_parallel;
  return NON_TORCH_RESERVE_BYTES + max_num_batched_tokens * model.dtype_bytes * per_token_elements + max_num_seqs * model.vocab_size * LOGITS_BYTES_PER_VOCAB_ENTRY;
}

/** Width of the MLP activations one token produces (see `activationReserveBytes`). */
function mlpActivationWidth(model: ModelSpec): number {
  const moe = model.moe;
  if (!moe) return model.intermediate_size;
  const expert_width = moe.active_experts * moe.expert_intermediate_size + moe.shared_experts * moe.shared_intermediate_size;
  return moe.dense_layers > 0 ? Math.max(expert_width, model.intermediate_size) : expert_width;
}

export interface KvCapacityOptions {
  model: ModelSpec | string;
  gpu: GpuSpec | string;
  tensor_parallel: number;
  /** Fraction of device memory vLLM may use (weights + activations + KV); vLLM's default 0.9. */
  gpu_memory_utilization?: number;
  /** Tokens per KV block; vLLM's default 16. */
  block_size?: number;
  /** Size of the profiling step that sets the activation reserve; vLLM V1's usual 8192. */
  max_num_batched_tokens?: number;
  /** Sequences the sampler must hold logits for; vLLM's default 256. */
  max_num_seqs?: number;
  /** File and field the instance came from (e.g. "cluster.yaml: instances[0]"), for error messages. */
  where?: string;
}

/** How one GPU's memory divides up; all bytes are per GPU. */
export interface KvCapacity {
  num_gpu_blocks: number;
  kv_tokens: number;
  budget_bytes: number;
  weights_bytes: number;
  activation_reserve_bytes: number;
  kv_bytes: number;
  block_bytes: number;
}

/** vLLM's KV sizing: what is left of memory × utilisation after weights and the activation reserve,
 *  in whole blocks. Throws an InputError when not even one block fits. */
export function kvCapacity(options: KvCapacityOptions): KvCapacity {
  const where = options.where;
  const field = (name: string) => fieldAt(where, name);
  const model = typeof options.model === "string" ? modelSpec(options.model, field("model")) : options.model;
  const gpu = typeof options.gpu === "string" ? gpuSpec(options.gpu, field("gpu")) : options.gpu;
  const tp = options.tensor_parallel;
  validateTensorParallel(model, tp, field("tensor_parallel"));
  const utilisation = options.gpu_memory_utilization ?? 0.9;
  const block_size = options.block_size ?? 16;
  const batched_tokens = options.max_num_batched_tokens ?? 8192;
  const max_num_seqs = options.max_num_seqs ?? 256;
  if (!(utilisation > 0 && utilisation <= 1)) {
    throw inputErrorAt(field("gpu_memory_utilization"), `gpu_memory_utilization ${utilisation}: expected a fraction in (0, 1]`);
  }
  for (const [name, value] of [
    ["block_size", block_size],
    ["max_num_batched_tokens", batched_tokens],
    ["max_num_seqs", max_num_seqs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw inputErrorAt(field(name), `${name} ${value}: expected a positive integer`);
  }

  const budget_bytes = gpu.memory_bytes * utilisation;
  const weights_bytes = weightBytesPerGpu(model, tp);
  const activation_reserve_bytes = activationReserveBytes(model, tp, batched_tokens, max_num_seqs);
  const kv_bytes = budget_bytes - weights_bytes - activation_reserve_bytes;
  const block_bytes = kvBytesPerTokenPerGpu(model, tp) * block_size;
  const num_gpu_blocks = Math.max(0, Math.floor(kv_bytes / block_bytes));
  if (num_gpu_blocks < 1) {
    const gib = (bytes: number) => (bytes / GiB).toFixed(1);
    throw inputErrorAt(
      where,
      `${model.name} needs ${gib(weights_bytes + activation_reserve_bytes)} GiB per GPU at tensor_parallel ${tp}` +
        ` (weights ${gib(weights_bytes)} GiB + activation reserve ${gib(activation_reserve_bytes)} GiB)` +
        ` but ${gpu.name} offers ${gib(gpu.memory_bytes)} GiB × ${utilisation}, leaving no room for KV cache;` +
        " raise tensor_parallel (or gpu_memory_utilization, or use a larger GPU)",
    );
  }
  return {
    num_gpu_blocks,
    kv_tokens: num_gpu_blocks * block_size,
    budget_bytes,
    weights_bytes,
    activation_reserve_bytes,
    kv_bytes,
    block_bytes,
  };
}

export function numGpuBlocks(options: KvCapacityOptions): number {
  return kvCapacity(options).num_gpu_blocks;
}
