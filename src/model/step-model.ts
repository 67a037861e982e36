import type { GpuSpec } from "./gpus.ts";
import type { BatchShape, LatencyModel } from "./latency-model.ts";
import { LATENCY_SCHEMA, type StepInfo } from "./latency-info.ts";
import type { StepCoefficients } from "./step-coefficients.ts";

export { stepCoefficientsSchema, type StepCoefficients } from "./step-coefficients.ts";
import { kvBytesPerElement, weightBytesPerParam, type ModelSpec } from "./models.ts";

/** Where one step's time goes (seconds); `step_s` is their sum and what `stepTime_s` returns. */
export interface StepBreakdown {
  gemm_s: number;
  attention_s: number;
  communication_s: number;
  overhead_s: number;
  step_s: number;
}

/** Activations (and so all-reduce payloads) stay 16-bit when weights are FP8. */
const ACTIVATION_BYTES = 2;

/** One kind of linear layer in the model: its weight bytes and FLOPs per token on one GPU, and how many
 *  times a step runs it. `tokens_per_group` > 0 marks expert GEMMs (see `StepLatencyModel.moeGemm`). */
interface LinearLayer {
  weight_bytes: number;
  flops_per_token: number;
  count: number;
}

/** Per-layer linear shapes of a dense or MoE transformer on one GPU (weights split over TP). */
function denseLinears(model: ModelSpec, tp: number): LinearLayer[] {
  const h = model.hidden_size;
  const wb = weightBytesPerParam(model);
  const kv_heads = Math.max(1, model.kv_heads / tp);
  const heads = model.heads / tp;
  const layer = (rows: number, cols: number, count: number): LinearLayer => ({ weight_bytes: rows * cols * wb, flops_per_token: 2 * rows * cols, count });
  const out: LinearLayer[] = [];
  const mla = model.mla;
  if (mla) {
    // MLA: queries (optionally low-rank), the shared KV down-projection (replicated), the per-head KV
    // up-projection, and the output projection.
    const qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    if (mla.q_lora_rank) out.push(layer(h, mla.q_lora_rank, model.layers), layer(mla.q_lora_rank, heads * qk, model.layers));
    else out.push(layer(h, heads * qk, model.layers));
    out.push(layer(h, mla.kv_lora_rank + mla.qk_rope_head_dim, model.layers));
    out.push(layer(mla.kv_lora_rank, heads * (mla.qk_nope_head_dim + mla.v_head_dim), model.layers));
    out.push(layer(heads * mla.v_head_dim, h, model.layers));
  } else {
    out.push(layer(h, (heads + 2 * kv_heads) * model.head_dim, model.layers)); // fused QKV
    out.push(layer(heads * model.head_dim, h, model.layers)); // output projection
  }
  const up = model.gated_mlp ? 2 : 1;
  const dense_layers = model.moe ? model.moe.dense_layers : model.layers;
  if (dense_layers > 0) {
    out.push(layer(h, (up * model.intermediate_size) / tp, dense_layers));
    out.push(layer(model.intermediate_size / tp, h, dense_layers));
  }
  const moe = model.moe;
  if (moe && moe.shared_experts > 0) {
    const width = (moe.shared_experts * moe.shared_intermediate_size) / tp;
    out.push(layer(h, up * width, model.layers - moe.dense_layers));
    out.push(layer(width, h, model.layers - moe.dense_layers));
  }
  return out;
}

/** Step-time model with the terms a GPU step has (docs/latency.md, "Step-time model"):
 *    GEMM       per linear layer: kernel + max(weights / (BW·eff_mem), FLOPs·(n + n_half) / (peak·eff))
 *               (= FLOPs / (peak·eff(n)) with eff(n) = eff·n/(n + n_half)); the LM head only for the
 *               sequences that sample; MoE experts read only the experts the tokens reach
 *    elementwise per layer: fixed + activation bytes / (BW·eff)   (counted in gemm_s)
 *    attention  prefill: per layer fixed + per (token, head) + FLOPs / (peak·eff); decode: per layer fixed + KV bytes / (BW·eff)
 *    all-reduce (TP > 1) two per layer: latency(TP) + 2(TP−1)/TP · bytes / (link·eff)
 *    overhead   step + per_seq · sequences (+ tp_step + 2·layers · skew · log2 TP when TP > 1)
 *  Everything that does not depend on the batch is computed once in the constructor. */
