import { z } from "zod";
import { zodInputError } from "../../src/config/zod-issue.ts";
import { LATENCY_SCHEMA, type BatchShape, type FittedInfo, type LatencyModel } from "./model.ts";

// Coefficients must be non-negative so that adding work never shortens a step (calibration fits them
// with non-negative least squares); the overhead must be positive so that every step advances time.
const seconds = z.number().nonnegative();

export const fittedCoefficientsSchema = z.strictObject({
  overhead_s: z.number().positive(),
  per_prefill_token_s: seconds,
  per_attention_pair_s: seconds,
  per_decode_seq_s: seconds,
  per_kv_token_s: seconds,
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
 *      + per_decode_seq·decode_seqs + per_kv_token·(decode_context_tokens + prefill_context_tokens) */
export class FittedLatencyModel implements LatencyModel {
  readonly info: FittedInfo;
  private readonly overhead_s: number;
  private readonly per_prefill_token_s: number;
  private readonly per_attention_pair_s: number;
  private readonly per_decode_seq_s: number;
  private readonly per_kv_token_s: number;

  constructor(info: FittedInfo) {
    this.info = info;
    const c = info.coefficients;
    this.overhead_s = c.overhead_s;
    this.per_prefill_token_s = c.per_prefill_token_s;
    this.per_attention_pair_s = c.per_attention_pair_s;
    this.per_decode_seq_s = c.per_decode_seq_s;
    this.per_kv_token_s = c.per_kv_token_s;
  }

  stepTime_s(batch: BatchShape): number {
    return this.overhead_s
      + this.per_prefill_token_s * batch.prefill_tokens
      + this.per_attention_pair_s * batch.prefill_attention_pairs
      + this.per_decode_seq_s * batch.decode_seqs
      + this.per_kv_token_s * (batch.decode_context_tokens + batch.prefill_context_tokens);
  }
}

/** Builds a fitted model from a parsed JSON document; `file` names it in error messages. */
export function fittedLatencyModelFromJson(doc: unknown, file: string): FittedLatencyModel {
  const parsed = fittedDocumentSchema.safeParse(doc);
  if (!parsed.success) throw zodInputError(file, parsed.error);
  return new FittedLatencyModel(parsed.data);
}
