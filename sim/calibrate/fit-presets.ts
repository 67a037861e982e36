import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gpuSpec, type GpuSpec } from "../../src/model/gpus.ts";
import { emptyBatchShape, type LatencyModel } from "../../src/model/latency-model.ts";
import { modelSpec } from "../../src/model/models.ts";
import { allreduce_s, decodeAttentionLayer_s, elementwiseLayer_s, StepLatencyModel, type StepCoefficients } from "../../src/model/step-model.ts";
import { carryCoefficients, STEP_PRESETS_SCHEMA, type StepPreset, type StepPresetsDocument } from "../../src/model/step-presets.ts";
import { errorOf, kernelErrors, layerElementwiseBytes, layerGemms, predictAttention_s, type KernelError } from "./kernel-errors.ts";
import { groupMeasurements, type Measurement, type ProfileGroup } from "./measurements.ts";
import { nelderMead } from "./nelder-mead.ts";
import { parseSplitwiseCsv, splitwiseMeasurements } from "./splitwise.ts";
import { ReplayCache, replayTimes, shapeFolds } from "./splitwise-replay.ts";
import { readVidurProfiles, type VidurProfiles } from "./vidur.ts";
import { gemmKernel_s } from "../../src/model/step-model.ts";

/** `npm run fit:presets`: fits the step-time model's coefficients per GPU (docs/latency.md).
 *
 *  A100-80GB: every kernel term from Vidur's A100 kernel profiles (GEMMs of 7 models × TP 1–8, attention,
 *  all-reduce), the CPU terms from Vidur's CPU overheads, then the per-step and TP overheads from
 *  Splitwise's A100 static batches (the only end-to-end data).
 *  H100-80GB: no kernel data; the A100 fractions of peak carry, scaled by two factors (one for FLOPs, one
 *  for bandwidth) fitted with the per-step and TP overheads on Splitwise's H100 static batches.
 *  Splitwise errors are reported on held-out folds of whole (prompt, batch) shapes. */

const FOLDS = 5;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

/** Splitwise measurements by (model, gpu, TP) group; the power-capped H100 rows are left out (not a preset). */
export function readSplitwiseGroups(profiles_dir: string): ProfileGroup[] {
  const file = join(profiles_dir, "splitwise-perf-model.csv");
  const rows = parseSplitwiseCsv(readFileSync(file, "utf8"), file);
  const { measurements, excluded, adjusted } = splitwiseMeasurements(rows, file);
  return groupMeasurements(measurements, excluded, adjusted).filter((g) => g.gpu === "a100-80gb" || g.gpu === "h100-80gb");
}

/** Mean absolute percentage error of ttft, tpot and e2e (each a fraction), per quantity. */
export interface SplitwiseErrors {
  ttft: KernelError;
  tpot: KernelError;
  e2e: KernelError;
}

export function splitwiseErrors(measurements: readonly Measurement[], latency: (m: Measurement) => LatencyModel, cache: ReplayCache): SplitwiseErrors {
  const pairs = { ttft: [] as [number, number][], tpot: [] as [number, number][], e2e: [] as [number, number][] };
  const shape = emptyBatchShape();
  for (const m of measurements) {
    const t = replayTimes(cache.get(m), latency(m), shape);
    pairs.ttft.push([t.ttft!, m.ttft_s]);
    if (t.tpot !== undefined && m.tpot_s !== undefined) pairs.tpot.push([t.tpot, m.tpot_s]);
    pairs.e2e.push([t.e2e!, m.e2e_s]);
  }
  return { ttft: errorOf(pairs.ttft), tpot: errorOf(pairs.tpot), e2e: errorOf(pairs.e2e) };
}

function loss(e: SplitwiseErrors): number {
  return e.ttft.mape + e.tpot.mape + e.e2e.mape;
}

// ---------------------------------------------------------------------------------------------------
// Kernel fits (A100)