export class StepLatencyModel implements LatencyModel {
  readonly info: StepInfo;
  private readonly gemm_mem_s: Float64Array; // per linear kind: weight streaming time, × count
  private readonly gemm_flop_s: Float64Array; // per linear kind: seconds per token at full efficiency, × count
  private readonly gemm_kernels: number; // GEMM kernels per step (excluding LM head and experts)
  private readonly n_half: number;
  private readonly gemm_kernel_s: number;
  private readonly lm_head_mem_s: number;
  private readonly lm_head_flop_s: number;
  // MoE
  private readonly moe_layers: number;
  private readonly experts: number;
  private readonly active_experts: number;
  private readonly expert_mem_s: number; // one expert's weights, one layer
  private readonly expert_flop_s: number; // one token through one expert, one layer
  private readonly router_flop_s: number; // one token through all routers
  private readonly elementwise_fixed_s: number;
  private readonly elementwise_s_per_token: number;
  private readonly prefill_attention_fixed_s: number;
  private readonly prefill_attention_s_per_pair: number;
  private readonly prefill_attention_s_per_token: number;
  private readonly decode_attention_fixed_s: number;
  private readonly kv_read_s_per_token: number;
  private readonly window: number;
  private readonly allreduce_fixed_s: number;
  private readonly allreduce_s_per_token: number;
  private readonly step_overhead_s: number;
  private readonly per_seq_overhead_s: number;

