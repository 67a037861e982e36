import { existsSync } from "node:fs";
import { join } from "node:path";
import { gpuSpec } from "../../src/model/gpus.ts";
import type { LatencyModel } from "../../src/model/latency-model.ts";
import type { ModelSpec } from "../../src/model/models.ts";
import { RooflineLatencyModel, rooflineModel } from "../../src/model/roofline.ts";
import { DEFAULT_ROOFLINE_CONSTANTS } from "../../src/model/roofline-constants.ts";
import type { StepLatencyModel } from "../../src/model/step-model.ts";
import { stepModel } from "../../src/model/step-presets.ts";
import { errorOf, kernelErrors, type KernelError } from "./kernel-errors.ts";
import { readSplitwiseGroups, splitwiseErrors } from "./fit-presets.ts";
import { ReplayCache } from "./splitwise-replay.ts";
import { addDecode, addPrefillChunk, emptyBatchShape } from "../../src/model/latency-model.ts";
import { readVidurProfiles, type VidurProfiles } from "./vidur.ts";
import { layerGemms } from "./kernel-errors.ts";

/** Which latency model `tandem fidelity` judges: the shipped step-time presets, the analytic roofline, or
 *  one model from a file (judged on the groups that match its model, GPU and TP). */
export type FidelitySubject = { kind: "step" } | { kind: "roofline" } | { kind: "file"; model: LatencyModel };

export interface FidelityLine {
  /** "splitwise" or "vidur". */
  source: string;
  /** "llama-2-70b a100-80gb TP2" or "a100 kernels". */
  group: string;
  /** prefill, decode, e2e; or a kernel family (gemm, attention_prefill, …). */
  quantity: string;
  error: KernelError;
}

function latencyFor(subject: FidelitySubject, model: string, gpu: string, tp: number): LatencyModel | undefined {
  if (subject.kind === "step") return stepModel(model, gpu, tp);
  if (subject.kind === "roofline") return rooflineModel(model, gpu, tp);
  const info = subject.model.info;
  return info.model === model && info.gpu === gpu && info.tensor_parallel === tp ? subject.model : undefined;
}

/** One Vidur layer as a ModelSpec (for the roofline's kernel-level comparison). */
function vidurLayer(shape: VidurProfiles["linear"][number]["shape"]): ModelSpec {
  return {
    name: "vidur-layer",
    layers: 1,
    hidden_size: shape.hidden,
    heads: shape.heads,
    kv_heads: shape.kv_heads,
    head_dim: shape.hidden / shape.heads,
    intermediate_size: shape.intermediate,
    vocab_size: 0,
    params: 0,
    max_position_embeddings: 1 << 20,
    dtype_bytes: 2,
    gated_mlp: shape.gated,
    tied_embeddings: false,
  };
}

/** The roofline's GEMM and attention terms for Vidur's kernels (its all-reduce and CPU terms are not per kernel). */
function rooflineKernelErrors(profiles: VidurProfiles): Record<string, KernelError> {
  const gpu = gpuSpec("a100-80gb");
  const c = DEFAULT_ROOFLINE_CONSTANTS;
  const linear = profiles.linear.filter((r) => r.gpu_dir === "a100");
  const gemm = errorOf(
    linear.map((r) => {
      const flops = layerGemms(r.shape, r.tensor_parallel).reduce((s, [a, b]) => s + 2 * a * b, 0);
      const t = Math.max((flops * r.tokens) / (gpu.peak_fp16_flops * c.linear_compute_efficiency), flops / (gpu.mem_bandwidth_bytes_per_s * c.linear_memory_efficiency));
      return [t, r.qkv_s + r.out_s + r.up_s + r.down_s];
    }),
  );
  const attention = (prefill: boolean) =>
    errorOf(
      profiles.attention
        .filter((r) => r.prefill === prefill && r.time_s > 0)
        .map((r) => {
          const spec = vidurLayer({ heads: r.q_heads, kv_heads: r.kv_heads, hidden: r.hidden, intermediate: 0, vocab: 0, gated: true });
          const m = new RooflineLatencyModel(spec, gpu, r.tensor_parallel, c);
          const batch = emptyBatchShape();
          for (let i = 0; i < r.batch_size; i++) prefill ? addPrefillChunk(batch, r.chunk, r.kv_tokens) : addDecode(batch, r.kv_tokens + 1);
          const b = m.breakdown(batch);
          return [Math.max(b.attention_compute_s, b.attention_memory_s), r.time_s];
        }),
    );
  return { gemm, attention_prefill: attention(true), attention_decode: attention(false) };
}

/** Errors of `subject` against every measurement set under `profiles_dir`. */
export function fidelity(profiles_dir: string, subject: FidelitySubject): FidelityLine[] {
  const lines: FidelityLine[] = [];
  if (existsSync(join(profiles_dir, "splitwise-perf-model.csv"))) {
    const cache = new ReplayCache();
    for (const g of readSplitwiseGroups(profiles_dir)) {
      const latency = latencyFor(subject, g.model, g.gpu, g.tensor_parallel);
      if (!latency) continue;
      const e = splitwiseErrors(g.measurements, () => latency, cache);
      const group = `${g.model} ${g.gpu} TP${g.tensor_parallel}`;
      lines.push({ source: "splitwise", group, quantity: "prefill", error: e.ttft });
      lines.push({ source: "splitwise", group, quantity: "decode", error: e.tpot });
      lines.push({ source: "splitwise", group, quantity: "e2e", error: e.e2e });
    }
  }
  if (existsSync(join(profiles_dir, "vidur")) && subject.kind !== "file") {
    const profiles = readVidurProfiles(profiles_dir);
    const families =
      subject.kind === "step"
        ? (() => {
            const m = stepModel("llama-2-70b", "a100-80gb", 1) as StepLatencyModel;
            return kernelErrors(m.coefficients, gpuSpec("a100-80gb"), profiles, "a100");
          })()
        : rooflineKernelErrors(profiles);
    for (const [family, error] of Object.entries(families)) if (error) lines.push({ source: "vidur", group: "a100 kernels", quantity: family, error });
  }
  return lines;
}