function fitGemm(
  v: VidurProfiles,
  gpu: GpuSpec,
  gpu_dir: string,
): Pick<StepCoefficients, "gemm_memory_efficiency" | "gemm_compute_efficiency" | "gemm_half_efficiency_tokens" | "gemm_kernel_s"> {
  const rows = v.linear.filter((r) => r.gpu_dir === gpu_dir);
  const samples: { rows: number; cols: number; tokens: number; t: number }[] = [];
  for (const r of rows) {
    const gemms = layerGemms(r.shape, r.tensor_parallel);
    const measured = [r.qkv_s, r.out_s, r.up_s, r.down_s];
    gemms.forEach(([a, b], i) => measured[i] > 0 && samples.push({ rows: a, cols: b, tokens: r.tokens, t: measured[i] }));
  }
  const decode = (x: number[]) => ({
    gemm_memory_efficiency: sigmoid(x[0]),
    gemm_compute_efficiency: sigmoid(x[1]),
    gemm_half_efficiency_tokens: Math.exp(x[2]),
    gemm_kernel_s: Math.exp(x[3]) * 1e-6,
  });
  const objective = (x: number[]) => {
    const c = decode(x) as StepCoefficients;
    let s = 0;
    for (const p of samples) s += Math.abs(gemmKernel_s(c, gpu, p.rows, p.cols, 2, p.tokens) - p.t) / p.t;
    return s / samples.length;
  };
  return decode(nelderMead(objective, [logit(0.75), logit(0.7), Math.log(30), Math.log(5)], { iterations: 2000 }).x);
}

function fitElementwise(v: VidurProfiles, gpu: GpuSpec, gpu_dir: string): Pick<StepCoefficients, "elementwise_memory_efficiency" | "elementwise_layer_s"> {
  const rows = v.linear.filter((r) => r.gpu_dir === gpu_dir && r.elementwise_s > 0);
  const decode = (x: number[]) => ({ elementwise_memory_efficiency: sigmoid(x[0]), elementwise_layer_s: Math.exp(x[1]) * 1e-6 });
  const objective = (x: number[]) => {
    const c = decode(x) as StepCoefficients;
    let s = 0;
    for (const r of rows) s += Math.abs(elementwiseLayer_s(c, gpu, layerElementwiseBytes(r.shape, r.tensor_parallel), r.tokens) - r.elementwise_s) / r.elementwise_s;
    return s / rows.length;
  };
  return decode(nelderMead(objective, [logit(0.6), Math.log(20)], { iterations: 1000 }).x);
}

function fitAttention(v: VidurProfiles, gpu: GpuSpec) {
  const prefill = v.attention.filter((r) => r.prefill && r.time_s > 0);
  const decode_rows = v.attention.filter((r) => !r.prefill && r.time_s > 0);
  const pre = (x: number[]) => ({ prefill_attention_efficiency: sigmoid(x[0]), prefill_attention_layer_s: Math.exp(x[1]) * 1e-6, prefill_attention_head_token_s: Math.exp(x[2]) * 1e-9 });
  const dec = (x: number[]) => ({ decode_attention_memory_efficiency: sigmoid(x[0]), decode_attention_layer_s: Math.exp(x[1]) * 1e-6 });
  const mape = (rows: typeof prefill, c: StepCoefficients) => rows.reduce((s, r) => s + Math.abs(predictAttention_s(c, gpu, r) - r.time_s) / r.time_s, 0) / rows.length;
  const p = pre(nelderMead((x) => mape(prefill, pre(x) as StepCoefficients), [logit(0.4), Math.log(5), Math.log(4)], { iterations: 2000 }).x);
  const d = dec(nelderMead((x) => mape(decode_rows, dec(x) as StepCoefficients), [logit(0.75), Math.log(15)], { iterations: 1000 }).x);
  void decodeAttentionLayer_s;
  return { ...p, ...d };
}

function fitAllreduce(v: VidurProfiles, gpu: GpuSpec, topology: string) {
  const rows = v.allreduce.filter((r) => r.topology === topology && r.gpus <= 8);
  const counts = [...new Set(rows.map((r) => r.gpus))].sort((a, b) => a - b);
  const decode = (x: number[]) => ({ allreduce_latency_s: counts.map((_, i) => Math.exp(x[i]) * 1e-6), allreduce_bus_efficiency: sigmoid(x[counts.length]) });
  const objective = (x: number[]) => {
    const c = decode(x) as StepCoefficients;
    return rows.reduce((s, r) => s + Math.abs(allreduce_s(c, gpu, r.gpus, r.bytes) - r.time_s) / r.time_s, 0) / rows.length;
  };
  return decode(nelderMead(objective, [...counts.map(() => Math.log(20)), logit(0.6)], { iterations: 3000 }).x);
}

