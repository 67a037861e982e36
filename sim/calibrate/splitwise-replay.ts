import type { BatchShape, LatencyModel } from "../../src/model/latency-model.ts";
import { LATENCY_SCHEMA, type FittedInfo } from "../../src/model/latency-info.ts";
import type { Measurement, Quantity } from "./measurements.ts";
import { simulateStaticBatch, staticBatchKey } from "./static-batch.ts";

/** A static batch's steps, recorded once through the sim engine (step planning does not depend on step
 *  durations when nothing arrives mid-batch), so that any latency model times it with arithmetic only. */
export interface RecordedBatch {
  /** Six numbers per step: the BatchShape fields in `FIELDS` order. */
  shapes: Float64Array;
  steps: number;
  /** Per request: the step (0-based) that gave its first token and the one that finished it. */
  first_step: Int32Array;
  finish_step: Int32Array;
  output_tokens: Int32Array;
}

const FIELDS = ["num_seqs", "prefill_tokens", "prefill_attention_pairs", "prefill_context_tokens", "decode_seqs", "decode_context_tokens"] as const;

/** Records every step's shape and says each step takes exactly one second (so times are step counts). */
class Recorder implements LatencyModel {
  readonly info: FittedInfo = {
    schema: LATENCY_SCHEMA,
    kind: "fitted",
    model: "replay",
    gpu: "replay",
    tensor_parallel: 1,
    coefficients: { overhead_s: 1, per_prefill_token_s: 0, per_attention_pair_s: 0, per_decode_seq_s: 0, per_kv_token_s: 0 },
  };
  readonly values: number[] = [];

  stepTime_s(batch: BatchShape): number {
    for (const f of FIELDS) this.values.push(batch[f]);
    return 1;
  }
}

export function recordBatch(m: Measurement): RecordedBatch {
  const recorder = new Recorder();
  const times = simulateStaticBatch(m.batch, recorder);
  return {
    shapes: Float64Array.from(recorder.values),
    steps: times.steps,
    first_step: Int32Array.from(times.ttft_s, (t) => Math.round(t) - 1),
    finish_step: Int32Array.from(times.e2e_s, (t) => Math.round(t) - 1),
    output_tokens: Int32Array.from(m.batch.requests, (r) => r.output_tokens),
  };
}

/** Records each distinct batch of `measurements` once. */
export class ReplayCache {
  private readonly batches = new Map<string, RecordedBatch>();

  get(m: Measurement): RecordedBatch {
    const key = staticBatchKey(m.batch);
    let b = this.batches.get(key);
    if (!b) {
      b = recordBatch(m);
      this.batches.set(key, b);
    }
    return b;
  }
}

/** The profiler's quantities for `recorded` under `latency`: the batch's prompt phase (last first token),
 *  the mean TPOT over requests with ≥ 2 tokens, and the last finish. */
export function replayTimes(recorded: RecordedBatch, latency: LatencyModel, shape: BatchShape): Record<Quantity, number | undefined> {
  const at = new Float64Array(recorded.steps);
  let now = 0;
  const s = recorded.shapes;
  for (let i = 0; i < recorded.steps; i++) {
    const o = 6 * i;
    shape.num_seqs = s[o];
    shape.prefill_tokens = s[o + 1];
    shape.prefill_attention_pairs = s[o + 2];
    shape.prefill_context_tokens = s[o + 3];
    shape.decode_seqs = s[o + 4];
    shape.decode_context_tokens = s[o + 5];
    now += latency.stepTime_s(shape);
    at[i] = now;
  }
  let ttft = 0;
  let e2e = 0;
  let tpot_sum = 0;
  let tpot_n = 0;
  for (let r = 0; r < recorded.first_step.length; r++) {
    const first = at[recorded.first_step[r]];
    const finish = at[recorded.finish_step[r]];
    if (first > ttft) ttft = first;
    if (finish > e2e) e2e = finish;
    const n = recorded.output_tokens[r];
    if (n >= 2) {
      tpot_sum += (finish - first) / (n - 1);
      tpot_n++;
    }
  }
  return { ttft, tpot: tpot_n > 0 ? tpot_sum / tpot_n : undefined, e2e };
}

/** The (prompt, batch) shape of a Splitwise configuration ("p512 b1 n128" → "p512 b1"): rows that share
 *  it share their prefill, so honest cross-validation holds out whole shapes. */
export function prefillShape(config: string): string {
  return config.split(" ").slice(0, 2).join(" ");
}

/** Assigns each measurement a fold in [0, k): whole (prompt, batch) shapes, in sorted order, round robin. */
export function shapeFolds(measurements: readonly Measurement[], k: number): number[] {
  const shapes = [...new Set(measurements.map((m) => prefillShape(m.config)))].sort((a, b) => {
    const [pa, ba] = a.match(/\d+/g)!.map(Number);
    const [pb, bb] = b.match(/\d+/g)!.map(Number);
    return pa - pb || ba - bb;
  });
  const fold = new Map(shapes.map((s, i) => [s, i % k]));
  return measurements.map((m) => fold.get(prefillShape(m.config))!);
}
