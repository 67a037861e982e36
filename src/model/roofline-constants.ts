import { z } from "zod";

const fraction = z.number().positive().max(1);
const seconds = z.number().nonnegative();

/** The knobs of the roofline: how close kernels get to the datasheet peaks, and fixed costs. */
export const rooflineConstantsSchema = z.strictObject({
  /** Fraction of peak tensor FLOPs the weight GEMMs reach at large token counts. */
  linear_compute_efficiency: fraction,
  /** Fraction of HBM bandwidth reached streaming the weights (small-batch GEMMs / GEMVs). */
  linear_memory_efficiency: fraction,
  /** Fraction of peak FLOPs the attention kernel (flash attention) reaches in prefill. */
  attention_compute_efficiency: fraction,
  /** Fraction of HBM bandwidth the paged-attention kernel reaches reading KV blocks. */
  attention_memory_efficiency: fraction,
  /** Fraction of the interconnect bandwidth an all-reduce ring reaches (NCCL "bus bandwidth"). */
  interconnect_efficiency: fraction,
  /** Per-step CPU cost: scheduling, input preparation, sampling, graph launch. */
  step_overhead_s: seconds,
  /** Per-sequence CPU cost added to each step (block tables, sampling, detokenising). */
  per_seq_overhead_s: seconds,
  /** Extra per-step cost when TP > 1: broadcasting the step to the worker processes and gathering back. */
  tp_step_overhead_s: seconds,
  /** Fixed latency of one all-reduce (launch, and waiting for the slowest GPU), paid twice per layer when TP > 1. */
  allreduce_latency_s: seconds,
});

export type RooflineConstants = z.infer<typeof rooflineConstantsSchema>;

/** Defaults chosen so that the roofline lands where vLLM does in practice: llama-3-8b on one H100 decodes
 *  one sequence at ~8 ms/token and prefills 1k tokens in ~30 ms; llama-2-70b at TP 4 on A100-80GB
 *  decodes at ~30 ms/token. */
export const DEFAULT_ROOFLINE_CONSTANTS: Readonly<RooflineConstants> = Object.freeze({
  linear_compute_efficiency: 0.5,
  linear_memory_efficiency: 0.75,
  attention_compute_efficiency: 0.4,
  attention_memory_efficiency: 0.6,
  interconnect_efficiency: 0.75,
  step_overhead_s: 1.5e-3,
  per_seq_overhead_s: 10e-6,
  tp_step_overhead_s: 1e-3,
  allreduce_latency_s: 40e-6,
});
