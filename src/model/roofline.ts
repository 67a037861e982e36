import { z } from "zod";
import { gpuSpec, type GpuSpec } from "./gpus.ts";
import { zodInputError } from "../core/zod-issue.ts";
import { kvBytesPerTokenPerGpu, weightBytesPerGpu } from "./memory.ts";
import { LATENCY_SCHEMA, type RooflineInfo } from "./latency-info.ts";
import type { BatchShape, LatencyModel } from "./latency-model.ts";
import { lmHeadParams, modelSpec, transformerMatmulParams, type ModelSpec } from "./models.ts";
import { validateTensorParallel } from "./parallel.ts";
import { DEFAULT_ROOFLINE_CONSTANTS, rooflineConstantsSchema, type RooflineConstants } from "./roofline-constants.ts";
import { fieldAt } from "./where.ts";

/** Where a step's time goes (seconds); `total_s` is what `stepTime_s` returns. */
export interface RooflineBreakdown {
  linear_compute_s: number;
  linear_memory_s: number;
  attention_compute_s: number;
  attention_memory_s: number;
  allreduce_s: number;
  overhead_s: number;
  total_s: number;
}

/** Analytic step time from the model's shape and the GPU's datasheet:
 *    linear    = max(FLOPs / (TP · peak · eff), weight bytes per GPU / (bandwidth · eff))
 *    attention = max(FLOPs / (TP · peak · eff), KV bytes per GPU / (bandwidth · eff))
 *    all-reduce (TP > 1) = 2 · layers · (latency + 2(TP−1)/TP · tokens · hidden · dtype / (link · eff))
 *    overhead  = step + per_seq · num_seqs (+ tp_step when TP > 1)
 *  Everything that does not depend on the batch is computed once in the constructor. */
export class RooflineLatencyModel implements LatencyModel {
  readonly info: RooflineInfo;
  private readonly linear_s_per_token: number;
  private readonly lm_head_s_per_seq: number;
  private readonly weights_s: number;
  private readonly attention_s_per_pair: number;
  private readonly kv_read_s_per_token: number;
  private readonly allreduce_fixed_s: number;
  private readonly allreduce_s_per_token: number;
  private readonly step_overhead_s: number;
  private readonly per_seq_overhead_s: number;

  constructor(
    readonly model: ModelSpec,
    readonly gpu: GpuSpec,
    readonly tensor_parallel: number,
    constants: RooflineConstants,
  ) {
    const tp = tensor_parallel;
    const c = constants;
    this.info = { schema: LATENCY_SCHEMA, kind: "roofline", model: model.name, gpu: gpu.name, tensor_parallel: tp, constants: { ...c } };

    const linear_flops_per_s = gpu.peak_fp16_flops * c.linear_compute_efficiency;
    const attention_flops_per_s = gpu.peak_fp16_flops * c.attention_compute_efficiency;
    // Each token passes through every layer's matmuls; logits are computed only at each sequence's
    // sampled position, so the LM head scales with sequences, not tokens.
    this.linear_s_per_token = (2 * transformerMatmulParams(model)) / tp / linear_flops_per_s;
    this.lm_head_s_per_seq = (2 * lmHeadParams(model)) / tp / linear_flops_per_s;
    this.weights_s = weightBytesPerGpu(model, tp) / (gpu.mem_bandwidth_bytes_per_s * c.linear_memory_efficiency);
    // QKᵀ and PV: 2 FLOPs per multiply-add, two matmuls, per head dimension, per (query, key) pair.
    this.attention_s_per_pair = (4 * model.layers * model.heads * model.head_dim) / tp / attention_flops_per_s;
    this.kv_read_s_per_token = kvBytesPerTokenPerGpu(model, tp) / (gpu.mem_bandwidth_bytes_per_s * c.attention_memory_efficiency);

    // Two all-reduces per layer (after attention and after the MLP) of tokens × hidden activations;
    // a ring moves 2(TP−1)/TP of the buffer through each GPU's link.
    const allreduces = tp > 1 ? 2 * model.layers : 0;
    const ring_bytes_per_token = tp > 1 ? ((2 * (tp - 1)) / tp) * model.hidden_size * model.dtype_bytes : 0;
    this.allreduce_fixed_s = allreduces * c.allreduce_latency_s;
    this.allreduce_s_per_token = (allreduces * ring_bytes_per_token) / (gpu.interconnect_bytes_per_s * c.interconnect_efficiency);

    this.step_overhead_s = c.step_overhead_s + (tp > 1 ? c.tp_step_overhead_s : 0);
    this.per_seq_overhead_s = c.per_seq_overhead_s;
  }

