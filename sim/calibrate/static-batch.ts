import { InputError } from "../../src/core/errors.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";
import type { LlmCall } from "../../src/core/types.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "../../src/model/engine-config.ts";
import { Engine, type EngineListener } from "../engine/engine.ts";
import type { EngineRequest } from "../engine/request.ts";
import { LATENCY_SCHEMA, type FittedInfo } from "../../src/model/latency-info.ts";
import type { BatchShape, LatencyModel } from "../../src/model/latency-model.ts";
import type { FeatureLayout, StepShape } from "./features.ts";

/** One request of a static batch. */
export interface StaticBatchRequest {
  prompt_tokens: number;
  output_tokens: number;
}

/** A profiling experiment: requests submitted together at t = 0 to an idle engine, in this order,
 *  each with a unique prompt (no prefix-cache hits), each generating exactly `output_tokens`. */
export interface StaticBatch {
  requests: StaticBatchRequest[];
  /** The engine's token budget per step; a prefill that does not fit is chunked (vLLM V1). */
  max_num_batched_tokens: number;
  /** Most sequences per step. */
  max_num_seqs: number;
}

/** The engine configuration a static batch runs under: the engine's defaults with the batch's
 *  budget and sequence limit, chunked prefill on and prefix caching off (profiling prompts are
 *  unique). The KV pool holds the whole batch, so nothing is ever preempted. */
export function staticBatchEngineConfig(batch: StaticBatch): EngineConfig {
  return {
    ...DEFAULT_ENGINE_CONFIG,
    max_num_batched_tokens: batch.max_num_batched_tokens,
    max_num_seqs: batch.max_num_seqs,
    enable_chunked_prefill: true,
    enable_prefix_caching: false,
    max_model_len: undefined,
    num_gpu_blocks_override: undefined,
    max_waiting: undefined,
    cpu_kv_blocks: 0,
    disk_kv_blocks: 0,
    waiting_reorder_window: 0,
  };
}

/** A stable text key for a batch (caches and equation grouping). */
export function staticBatchKey(batch: StaticBatch): string {
  return `${batch.max_num_batched_tokens}/${batch.max_num_seqs}:${batch.requests.map((r) => `${r.prompt_tokens}x${r.output_tokens}`).join(",")}`;
}

const NO_SHARING: TokenIdentity = {
  sharable_tokens: 0,
  blockKey: () => {
    throw new Error("invariant violated: a calibration batch looked up the prefix cache");
  },
};

/** Runs a static batch through the simulator's own `Engine` (the same step planning and
 *  BatchShape construction as `tandem sim`), timed by `latency`. Calls `onStep` with every step's
 *  shape, `onFirstToken` and `onFinished` with the request's index and the time. */
function runStaticBatch(
  batch: StaticBatch,
  latency: LatencyModel,
  onFirstToken: (index: number, at_s: number, step: number) => void,
  onFinished: (index: number, at_s: number, step: number) => void,
): number {
  const n = batch.requests.length;
  if (n === 0) throw new InputError("a static batch needs at least one request");
  if (!(batch.max_num_batched_tokens >= 1) || !(batch.max_num_seqs >= 1)) {
    throw new InputError(`a static batch needs max_num_batched_tokens and max_num_seqs ≥ 1 (got ${batch.max_num_batched_tokens}, ${batch.max_num_seqs})`);
  }
  const config = staticBatchEngineConfig(batch);
  let blocks = 1;
  let longest = 0;
  for (const r of batch.requests) {
    if (!(Number.isInteger(r.prompt_tokens) && r.prompt_tokens >= 1 && Number.isInteger(r.output_tokens) && r.output_tokens >= 1)) {
      throw new InputError(`a static batch request needs whole prompt and output token counts ≥ 1 (got ${r.prompt_tokens}, ${r.output_tokens})`);
    }
    blocks += Math.ceil((r.prompt_tokens + r.output_tokens) / config.block_size) + 1;
    longest = Math.max(longest, r.prompt_tokens + r.output_tokens);
  }
  const index = new Map<EngineRequest, number>();
  let step = -1;
  const listener: EngineListener = {
    firstToken: (at_s, request) => onFirstToken(index.get(request)!, at_s, step),
    tokenGaps: () => {},
    finished: (at_s, request) => onFinished(index.get(request)!, at_s, step),
    rejected: (_at, request, reason) => {
      throw new Error(`invariant violated: calibration engine rejected request ${index.get(request)} (${reason})`);
    },
  };
  const engine = new Engine("calibration", config, longest, blocks, latency, listener);
  batch.requests.forEach((r, i) => {
    const call: LlmCall = { id: `r${i}`, arrival_s: 0, prompt_tokens: r.prompt_tokens, output_tokens: r.output_tokens, segments: [] };
    index.set(engine.enqueue(0, call, 0, NO_SHARING), i);
  });
  let now = 0;
  while (engine.hasWork) {
    step++;
    const duration = engine.startStep(now);
    if (duration === undefined) throw new Error("invariant violated: calibration engine has work but plans no step");
    now += duration;
    engine.finishStep(now);
  }
  if (engine.stats.preemptions > 0) throw new Error("invariant violated: a calibration batch was preempted");
  return step + 1;
}