  constructor(
    readonly model: ModelSpec,
    readonly gpu: GpuSpec,
    readonly tensor_parallel: number,
    readonly coefficients: StepCoefficients,
    provenance: { fitted_on: string; error?: Record<string, number> } = { fitted_on: "explicit coefficients" },
  ) {
    const tp = tensor_parallel;
    const c = coefficients;
    this.info = {
      schema: LATENCY_SCHEMA,
      kind: "step",
      model: model.name,
      gpu: gpu.name,
      tensor_parallel: tp,
      coefficients: { ...c },
      fitted_on: provenance.fitted_on,
      ...(provenance.error ? { error: { ...provenance.error } } : {}),
    };
    const bw = gpu.mem_bandwidth_bytes_per_s;
    const fp8 = weightBytesPerParam(model) <= 1 ? gpu.peak_fp8_flops : undefined;
    const peak_gemm = fp8 ?? gpu.peak_fp16_flops;
    const gemm_flops = peak_gemm * c.gemm_compute_efficiency;
    const gemm_bw = bw * c.gemm_memory_efficiency;
    const h = model.hidden_size;

    const linears = denseLinears(model, tp);
    this.gemm_mem_s = Float64Array.from(linears, (l) => (l.count * l.weight_bytes) / gemm_bw);
    this.gemm_flop_s = Float64Array.from(linears, (l) => (l.count * l.flops_per_token) / gemm_flops);
    this.gemm_kernels = linears.reduce((s, l) => s + l.count, 0);
    this.n_half = c.gemm_half_efficiency_tokens;
    this.gemm_kernel_s = c.gemm_kernel_s;
    // The LM head is split over TP by vocabulary; it runs once per sampling sequence.
    const lm_head_params = (model.vocab_size * h) / tp;
    this.lm_head_mem_s = (lm_head_params * weightBytesPerParam(model)) / gemm_bw;
    this.lm_head_flop_s = (2 * lm_head_params) / gemm_flops;

    const moe = model.moe;
    const up = model.gated_mlp ? 2 : 1;
    this.moe_layers = moe ? model.layers - moe.dense_layers : 0;
    this.experts = moe ? moe.experts : 0;
    this.active_experts = moe ? moe.active_experts : 0;
    const expert_params = moe ? ((up + 1) * h * moe.expert_intermediate_size) / tp : 0;
    this.expert_mem_s = (expert_params * weightBytesPerParam(model)) / gemm_bw;
    this.expert_flop_s = (2 * expert_params) / gemm_flops;
    this.router_flop_s = moe ? (2 * h * moe.experts * this.moe_layers) / (gpu.peak_fp16_flops * c.gemm_compute_efficiency) : 0;

    // Elementwise traffic per token per layer (16-bit activations): two norms (read+write hidden), two
    // residual adds (read 2, write 1), the activation (read up·I/TP, write I/TP), rotary on Q and K.
    const mlp_width = moe ? moe.active_experts * moe.expert_intermediate_size + moe.shared_experts * moe.shared_intermediate_size : model.intermediate_size;
    const elementwise_bytes = ACTIVATION_BYTES * (4 * h + 6 * h + ((up + 1) * mlp_width) / tp + (2 * (model.heads + model.kv_heads) * model.head_dim) / tp);
    this.elementwise_fixed_s = model.layers * c.elementwise_layer_s;
    this.elementwise_s_per_token = (model.layers * elementwise_bytes) / (bw * c.elementwise_memory_efficiency);

    // Attention FLOPs per (query, key) pair per layer on one GPU: QKᵀ and PV, 2 FLOPs per multiply-add.
    const heads = model.heads / tp;
    const qk_dim = model.mla ? model.mla.qk_nope_head_dim + model.mla.qk_rope_head_dim : model.head_dim;
    const v_dim = model.mla ? model.mla.v_head_dim : model.head_dim;
    this.prefill_attention_fixed_s = model.layers * c.prefill_attention_layer_s;
    this.prefill_attention_s_per_pair = (model.layers * 2 * heads * (qk_dim + v_dim)) / (gpu.peak_fp16_flops * c.prefill_attention_efficiency);
    this.prefill_attention_s_per_token = model.layers * heads * c.prefill_attention_head_token_s;
    // KV bytes per token per layer on one GPU: K and V per KV head (replicated past kv_heads), or MLA's
    // one latent + rotary key per token, replicated on every GPU.
    const kv_bytes = kvBytesPerElement(model);
    const kv_per_layer = model.mla ? (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * kv_bytes : 2 * Math.max(1, model.kv_heads / tp) * model.head_dim * kv_bytes;
    this.decode_attention_fixed_s = model.layers * c.decode_attention_layer_s;
    this.kv_read_s_per_token = (model.layers * kv_per_layer) / (bw * c.decode_attention_memory_efficiency);
    this.window = model.sliding_window ?? Infinity;

    // Two all-reduces per layer (after attention and after the MLP); a ring moves 2(TP−1)/TP of the buffer.
    const allreduces = tp > 1 ? 2 * model.layers : 0;
    this.allreduce_fixed_s = tp > 1 ? allreduces * allreduceLatency_s(c, tp) : 0;
    this.allreduce_s_per_token = tp > 1 ? (allreduces * ((2 * (tp - 1)) / tp) * h * ACTIVATION_BYTES) / (gpu.interconnect_bytes_per_s * c.allreduce_bus_efficiency) : 0;

    this.step_overhead_s = c.step_overhead_s + (tp > 1 ? c.tp_step_overhead_s + allreduces * allreduceSkew_s(c, tp) : 0);
    this.per_seq_overhead_s = c.per_seq_overhead_s;
  }

  /** Every linear layer (and the elementwise kernels between them) for `tokens` tokens, `sampled` of which
   *  go through the LM head. */
  private gemm_s(tokens: number, sampled: number): number {
    if (tokens <= 0) return 0;
    const n_eff = tokens + this.n_half;
    let t = this.gemm_kernels * this.gemm_kernel_s;
    const mem = this.gemm_mem_s;
    const flop = this.gemm_flop_s;
    for (let i = 0; i < mem.length; i++) t += Math.max(mem[i], flop[i] * n_eff);
    if (sampled > 0) t += this.gemm_kernel_s + Math.max(this.lm_head_mem_s, this.lm_head_flop_s * (sampled + this.n_half));
    if (this.moe_layers > 0) t += this.moe_s(tokens);
    return t + this.elementwise_fixed_s + this.elementwise_s_per_token * tokens;
  }

  /** Expert MLPs: tokens·k routed token-expert pairs spread over the experts they reach (in expectation
   *  E·(1 − (1 − 1/E)^(tokens·k)) under uniform routing); each reached expert's weights are read once. */
  private moe_s(tokens: number): number {
    const pairs = tokens * this.active_experts;
    const reached = this.experts * (1 - (1 - 1 / this.experts) ** pairs);
    const per_expert_tokens = pairs / reached;
    const one_expert = Math.max(this.expert_mem_s, this.expert_flop_s * (per_expert_tokens + this.n_half));
    // Router: a tiny GEMM per layer, compute only; grouped expert GEMMs: two kernels per layer.
    return this.moe_layers * (reached * one_expert + 3 * this.gemm_kernel_s) + this.router_flop_s * tokens;
  }

  private attention_s(batch: BatchShape): number {
    let t = 0;
    if (batch.prefill_tokens > 0) {
      const pairs = Math.min(batch.prefill_attention_pairs, batch.prefill_tokens * this.window);
      t += this.prefill_attention_fixed_s + this.prefill_attention_s_per_pair * pairs + this.prefill_attention_s_per_token * batch.prefill_tokens;
    }
    if (batch.decode_seqs > 0) {
      const kv = Math.min(batch.decode_context_tokens, batch.decode_seqs * this.window);
      t += this.decode_attention_fixed_s + this.kv_read_s_per_token * kv;
    }
    return t;
  }

  private communication_s(tokens: number): number {
    return tokens > 0 ? this.allreduce_fixed_s + this.allreduce_s_per_token * tokens : 0;
  }

  private overhead_s(num_seqs: number): number {
    return this.step_overhead_s + this.per_seq_overhead_s * num_seqs;
  }

  stepTime_s(batch: BatchShape): number {
    // Every sequence in the step is counted as sampling: BatchShape does not say which prefill chunk is a
    // prompt's last, and only non-final chunks skip the LM head.
    const tokens = batch.prefill_tokens + batch.decode_seqs;
    return this.gemm_s(tokens, batch.num_seqs) + this.attention_s(batch) + this.communication_s(tokens) + this.overhead_s(batch.num_seqs);
  }

  /** The parts of `stepTime_s` (allocates; for reports, the CLI and tests — not the hot loop). */
  breakdown(batch: BatchShape): StepBreakdown {
    const tokens = batch.prefill_tokens + batch.decode_seqs;
    const parts = {
      gemm_s: this.gemm_s(tokens, batch.num_seqs),
      attention_s: this.attention_s(batch),
      communication_s: this.communication_s(tokens),
      overhead_s: this.overhead_s(batch.num_seqs),
    };
    return { ...parts, step_s: parts.gemm_s + parts.attention_s + parts.communication_s + parts.overhead_s };
  }
}

// Kernel-level forms of the terms above, for fitting and for comparing with measured kernels (the class
// precomputes the same formulas per model; test/model/step-model.test.ts holds them equal).

/** One GEMM of a `rows × cols` weight (bytes per weight `weight_bytes`) over `tokens` tokens. */
export function gemmKernel_s(c: StepCoefficients, gpu: GpuSpec, rows: number, cols: number, weight_bytes: number, tokens: number): number {
  const peak = weight_bytes <= 1 ? (gpu.peak_fp8_flops ?? gpu.peak_fp16_flops) : gpu.peak_fp16_flops;
  const memory = (rows * cols * weight_bytes) / (gpu.mem_bandwidth_bytes_per_s * c.gemm_memory_efficiency);
  const compute = (2 * rows * cols * (tokens + c.gemm_half_efficiency_tokens)) / (peak * c.gemm_compute_efficiency);
  return c.gemm_kernel_s + Math.max(memory, compute);
}

/** One layer's elementwise kernels moving `bytes_per_token` per token. */
export function elementwiseLayer_s(c: StepCoefficients, gpu: GpuSpec, bytes_per_token: number, tokens: number): number {
  return c.elementwise_layer_s + (bytes_per_token * tokens) / (gpu.mem_bandwidth_bytes_per_s * c.elementwise_memory_efficiency);
}

/** One layer's prefill attention on one GPU: `heads` query heads, `tokens` query tokens, `pairs` causal (query, key) pairs. */
export function prefillAttentionLayer_s(c: StepCoefficients, gpu: GpuSpec, heads: number, head_dim: number, tokens: number, pairs: number): number {
  return c.prefill_attention_layer_s + c.prefill_attention_head_token_s * heads * tokens + (4 * heads * head_dim * pairs) / (gpu.peak_fp16_flops * c.prefill_attention_efficiency);
}

/** One layer's decode attention on one GPU reading `kv_tokens` tokens of `kv_bytes_per_token` each. */
export function decodeAttentionLayer_s(c: StepCoefficients, gpu: GpuSpec, kv_bytes_per_token: number, kv_tokens: number): number {
  return c.decode_attention_layer_s + (kv_bytes_per_token * kv_tokens) / (gpu.mem_bandwidth_bytes_per_s * c.decode_attention_memory_efficiency);
}

/** One ring all-reduce of `bytes` over `gpus` GPUs (0 for one GPU). */
export function allreduce_s(c: StepCoefficients, gpu: GpuSpec, gpus: number, bytes: number): number {
  if (gpus <= 1) return 0;
  return allreduceLatency_s(c, gpus) + (((2 * (gpus - 1)) / gpus) * bytes) / (gpu.interconnect_bytes_per_s * c.allreduce_bus_efficiency);
}

/** The wait for the slowest GPU at one all-reduce over `gpus` GPUs: each worker launches its kernels with
 *  its own jitter, and the expected maximum over N workers grows as log2 N. Not part of the NCCL kernel
 *  time (Vidur measured that in isolation), so it counts as overhead. */
export function allreduceSkew_s(c: StepCoefficients, gpus: number): number {
  return gpus > 1 ? (c.allreduce_skew_s ?? 0) * Math.log2(gpus) : 0;
}

/** The fixed latency of one all-reduce over `gpus` (> 1) GPUs: the entry for the nearest power of two at or above. */
export function allreduceLatency_s(c: StepCoefficients, gpus: number): number {
  const table = c.allreduce_latency_s;
  return table[Math.min(table.length - 1, Math.max(0, Math.ceil(Math.log2(gpus)) - 1))];
}
