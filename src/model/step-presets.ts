import { z } from "zod";
import { zodInputError } from "../core/zod-issue.ts";
import { gpuSpec, type GpuSpec } from "./gpus.ts";
import { LATENCY_SCHEMA, type StepInfo } from "./latency-info.ts";
import { modelSpec, type ModelSpec } from "./models.ts";
import { validateTensorParallel } from "./parallel.ts";
import { stepCoefficientsSchema, StepLatencyModel, type StepCoefficients } from "./step-model.ts";
import { fieldAt } from "./where.ts";
import shipped from "./presets/step-coefficients.json" with { type: "json" };

export const STEP_PRESETS_SCHEMA = "tandem.step-presets/v1";

export const stepPresetSchema = z.strictObject({
  coefficients: stepCoefficientsSchema,
  /** What the coefficients were fitted on. */
  fitted_on: z.string().min(1),
  /** Measured errors (fractions), e.g. vidur_gemm_mape, splitwise_e2e_mape_heldout. */
  error: z.record(z.string(), z.number()),
});

export const stepPresetsDocumentSchema = z.strictObject({
  schema: z.literal(STEP_PRESETS_SCHEMA),
  /** The command that wrote the file. */
  generated_by: z.string(),
  presets: z.record(z.string(), stepPresetSchema),
});

export type StepPreset = z.infer<typeof stepPresetSchema>;
export type StepPresetsDocument = z.infer<typeof stepPresetsDocumentSchema>;

let cached: StepPresetsDocument | undefined;

/** The presets shipped in src/model/presets/step-coefficients.json (written by `npm run fit:presets`). */
export function shippedStepPresets(): StepPresetsDocument {
  if (!cached) {
    const parsed = stepPresetsDocumentSchema.safeParse(shipped, { jitless: true }); // parsed once: compiling the fast path costs more
    if (!parsed.success) throw zodInputError("src/model/presets/step-coefficients.json", parsed.error);
    cached = parsed.data;
  }
  return cached;
}

/** The fitted preset for `gpu`; a GPU without measurements takes the coefficients of the fitted GPU of the
 *  closest generation (efficiencies are fractions of the datasheet peaks, so they carry), and says so. */
export function stepPresetFor(gpu: GpuSpec): StepPreset {
  const presets = shippedStepPresets().presets;
  const own = presets[gpu.name];
  if (own) return own;
  const names = Object.keys(presets);
  // Closest by FLOPs-to-bandwidth balance and peak: Hopper-class parts take the H100 fit, others the A100's.
  let best = names[0];
  let best_d = Infinity;
  for (const name of names) {
    const other = gpuSpec(name);
    const d = Math.abs(Math.log(other.peak_fp16_flops / gpu.peak_fp16_flops)) + Math.abs(Math.log(other.mem_bandwidth_bytes_per_s / gpu.mem_bandwidth_bytes_per_s));
    if (d < best_d) [best, best_d] = [name, d];
  }
  const carried = presets[best];
  return { coefficients: carryCoefficients(carried.coefficients, gpuSpec(best), gpu), fitted_on: `carried from ${best} (no measurements for ${gpu.name}): ${carried.fitted_on}`, error: {} };
}

/** Coefficients fitted on `from`, for `to`: efficiencies are fractions of the datasheet peaks and fixed
 *  kernel costs are launch latencies, so both carry as they are; the one per-work term in seconds, prefill
 *  attention's per (query token, head) cost, is SM work and scales with the peak FLOPs. */
export function carryCoefficients(c: StepCoefficients, from: GpuSpec, to: GpuSpec): StepCoefficients {
  return { ...c, prefill_attention_head_token_s: (c.prefill_attention_head_token_s * from.peak_fp16_flops) / to.peak_fp16_flops };
}

/** The step-time model for a model and GPU with the shipped fitted coefficients (or `coefficients`). */
export function stepModel(model: string | ModelSpec, gpu: string | GpuSpec, tensor_parallel: number, coefficients?: StepCoefficients, where?: string): StepLatencyModel {
  const field = (name: string) => fieldAt(where, name);
  const model_spec = typeof model === "string" ? modelSpec(model, field("model")) : model;
  const gpu_spec = typeof gpu === "string" ? gpuSpec(gpu, field("gpu")) : gpu;
  validateTensorParallel(model_spec, tensor_parallel, field("tensor_parallel"));
  if (coefficients) return new StepLatencyModel(model_spec, gpu_spec, tensor_parallel, coefficients);
  const preset = stepPresetFor(gpu_spec);
  return new StepLatencyModel(model_spec, gpu_spec, tensor_parallel, preset.coefficients, { fitted_on: preset.fitted_on, error: preset.error });
}

export const stepDocumentSchema = z.strictObject({
  schema: z.literal(LATENCY_SCHEMA),
  kind: z.literal("step"),
  model: z.string().min(1),
  gpu: z.string().min(1),
  tensor_parallel: z.number().int().positive(),
  /** Absent: the shipped preset for the GPU. */
  coefficients: stepCoefficientsSchema.optional(),
  fitted_on: z.string().optional(),
  error: z.record(z.string(), z.number()).optional(),
});

/** Builds a step model from a parsed JSON document (e.g. a report's recorded `info`). */
export function stepLatencyModelFromJson(doc: unknown, file: string): StepLatencyModel {
  const parsed = stepDocumentSchema.safeParse(doc);
  if (!parsed.success) throw zodInputError(file, parsed.error);
  const d = parsed.data;
  const base = stepModel(d.model, d.gpu, d.tensor_parallel, undefined, file);
  if (!d.coefficients) return base;
  const info: Pick<StepInfo, "fitted_on" | "error"> = { fitted_on: d.fitted_on ?? file, error: d.error };
  return new StepLatencyModel(base.model, base.gpu, d.tensor_parallel, d.coefficients, { fitted_on: info.fitted_on, error: info.error });
}
