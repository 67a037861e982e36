import type { FittedCoefficients } from "./fitted.ts";
import type { RooflineConstants } from "./roofline.ts";
import type { StepCoefficients } from "./step-model.ts";

/** Shape of one engine step (one forward pass of a continuous batch). */
export interface BatchShape {
  num_seqs: number; // sequences in the step (prefill chunks + decodes)
  prefill_tokens: number; // Σ prefill chunk sizes this step
  prefill_attention_pairs: number; // Σ over prefill chunks of c·p + c·(c+1)/2 (c chunk, p tokens already in KV)
  prefill_context_tokens: number; // Σ over prefill chunks of (p + c): KV that the chunk's attention reads
  decode_seqs: number; // sequences decoding one token
  decode_context_tokens: number; // Σ over decoding seqs of their context length (KV read)
}

export const LATENCY_SCHEMA = "tandem.latency/v1";

/** Fields every latency model records about itself. The info of a model is also a document that
 *  `latencyModelFromJson` loads back into the same model. */
interface InfoBase {
  schema: typeof LATENCY_SCHEMA;
  model: string;
  gpu: string;
  tensor_parallel: number;
}

export interface RooflineInfo extends InfoBase {
  kind: "roofline";
  constants: RooflineConstants;
}

export interface FittedInfo extends InfoBase {
  kind: "fitted";
  coefficients: FittedCoefficients;
  /** Free-form fit metrics (sample count, error) that calibration writes. */
  fit?: Record<string, unknown>;
}

/** The step-time model (src/model/step-model.ts): physical terms with per-GPU fitted coefficients. */
export interface StepInfo extends InfoBase {
  kind: "step";
  coefficients: StepCoefficients;
  /** What the coefficients were fitted on (measurement sets, or "carried from <gpu>"). */
  fitted_on: string;
  /** Measured errors of the fit (fractions: 0.05 = 5%), e.g. `splitwise_e2e_mape`, `vidur_gemm_mape`. */
  error?: Record<string, number>;
}

/** JSON-serialisable description of a latency model, recorded in reports. */
export type LatencyModelInfo = RooflineInfo | FittedInfo | StepInfo;

export interface LatencyModel {
  readonly info: LatencyModelInfo;
  /** Seconds one engine step takes. Called once per step in the simulator's hot loop: implementations
   *  do arithmetic only, no allocation. */
  stepTime_s(batch: BatchShape): number;
}

export function emptyBatchShape(): BatchShape {
  return {
    num_seqs: 0,
    prefill_tokens: 0,
    prefill_attention_pairs: 0,
    prefill_context_tokens: 0,
    decode_seqs: 0,
    decode_context_tokens: 0,
  };
}

/** Zeroes `batch` in place, so an engine can reuse one object for every step. */
export function resetBatchShape(batch: BatchShape): void {
  batch.num_seqs = 0;
  batch.prefill_tokens = 0;
  batch.prefill_attention_pairs = 0;
  batch.prefill_context_tokens = 0;
  batch.decode_seqs = 0;
  batch.decode_context_tokens = 0;
}

/** Adds (or, with sign −1, takes back) a prefill chunk of `chunk_tokens` for a sequence with `cached_tokens` already in KV (earlier
 *  chunks or a prefix-cache hit). Each new token attends to everything before it and itself. */
export function addPrefillChunk(batch: BatchShape, chunk_tokens: number, cached_tokens: number, sign: 1 | -1 = 1): void {
  batch.num_seqs += sign;
  batch.prefill_tokens += sign * chunk_tokens;
  batch.prefill_attention_pairs += sign * (chunk_tokens * cached_tokens + (chunk_tokens * (chunk_tokens + 1)) / 2);
  batch.prefill_context_tokens += sign * (cached_tokens + chunk_tokens);
}

/** Adds (or, with sign −1, takes back) one decoding sequence whose new token attends to `context_tokens` (its KV, the new token's included). */
export function addDecode(batch: BatchShape, context_tokens: number, sign: 1 | -1 = 1): void {
  batch.num_seqs += sign;
  batch.decode_seqs += sign;
  batch.decode_context_tokens += sign * context_tokens;
}