/** Least squares line through Vidur's CPU cost per step against batch size (all models and TP degrees). */
function fitCpu(v: VidurProfiles): { step_overhead_s: number; per_seq_overhead_s: number } {
  const n = v.cpu.length;
  const mx = v.cpu.reduce((s, r) => s + r.batch_size, 0) / n;
  const my = v.cpu.reduce((s, r) => s + r.cpu_s, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const r of v.cpu) {
    sxy += (r.batch_size - mx) * (r.cpu_s - my);
    sxx += (r.batch_size - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { per_seq_overhead_s: slope, step_overhead_s: Math.max(0, my - slope * mx) };
}

// ---------------------------------------------------------------------------------------------------
// End-to-end fits (Splitwise)

/** Coefficients scaled for a GPU: fractions of peak FLOPs × `compute`, fractions of bandwidth × `memory`. */
function scaled(base: StepCoefficients, compute: number, memory: number): StepCoefficients {
  const cap = (f: number) => Math.min(0.99, f);
  return {
    ...base,
    gemm_compute_efficiency: cap(base.gemm_compute_efficiency * compute),
    prefill_attention_efficiency: cap(base.prefill_attention_efficiency * compute),
    prefill_attention_head_token_s: base.prefill_attention_head_token_s / compute,
    gemm_memory_efficiency: cap(base.gemm_memory_efficiency * memory),
    elementwise_memory_efficiency: cap(base.elementwise_memory_efficiency * memory),
    decode_attention_memory_efficiency: cap(base.decode_attention_memory_efficiency * memory),
  };
}

interface EndToEndFit {
  /** x → coefficients. */
  decode: (x: number[]) => StepCoefficients;
  start: number[];
}

function fitEndToEnd(groups: ProfileGroup[], gpu: GpuSpec, fit: EndToEndFit, cache: ReplayCache, train: (m: Measurement) => boolean): StepCoefficients {
  const specs = new Map(groups.map((g) => [g, modelSpec(g.model)]));
  const objective = (x: number[]) => {
    const c = fit.decode(x);
    let total = 0;
    for (const g of groups) {
      const model = new StepLatencyModel(specs.get(g)!, gpu, g.tensor_parallel, c);
      total += loss(splitwiseErrors(g.measurements.filter(train), () => model, cache));
    }
    return total / groups.length;
  };
  return fit.decode(nelderMead(objective, fit.start, { iterations: 300 * fit.start.length, step: 0.4 }).x);
}

/** Held-out errors per group: each fold's (prompt, batch) shapes are predicted by a fit on the others. */
function heldOutErrors(groups: ProfileGroup[], gpu: GpuSpec, fit: EndToEndFit, cache: ReplayCache): Map<ProfileGroup, SplitwiseErrors> {
  const fold_of = new Map<Measurement, number>();
  for (const g of groups) shapeFolds(g.measurements, FOLDS).forEach((f, i) => fold_of.set(g.measurements[i], f));
  const per_fold = Array.from({ length: FOLDS }, (_, k) => fitEndToEnd(groups, gpu, fit, cache, (m) => fold_of.get(m) !== k));
  const out = new Map<ProfileGroup, SplitwiseErrors>();
  for (const g of groups) {
    const model = (m: Measurement) => new StepLatencyModel(modelSpec(g.model), gpu, g.tensor_parallel, per_fold[fold_of.get(m)!]);
    const models = per_fold.map((c) => new StepLatencyModel(modelSpec(g.model), gpu, g.tensor_parallel, c));
    void model;
    out.set(
      g,
      splitwiseErrors(g.measurements, (m) => models[fold_of.get(m)!], cache),
    );
  }
  return out;
}

const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

function roundCoefficients(c: StepCoefficients): StepCoefficients {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => round(x)) : round(v)])) as StepCoefficients;
}

export type FitLog = (line: string) => void;

