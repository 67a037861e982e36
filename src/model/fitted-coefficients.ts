import { z } from "zod";

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