/** Simulated times of a static batch, per request (in batch order) and for the batch as a whole. */
export interface StaticBatchTimes {
  ttft_s: number[];
  e2e_s: number[];
  /** (e2e − ttft) / (output − 1); undefined for one-token outputs. */
  tpot_s: (number | undefined)[];
  /** The batch's prompt phase: when its last request got its first token. */
  batch_ttft_s: number;
  /** Mean over the requests (with at least two output tokens) of their TPOT. */
  batch_tpot_s: number | undefined;
  /** When the last request finished. */
  batch_e2e_s: number;
  steps: number;
}

/** Runs `batch` through the engine with `latency` and measures what a profiler would. */
export function simulateStaticBatch(batch: StaticBatch, latency: LatencyModel): StaticBatchTimes {
  const n = batch.requests.length;
  const ttft = new Array<number>(n).fill(NaN);
  const e2e = new Array<number>(n).fill(NaN);
  const steps = runStaticBatch(
    batch,
    latency,
    (i, t) => (ttft[i] = t),
    (i, t) => (e2e[i] = t),
  );
  const tpot = batch.requests.map((r, i) => (r.output_tokens >= 2 ? (e2e[i] - ttft[i]) / (r.output_tokens - 1) : undefined));
  const defined = tpot.filter((v): v is number => v !== undefined);
  return {
    ttft_s: ttft,
    e2e_s: e2e,
    tpot_s: tpot,
    batch_ttft_s: Math.max(...ttft),
    batch_tpot_s: defined.length > 0 ? defined.reduce((s, v) => s + v, 0) / defined.length : undefined,
    batch_e2e_s: Math.max(...e2e),
    steps,
  };
}

/** The step sequence of a static batch: each step's shape, and the step at which each request got
 *  its first token and finished. It does not depend on step durations (nothing arrives while the
 *  batch runs), so one replay serves every coefficient vector. */
export interface StaticBatchTrace {
  steps: StepShape[];
  first_token_step: number[];
  finish_step: number[];
  output_tokens: number[];
}

/** A latency model that records each step's shape and says every step takes 1 ms. */
class RecordingLatency implements LatencyModel {
  readonly info: FittedInfo = {
    schema: LATENCY_SCHEMA,
    kind: "fitted",
    model: "calibration",
    gpu: "calibration",
    tensor_parallel: 1,
    coefficients: { overhead_s: 1e-3, per_prefill_token_s: 0, per_attention_pair_s: 0, per_decode_seq_s: 0, per_kv_token_s: 0 },
  };
  readonly steps: StepShape[] = [];

  stepTime_s(batch: BatchShape): number {
    this.steps.push({
      prefill_tokens: batch.prefill_tokens,
      prefill_attention_pairs: batch.prefill_attention_pairs,
      decode_seqs: batch.decode_seqs,
      kv_tokens: batch.decode_context_tokens + batch.prefill_context_tokens,
    });
    return 1e-3;
  }
}

export function traceStaticBatch(batch: StaticBatch): StaticBatchTrace {
  const n = batch.requests.length;
  const recorder = new RecordingLatency();
  const first = new Array<number>(n).fill(-1);
  const finish = new Array<number>(n).fill(-1);
  runStaticBatch(
    batch,
    recorder,
    (i, _t, step) => (first[i] = step),
    (i, _t, step) => (finish[i] = step),
  );
  return { steps: recorder.steps, first_token_step: first, finish_step: finish, output_tokens: batch.requests.map((r) => r.output_tokens) };
}

/** Per-request features of a traced batch under `layout`: the summed step features up to (and
 *  including) each request's first-token step, and up to its finishing step. Times are linear in
 *  the coefficients, so `ttft = ttft_features · x` and `e2e = e2e_features · x` exactly. */
export interface BatchFeatures {
  ttft: Float64Array[];
  e2e: Float64Array[];
}

export function batchFeatures(trace: StaticBatchTrace, layout: FeatureLayout): BatchFeatures {
  const n = trace.first_token_step.length;
  const wanted = new Map<number, { index: number; kind: 0 | 1 }[]>();
  const want = (step: number, index: number, kind: 0 | 1) => {
    const list = wanted.get(step);
    if (list) list.push({ index, kind });
    else wanted.set(step, [{ index, kind }]);
  };
  for (let i = 0; i < n; i++) {
    want(trace.first_token_step[i], i, 0);
    want(trace.finish_step[i], i, 1);
  }
  const ttft = new Array<Float64Array>(n);
  const e2e = new Array<Float64Array>(n);
  const sum = new Float64Array(layout.size);
  trace.steps.forEach((shape, s) => {
    layout.addStep(shape, sum);
    const list = wanted.get(s);
    if (!list) return;
    for (const { index, kind } of list) (kind === 0 ? ttft : e2e)[index] = sum.slice();
  });
  return { ttft, e2e };
}