/** Fits every GPU the data covers and returns the presets document (deterministic). */
export function fitStepPresets(profiles_dir: string, log: FitLog = () => {}): StepPresetsDocument {
  const vidur = readVidurProfiles(profiles_dir);
  const groups = readSplitwiseGroups(profiles_dir);
  const cache = new ReplayCache();
  const a100 = gpuSpec("a100-80gb");
  const h100 = gpuSpec("h100-80gb");

  // A100: kernels from Vidur.
  const kernels: StepCoefficients = {
    ...fitGemm(vidur, a100, "a100"),
    ...fitElementwise(vidur, a100, "a100"),
    ...fitAttention(vidur, a100),
    ...fitAllreduce(vidur, a100, "a100_dgx"),
    ...fitCpu(vidur),
    tp_step_overhead_s: 0,
  };
  log(`a100 kernels: ${JSON.stringify(roundCoefficients(kernels))}`);

  const a100_groups = groups.filter((g) => g.gpu === a100.name);
  const a100_fit: EndToEndFit = {
    // The step term stays Vidur's measured CPU cost (what a TP 1 step pays); what TP adds is the wait for
    // the slowest worker at each all-reduce, skew · log2 TP, two per layer. A constant TP step cost fitted
    // next to it goes to zero (TP 4 and TP 8 differ by far more than one constant allows), so it stays 0.
    decode: (x) => ({ ...kernels, tp_step_overhead_s: 0, allreduce_skew_s: Math.exp(x[0]) * 1e-6 }),
    start: [Math.log(20)],
  };
  const a100_c = roundCoefficients(fitEndToEnd(a100_groups, a100, a100_fit, cache, () => true));
  log(`a100 end to end: step ${a100_c.step_overhead_s}, all-reduce skew ${a100_c.allreduce_skew_s}`);

  const h100_groups = groups.filter((g) => g.gpu === h100.name);
  const h100_fit: EndToEndFit = {
    decode: (x) => ({
      ...scaled(carryCoefficients(a100_c, a100, h100), Math.exp(x[0]), Math.exp(x[1])),
      allreduce_skew_s: Math.exp(x[2]) * 1e-6,
    }),
    start: [Math.log(0.9), Math.log(1), Math.log(20)],
  };
  const h100_c = roundCoefficients(fitEndToEnd(h100_groups, h100, h100_fit, cache, () => true));
  log(`h100: ${JSON.stringify(h100_c)}`);

  const presets: Record<string, StepPreset> = {};
  const describe = (gpu: GpuSpec, c: StepCoefficients, e2e_groups: ProfileGroup[], fit: EndToEndFit, fitted_on: string): StepPreset => {
    const error: Record<string, number> = {};
    const k = kernelErrors(c, gpu, vidur, gpu === a100 ? "a100" : "none");
    for (const [family, e] of Object.entries(k)) if (e) error[`vidur_${family}_mape`] = round(e.mape, 3);
    const held = heldOutErrors(e2e_groups, gpu, fit, cache);
    for (const [g, e] of held) {
      const key = `splitwise_${g.model}_tp${g.tensor_parallel}`;
      error[`${key}_ttft_mape_heldout`] = round(e.ttft.mape, 3);
      error[`${key}_tpot_mape_heldout`] = round(e.tpot.mape, 3);
      error[`${key}_e2e_mape_heldout`] = round(e.e2e.mape, 3);
    }
    log(`${gpu.name} errors: ${JSON.stringify(error)}`);
    return { coefficients: c, fitted_on, error };
  };
  presets[a100.name] = describe(
    a100,
    a100_c,
    a100_groups,
    a100_fit,
    "Vidur A100 kernel profiles (GEMMs of 7 models at TP 1–8, FlashAttention prefill and paged decode, all-reduce on DGX A100, CPU overheads); all-reduce skew from Splitwise A100 static batches (llama-2-70b TP 2/4/8, bloom-176b TP 8)",
  );
  presets[h100.name] = describe(
    h100,
    h100_c,
    h100_groups,
    h100_fit,
    "A100 kernel fractions of peak (Vidur) carried by the datasheet ratios and scaled by one compute and one bandwidth factor fitted with the all-reduce skew on Splitwise H100 static batches (llama-2-70b TP 2/4/8, bloom-176b TP 8)",
  );
  return { schema: STEP_PRESETS_SCHEMA, generated_by: "npm run fit:presets", presets };
}
