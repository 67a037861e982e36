import { z } from "zod";
import { zodInputError } from "../core/zod-issue.ts";
import { LATENCY_SCHEMA, type BatchShape, type FittedInfo, type LatencyModel } from "./latency-model.ts";

// Coefficients must be non-negative so that adding work never shortens a step (calibration fits them
// with non-negative least squares); the overhead must be positive so that every step advances time.
const seconds = z.number().nonnegative();

/** Extra per-token prefill cost by how many prefill tokens the step holds: GEMM time per token is
 *  not constant (memory-bound for small steps, compute-bound for large ones, with tiling steps in
 *  between). Segments are [0, knots[0]), [knots[0], knots[1]), …, [knots[last], ∞); a step with T
 *  prefill tokens pays extra_per_token_s[j] for each of its tokens that falls in segment j. */
export const prefillTokenCurveSchema = z
  .strictObject({
    knots: z.array(z.number().int().positive()).min(1),
    extra_per_token_s: z.array(seconds),
  })
  .superRefine((curve, ctx) => {
    for (let i = 1; i < curve.knots.length; i++) {
      if (curve.knots[i] <= curve.knots[i - 1]) {
        ctx.addIssue({ code: "custom", path: ["knots", i], message: `expected knots in increasing order (${curve.knots[i]} after ${curve.knots[i - 1]})` });
        return;
      }
    }
    if (curve.extra_per_token_s.length !== curve.knots.length + 1) {
      ctx.addIssue({
        code: "custom",
        path: ["extra_per_token_s"],
        message: `expected ${curve.knots.length + 1} values (one per segment: below, between and above the ${curve.knots.length} knots), got ${curve.extra_per_token_s.length}`,
      });
    }
  });

export type PrefillTokenCurve = z.infer<typeof prefillTokenCurveSchema>;

export const fittedCoefficientsSchema = z.strictObject({
  overhead_s: z.number().positive(),
  per_prefill_token_s: seconds,
  per_attention_pair_s: seconds,
  per_decode_seq_s: seconds,
  per_kv_token_s: seconds,
  /** Extra fixed cost of a step that holds any prefill tokens (absent = 0): vLLM replays decode-only
   *  steps as CUDA graphs but runs prefill steps eagerly, launching every kernel. */
  prefill_step_overhead_s: seconds.optional(),
  /** Extra per-token prefill cost by step size (absent = none). */
  prefill_token_curve: prefillTokenCurveSchema.optional(),
});

export type FittedCoefficients = z.infer<typeof fittedCoefficientsSchema>;

export const fittedDocumentSchema = z.strictObject({
  schema: z.literal(LATENCY_SCHEMA),
  kind: z.literal("fitted"),
  model: z.string().min(1),
  gpu: z.string().min(1),
  tensor_parallel: z.number().int().positive(),
  coefficients: fittedCoefficientsSchema,
  fit: z.record(z.string(), z.unknown()).optional(),
});

/** The linear model calibration produces:
 *  t = overhead + per_prefill_token·prefill_tokens + per_attention_pair·prefill_attention_pairs
 *      + per_decode_seq·decode_seqs + per_kv_token·(decode_context_tokens + prefill_context_tokens)
 *      [+ prefill_step_overhead if prefill_tokens > 0] [+ the prefill-token curve's extra cost] */
export class FittedLatencyModel implements LatencyModel {
  readonly info: FittedInfo;
  private readonly overhead_s: number;
  private readonly per_prefill_token_s: number;
  private readonly per_attention_pair_s: number;
  private readonly per_decode_seq_s: number;
  private readonly per_kv_token_s: number;
  private readonly prefill_step_overhead_s: number;
  private readonly knots: Float64Array;
  private readonly extra_per_token_s: Float64Array;

  constructor(info: FittedInfo) {
    this.info = info;
    const c = info.coefficients;
    this.overhead_s = c.overhead_s;
    this.per_prefill_token_s = c.per_prefill_token_s;
    this.per_attention_pair_s = c.per_attention_pair_s;
    this.per_decode_seq_s = c.per_decode_seq_s;
    this.per_kv_token_s = c.per_kv_token_s;
    this.prefill_step_overhead_s = c.prefill_step_overhead_s ?? 0;
    this.knots = Float64Array.from(c.prefill_token_curve?.knots ?? []);
    this.extra_per_token_s = Float64Array.from(c.prefill_token_curve?.extra_per_token_s ?? []);
  }

  stepTime_s(batch: BatchShape): number {
    let t = this.overhead_s
      + this.per_prefill_token_s * batch.prefill_tokens
      + this.per_attention_pair_s * batch.prefill_attention_pairs
      + this.per_decode_seq_s * batch.decode_seqs
      + this.per_kv_token_s * (batch.decode_context_tokens + batch.prefill_context_tokens);
    const tokens = batch.prefill_tokens;
    if (tokens > 0) {
      t += this.prefill_step_overhead_s;
      const knots = this.knots;
      if (knots.length > 0) {
        const extra = this.extra_per_token_s;
        let below = 0; // the segment's lower end
        let j = 0;
        for (; j < knots.length && tokens > below; j++) {
          t += extra[j] * (Math.min(tokens, knots[j]) - below);
          below = knots[j];
        }
        if (j === knots.length && tokens > below) t += extra[j] * (tokens - below);
      }
    }
    return t;
  }
}

/** Builds a fitted model from a parsed JSON document; `file` names it in error messages. */
export function fittedLatencyModelFromJson(doc: unknown, file: string): FittedLatencyModel {
  const parsed = fittedDocumentSchema.safeParse(doc);
  if (!parsed.success) throw zodInputError(file, parsed.error);
  return new FittedLatencyModel(parsed.data);
}
