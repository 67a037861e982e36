import type { FittedCoefficients } from "../../src/model/fitted-coefficients.ts";

/** The step-time model's form, as calibration fits it:
 *  - `basic`: the five coefficients of `FittedLatencyModel` (overhead, per prefill token, per
 *    attention pair, per decoding sequence, per KV token read);
 *  - `prefill-curve`: those plus a fixed cost for steps that hold prefill tokens and a per-token
 *    prefill cost that depends on how many prefill tokens the step holds (segments between knots). */
export type ModelForm = "basic" | "prefill-curve";
export const MODEL_FORMS: readonly ModelForm[] = ["basic", "prefill-curve"];

/** What one engine step did, as the latency model sees it (a `BatchShape` reduced to the fields the
 *  fitted model reads). */
export interface StepShape {
  prefill_tokens: number;
  prefill_attention_pairs: number;
  decode_seqs: number;
  /** decode_context_tokens + prefill_context_tokens: KV the step's attention reads. */
  kv_tokens: number;
}

/** Column layout of the calibration design matrix: one column per fitted coefficient. A
 *  prefill-curve layout has one prefill-token column per segment (their slopes are fitted
 *  separately; `coefficientsFromSolution` turns them into a base slope plus extras). */
export class FeatureLayout {
  readonly size: number;
  readonly names: string[];
  /** Column of the prefill-step indicator; −1 in the basic form. */
  readonly prefillStep: number;
  /** First prefill-token column; there are `knots.length + 1` of them. */
  readonly firstSlope: number;
  readonly slopes: number;
  readonly pairs: number;
  readonly decodeSeqs: number;
  readonly kv: number;

  constructor(
    readonly form: ModelForm,
    /** Segment boundaries in prefill tokens per step (ascending); empty = one slope. */
    readonly knots: readonly number[],
  ) {
    if (form === "basic" && knots.length > 0) throw new Error("the basic form has no prefill-token knots");
    for (let i = 1; i < knots.length; i++) if (!(knots[i] > knots[i - 1])) throw new Error("knots must increase");
    const names = ["overhead_s"];
    this.prefillStep = form === "prefill-curve" ? names.push("prefill_step_overhead_s") - 1 : -1;
    this.firstSlope = names.length;
    this.slopes = knots.length + 1;
    if (knots.length === 0) names.push("per_prefill_token_s");
    else {
      const bounds = [0, ...knots];
      for (let j = 0; j < this.slopes; j++) names.push(`per_prefill_token_s[${bounds[j]},${j < knots.length ? knots[j] : "∞"})`);
    }
    this.pairs = names.push("per_attention_pair_s") - 1;
    this.decodeSeqs = names.push("per_decode_seq_s") - 1;
    this.kv = names.push("per_kv_token_s") - 1;
    this.size = names.length;
    this.names = names;
  }

  /** The same form with a single prefill-token slope (the knots tied together). */
  tied(): FeatureLayout {
    return new FeatureLayout(this.form, []);
  }

  /** Adds one step's features to `out` (a running sum over steps). */
  addStep(step: StepShape, out: Float64Array): void {
    out[0] += 1;
    const tokens = step.prefill_tokens;
    if (tokens > 0) {
      if (this.prefillStep >= 0) out[this.prefillStep] += 1;
      const knots = this.knots;
      let below = 0;
      let j = 0;
      for (; j < knots.length && tokens > below; j++) {
        out[this.firstSlope + j] += Math.min(tokens, knots[j]) - below;
        below = knots[j];
      }
      if (j === knots.length && tokens > below) out[this.firstSlope + j] += tokens - below;
    }
    out[this.pairs] += step.prefill_attention_pairs;
    out[this.decodeSeqs] += step.decode_seqs;
    out[this.kv] += step.kv_tokens;
  }

  /** Coefficients of `FittedLatencyModel` from a solution vector of this layout. The segment slopes
   *  become `per_prefill_token_s` (the smallest) plus a curve of extras above it; the overhead is
   *  kept positive (every step advances the clock). */
  coefficientsFromSolution(x: readonly number[]): FittedCoefficients {
    const slopes = x.slice(this.firstSlope, this.firstSlope + this.slopes);
    const base = Math.min(...slopes);
    const coefficients: FittedCoefficients = {
      overhead_s: Math.max(x[0], MIN_OVERHEAD_S),
      per_prefill_token_s: base,
      per_attention_pair_s: x[this.pairs],
      per_decode_seq_s: x[this.decodeSeqs],
      per_kv_token_s: x[this.kv],
    };
    if (this.prefillStep >= 0) coefficients.prefill_step_overhead_s = x[this.prefillStep];
    // Extras within rounding of the base slope are none (a linear truth gives no curve).
    const extras = slopes.map((s) => (s - base > 1e-9 * base ? s - base : 0));
    if (this.knots.length > 0 && extras.some((e) => e > 0)) {
      coefficients.prefill_token_curve = { knots: [...this.knots], extra_per_token_s: extras };
    }
    return coefficients;
  }
}

/** The overhead a fit that found none is clamped to (1 ns), so that every step takes time. */
export const MIN_OVERHEAD_S = 1e-9;

/** Knots at the powers of two strictly between the smallest and largest prefill step seen. */
export function autoKnots(prefillStepTokens: Iterable<number>): number[] {
  let lo = Infinity;
  let hi = 0;
  for (const t of prefillStepTokens) {
    if (t <= 0) continue;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const knots: number[] = [];
  for (let k = 2; k < hi; k *= 2) if (k > lo) knots.push(k);
  return knots;
}
