import { z } from "zod";
import { zodInputError } from "../core/zod-issue.ts";
import { fittedCoefficientsSchema } from "./fitted-coefficients.ts";
import { LATENCY_SCHEMA, type FittedInfo } from "./latency-info.ts";
import type { BatchShape, LatencyModel } from "./latency-model.ts";

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
    let t =
      this.overhead_s +
      this.per_prefill_token_s * batch.prefill_tokens +
      this.per_attention_pair_s * batch.prefill_attention_pairs +
      this.per_decode_seq_s * batch.decode_seqs +
      this.per_kv_token_s * (batch.decode_context_tokens + batch.prefill_context_tokens);
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
