import type { GpuSpec } from "../../src/model/gpus.ts";
import { allreduce_s, decodeAttentionLayer_s, elementwiseLayer_s, gemmKernel_s, prefillAttentionLayer_s, type StepCoefficients } from "../../src/model/step-model.ts";
import type { VidurAttentionRow, VidurLinearRow, VidurProfiles, VidurShape } from "./vidur.ts";

/** Absolute percentage errors of one kernel family (fractions). */
export interface KernelError {
  count: number;
  mape: number;
  max_ape: number;
}

export function errorOf(pairs: Iterable<[predicted: number, observed: number]>): KernelError {
  let n = 0;
  let sum = 0;
  let max = 0;
  for (const [p, o] of pairs) {
    const ape = Math.abs(p - o) / o;
    n++;
    sum += ape;
    if (ape > max) max = ape;
  }
  return { count: n, mape: n > 0 ? sum / n : 0, max_ape: max };
}

const DTYPE = 2; // Vidur profiled fp16

/** The four GEMMs of a Vidur layer on one GPU: [rows, cols] of QKV, output, (gate+)up, down. */
export function layerGemms(shape: VidurShape, tp: number): [number, number][] {
  const head_dim = shape.hidden / shape.heads;
  const q = (shape.heads / tp) * head_dim;
  const kv = Math.max(1, shape.kv_heads / tp) * head_dim;
  const up = (shape.gated ? 2 : 1) * (shape.intermediate / tp);
  return [
    [shape.hidden, q + 2 * kv],
    [q, shape.hidden],
    [shape.hidden, up],
    [shape.intermediate / tp, shape.hidden],
  ];
}

/** The elementwise bytes per token of one layer, as the step model counts them. */
export function layerElementwiseBytes(shape: VidurShape, tp: number): number {
  const head_dim = shape.hidden / shape.heads;
  const up = shape.gated ? 2 : 1;
  return DTYPE * (10 * shape.hidden + ((up + 1) * shape.intermediate) / tp + (2 * (shape.heads + shape.kv_heads) * head_dim) / tp);
}

export function predictLayerGemm_s(c: StepCoefficients, gpu: GpuSpec, row: VidurLinearRow): number[] {
  return layerGemms(row.shape, row.tensor_parallel).map(([r, k]) => gemmKernel_s(c, gpu, r, k, DTYPE, row.tokens));
}

export function predictAttention_s(c: StepCoefficients, gpu: GpuSpec, row: VidurAttentionRow): number {
  const head_dim = row.hidden / row.q_heads;
  const heads = row.q_heads / row.tensor_parallel;
  if (row.prefill) {
    const chunk = row.chunk;
    const pairs = row.batch_size * (chunk * row.kv_tokens + (chunk * (chunk + 1)) / 2);
    return prefillAttentionLayer_s(c, gpu, heads, head_dim, row.batch_size * chunk, pairs);
  }
  const kv_bytes = 2 * Math.max(1, row.kv_heads / row.tensor_parallel) * head_dim * DTYPE;
  return decodeAttentionLayer_s(c, gpu, kv_bytes, row.batch_size * row.kv_tokens);
}

/** Errors of the kernel terms against Vidur's measurements for one GPU directory (a100, a40). */
export interface KernelErrors {
  /** Per-layer sum of the four GEMMs. */
  gemm: KernelError;
  elementwise: KernelError;
  attention_prefill: KernelError;
  attention_decode: KernelError;
  allreduce: KernelError;
}

export function kernelErrors(c: StepCoefficients, gpu: GpuSpec, profiles: VidurProfiles, gpu_dir: string, topology = "a100_dgx"): Partial<KernelErrors> {
  const linear = profiles.linear.filter((r) => r.gpu_dir === gpu_dir);
  const out: Partial<KernelErrors> = {};
  if (linear.length > 0) {
    out.gemm = errorOf(linear.map((r) => [predictLayerGemm_s(c, gpu, r).reduce((a, b) => a + b, 0), r.qkv_s + r.out_s + r.up_s + r.down_s]));
    out.elementwise = errorOf(
      linear.filter((r) => r.elementwise_s > 0).map((r) => [elementwiseLayer_s(c, gpu, layerElementwiseBytes(r.shape, r.tensor_parallel), r.tokens), r.elementwise_s]),
    );
  }
  if (gpu_dir === "a100") {
    const attention = profiles.attention.filter((r) => r.time_s > 0);
    const prefill = attention.filter((r) => r.prefill);
    const decode = attention.filter((r) => !r.prefill);
    if (prefill.length > 0) out.attention_prefill = errorOf(prefill.map((r) => [predictAttention_s(c, gpu, r), r.time_s]));
    if (decode.length > 0) out.attention_decode = errorOf(decode.map((r) => [predictAttention_s(c, gpu, r), r.time_s]));
    const ar = profiles.allreduce.filter((r) => r.topology === topology && r.gpus <= 8);
    if (ar.length > 0) out.allreduce = errorOf(ar.map((r) => [allreduce_s(c, gpu, r.gpus, r.bytes), r.time_s]));
  }
  return out;
}