  stepTime_s(batch: BatchShape): number {
    const tokens = batch.prefill_tokens + batch.decode_seqs;
    const linear_compute_s = this.linear_s_per_token * tokens + this.lm_head_s_per_seq * batch.num_seqs;
    const attention_compute_s = this.attention_s_per_pair * (batch.prefill_attention_pairs + batch.decode_context_tokens);
    const attention_memory_s = this.kv_read_s_per_token * (batch.decode_context_tokens + batch.prefill_context_tokens);
    return (
      Math.max(linear_compute_s, this.weights_s) +
      Math.max(attention_compute_s, attention_memory_s) +
      this.allreduce_fixed_s +
      this.allreduce_s_per_token * tokens +
      this.step_overhead_s +
      this.per_seq_overhead_s * batch.num_seqs
    );
  }

  /** The parts of `stepTime_s` (allocates; for reports and tests, not the hot loop). */
  breakdown(batch: BatchShape): RooflineBreakdown {
    const tokens = batch.prefill_tokens + batch.decode_seqs;
    const parts = {
      linear_compute_s: this.linear_s_per_token * tokens + this.lm_head_s_per_seq * batch.num_seqs,
      linear_memory_s: this.weights_s,
      attention_compute_s: this.attention_s_per_pair * (batch.prefill_attention_pairs + batch.decode_context_tokens),
      attention_memory_s: this.kv_read_s_per_token * (batch.decode_context_tokens + batch.prefill_context_tokens),
      allreduce_s: this.allreduce_fixed_s + this.allreduce_s_per_token * tokens,
      overhead_s: this.step_overhead_s + this.per_seq_overhead_s * batch.num_seqs,
    };
    return { ...parts, total_s: this.stepTime_s(batch) };
  }
}

/** A roofline model for a preset (or explicit) model and GPU. `overrides` replace default constants;
 *  `where` names the config the arguments came from, for error messages. */
export function rooflineModel(model: string | ModelSpec, gpu: string | GpuSpec, tensor_parallel: number, overrides?: Partial<RooflineConstants>, where?: string): RooflineLatencyModel {
  const field = (name: string) => fieldAt(where, name);
  const model_spec = typeof model === "string" ? modelSpec(model, field("model")) : model;
  const gpu_spec = typeof gpu === "string" ? gpuSpec(gpu, field("gpu")) : gpu;
  validateTensorParallel(model_spec, tensor_parallel, field("tensor_parallel"));
  const parsed = rooflineConstantsSchema.partial().safeParse(overrides ?? {});
  if (!parsed.success) throw zodInputError(field("constants") ?? "roofline constants", parsed.error);
  return new RooflineLatencyModel(model_spec, gpu_spec, tensor_parallel, { ...DEFAULT_ROOFLINE_CONSTANTS, ...parsed.data });
}

export const rooflineDocumentSchema = z.strictObject({
  schema: z.literal(LATENCY_SCHEMA),
  kind: z.literal("roofline"),
  model: z.string().min(1),
  gpu: z.string().min(1),
  tensor_parallel: z.number().int().positive(),
  /** Any subset; the rest take their defaults. */
  constants: rooflineConstantsSchema.partial().optional(),
});

/** Builds a roofline model from a parsed JSON document (e.g. a report's recorded `info`). */
export function rooflineLatencyModelFromJson(doc: unknown, file: string): RooflineLatencyModel {
  const parsed = rooflineDocumentSchema.safeParse(doc);
  if (!parsed.success) throw zodInputError(file, parsed.error);
  const d = parsed.data;
  return rooflineModel(d.model, d.gpu, d.tensor_parallel, d.constants, file);
}
