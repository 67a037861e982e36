import { z } from "zod";

const fraction = z.number().positive().max(1);
const seconds = z.number().nonnegative();

/** The physical coefficients of the step-time model, one set per GPU (docs/latency.md, "Step-time
 *  model"). Efficiencies are fractions of the datasheet peaks, so one set carries to other models. */
export const stepCoefficientsSchema = z.strictObject({
  /** Fraction of HBM bandwidth a GEMM reaches streaming its weights (few tokens: memory-bound). */
  gemm_memory_efficiency: fraction,
  /** Fraction of peak tensor FLOPs a GEMM reaches with many tokens. */
  gemm_compute_efficiency: fraction,
  /** Tokens at which a GEMM reaches half its compute efficiency: eff(n) = eff · n / (n + n_half). */
  gemm_half_efficiency_tokens: z.number().nonnegative(),
  /** Fixed cost of each GEMM kernel (launch, tail wave). */
  gemm_kernel_s: seconds,
  /** Fraction of HBM bandwidth the elementwise kernels (norms, activation, residual adds, rotary) reach. */
  elementwise_memory_efficiency: fraction,
  /** Fixed cost of one layer's elementwise kernels together. */
  elementwise_layer_s: seconds,
  /** Fraction of peak FLOPs FlashAttention reaches in prefill (causal pairs counted once). */
  prefill_attention_efficiency: fraction,
  /** Fixed cost of one layer's prefill-attention kernel. */
  prefill_attention_layer_s: seconds,
  /** Per query token per query head: loading Q, writing O and the softmax bookkeeping, apart from the FLOPs. */
  prefill_attention_head_token_s: seconds,
  /** Fraction of HBM bandwidth paged decode attention reaches reading KV. */
  decode_attention_memory_efficiency: fraction,
  /** Fixed cost of one layer's decode-attention kernel: paid at every TP degree. */
  decode_attention_layer_s: seconds,
  /** Latency of one all-reduce over 2, 4, 8, … GPUs (index log2(GPUs) − 1; the last entry serves larger
   *  counts): NCCL switches algorithms and protocols with the GPU count, so it is measured, not a formula. */
  allreduce_latency_s: z.array(seconds).min(1),
  /** Fraction of the interconnect bandwidth a ring all-reduce reaches (NCCL bus bandwidth). */
  allreduce_bus_efficiency: fraction,
  /** Wait for the slowest GPU at each all-reduce, per doubling of the GPU count (TP > 1): the workers'
   *  launch jitter, paid twice per layer on top of the kernel; absent means 0. */
  allreduce_skew_s: seconds.optional(),
  /** CPU cost of every step (scheduling, input preparation, launching the graph). */
  step_overhead_s: seconds,
  /** CPU cost per sequence in the step (block tables, sampling, output processing). */
  per_seq_overhead_s: seconds,
  /** Extra cost per step with TP > 1 (broadcasting the step to the workers). */
  tp_step_overhead_s: seconds,
});

export type StepCoefficients = z.infer<typeof stepCoefficientsSchema>;
