import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { FittedCoefficients } from "../../src/model/fitted-coefficients.ts";
import {
  autoKnots,
  calibrateGroup,
  FeatureLayout,
  fitMeasurements,
  fittedModel,
  groupMeasurements,
  measurementFeatures,
  predictionErrors,
  simulateStaticBatch,
  traceStaticBatch,
  TraceCache,
  type Measurement,
  type StaticBatch,
} from "../../sim/calibrate/index.ts";

const GROUP = { model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1 };

/** Splitwise-like static batches: identical requests, budget ≥ the batch's prompt tokens. */
function batch(b: number, p: number, n: number, budget = Math.max(b * p, b)): StaticBatch {
  return { requests: Array.from({ length: b }, () => ({ prompt_tokens: p, output_tokens: n })), max_num_batched_tokens: budget, max_num_seqs: Math.max(b, 1) };
}

/** A synthetic profile: each configuration simulated with `truth`, measured at the batch level,
 *  `repeats` times, each observation scaled by (1 + noise·N(0,1)). */
function syntheticProfile(truth: FittedCoefficients, configs: StaticBatch[], repeats = 1, noise = 0, seed = "s"): Measurement[] {
  const model = fittedModel(GROUP, truth);
  const rng = seedrandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const out: Measurement[] = [];
  configs.forEach((b, c) => {
    const t = simulateStaticBatch(b, model);
    for (let r = 0; r < repeats; r++) {
      const jitter = () => 1 + noise * gauss();
      out.push({
        ...GROUP,
        source: `synthetic:${c}.${r}`,
        config: `c${c}`,
        batch: b,
        subject: "batch",
        ttft_s: t.batch_ttft_s * jitter(),
        tpot_s: t.batch_tpot_s === undefined ? undefined : t.batch_tpot_s * jitter(),
        e2e_s: t.batch_e2e_s * jitter(),
      });
    }
  });
  return out;
}

const GRID: StaticBatch[] = [
  ...[128, 256, 512, 1024, 2048, 4096, 8192].map((p) => batch(1, p, 128)),
  ...[2, 4, 8, 16, 32, 64].map((b) => batch(b, 512, 128)),
  ...[16, 256, 1024].map((n) => batch(1, 512, n)),
  batch(4, 1000, 50, 512), // chunked prefill, mixed steps
  batch(3, 300, 20, 256),
];

const BASIC: FittedCoefficients = {
  overhead_s: 0.012,
  per_prefill_token_s: 6e-5,
  per_attention_pair_s: 3e-10,
  per_decode_seq_s: 2.5e-4,
  per_kv_token_s: 9e-8,
};

const FIVE = ["overhead_s", "per_prefill_token_s", "per_attention_pair_s", "per_decode_seq_s", "per_kv_token_s"] as const;

function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a / b - 1);
}

describe("static batches through the sim engine", () => {
  it("a batch that fits the budget is one prefill step, then decodes whose context grows from p+1", () => {
    const trace = traceStaticBatch(batch(2, 100, 4));
    expect(trace.steps).toEqual([
      { prefill_tokens: 200, prefill_attention_pairs: 2 * ((100 * 101) / 2), decode_seqs: 0, kv_tokens: 200 },
      { prefill_tokens: 0, prefill_attention_pairs: 0, decode_seqs: 2, kv_tokens: 2 * 101 },
      { prefill_tokens: 0, prefill_attention_pairs: 0, decode_seqs: 2, kv_tokens: 2 * 102 },
      { prefill_tokens: 0, prefill_attention_pairs: 0, decode_seqs: 2, kv_tokens: 2 * 103 },
    ]);
    expect(trace.first_token_step).toEqual([0, 0]);
    expect(trace.finish_step).toEqual([3, 3]);
  });

  it("a prompt larger than the budget is chunked as the engine chunks it", () => {
    const trace = traceStaticBatch(batch(1, 300, 2, 128));
    expect(trace.steps.map((s) => s.prefill_tokens)).toEqual([128, 128, 44, 0]);
    expect(trace.steps[1].prefill_attention_pairs).toBe(128 * 128 + (128 * 129) / 2);
    expect(trace.first_token_step).toEqual([2]);
  });

  it("simulated times equal the features times the coefficients", () => {
    const cache = new TraceCache();
    const layout = new FeatureLayout("prefill-curve", [256, 1024]);
    const truth: FittedCoefficients = { ...BASIC, prefill_step_overhead_s: 0.004, prefill_token_curve: { knots: [256, 1024], extra_per_token_s: [1e-5, 0, 3e-5] } };
    const model = fittedModel(GROUP, truth);
    const x = [
      truth.overhead_s,
      0.004,
      BASIC.per_prefill_token_s + 1e-5,
      BASIC.per_prefill_token_s,
      BASIC.per_prefill_token_s + 3e-5,
      BASIC.per_attention_pair_s,
      BASIC.per_decode_seq_s,
      BASIC.per_kv_token_s,
    ];
    for (const b of GRID) {
      const m: Measurement = { ...GROUP, source: "t", config: "c", batch: b, subject: "batch", ttft_s: 1, tpot_s: 1, e2e_s: 1 };
      const f = measurementFeatures(m, layout, cache);
      const t = simulateStaticBatch(b, model);
      const dot = (v: Float64Array) => v.reduce((s, fv, k) => s + fv * x[k], 0);
      expect(relErr(dot(f.ttft!), t.batch_ttft_s)).toBeLessThan(1e-12);
      expect(relErr(dot(f.e2e!), t.batch_e2e_s)).toBeLessThan(1e-12);
      expect(relErr(dot(f.tpot!), t.batch_tpot_s!)).toBeLessThan(1e-12);
    }
  });
});

describe("fitting step-time coefficients", () => {
  it("recovers the basic form's five coefficients exactly from a noiseless profile", () => {
    const profile = syntheticProfile(BASIC, GRID);
    const { coefficients } = fitMeasurements(profile, { form: "basic" });
    for (const key of FIVE) {
      expect(relErr(coefficients[key], BASIC[key]), key).toBeLessThan(1e-6);
    }
  });

  it("recovers a prefill curve and a prefill-step overhead exactly from a noiseless profile", () => {
    const truth: FittedCoefficients = {
      ...BASIC,
      prefill_step_overhead_s: 0.006,
      prefill_token_curve: { knots: [1024, 4096], extra_per_token_s: [0, 4e-5, 2e-5] },
    };
    const profile = syntheticProfile(truth, GRID);
    const { coefficients } = fitMeasurements(profile, { form: "prefill-curve", knots: [1024, 4096], smoothing: 0 });
    expect(relErr(coefficients.overhead_s, truth.overhead_s)).toBeLessThan(1e-6);
    expect(relErr(coefficients.prefill_step_overhead_s!, 0.006)).toBeLessThan(1e-6);
    expect(relErr(coefficients.per_prefill_token_s, truth.per_prefill_token_s)).toBeLessThan(1e-6);
    expect(coefficients.prefill_token_curve!.knots).toEqual([1024, 4096]);
    coefficients.prefill_token_curve!.extra_per_token_s.forEach((v, j) => expect(Math.abs(v - truth.prefill_token_curve!.extra_per_token_s[j])).toBeLessThan(1e-10));
    for (const key of ["per_attention_pair_s", "per_decode_seq_s", "per_kv_token_s"] as const) {
      expect(relErr(coefficients[key], truth[key]), key).toBeLessThan(1e-6);
    }
  });

  it("the default form (auto knots, smoothing) fits a linear truth exactly: equal slopes cost no penalty", () => {
    const profile = syntheticProfile(BASIC, GRID);
    const cal = calibrateGroup(groupMeasurements(profile)[0], { folds: 3 });
    const c = cal.document.coefficients;
    expect(relErr(c.per_prefill_token_s, BASIC.per_prefill_token_s)).toBeLessThan(1e-6);
    expect(c.prefill_step_overhead_s ?? 0).toBeLessThan(1e-9);
    expect(c.prefill_token_curve).toBeUndefined();
    for (const q of ["ttft", "tpot", "e2e"] as const) {
      expect(cal.in_sample[q]!.mape).toBeLessThan(1e-6);
      expect(cal.cross_validation!.errors[q]!.max_ape).toBeLessThan(1e-6);
    }
  });

  it("stays close with 2% measurement noise", () => {
    const profile = syntheticProfile(BASIC, GRID, 5, 0.02, "noise");
    const { coefficients } = fitMeasurements(profile, { form: "basic" });
    expect(relErr(coefficients.overhead_s, BASIC.overhead_s)).toBeLessThan(0.05);
    expect(relErr(coefficients.per_prefill_token_s, BASIC.per_prefill_token_s)).toBeLessThan(0.05);
    expect(relErr(coefficients.per_decode_seq_s, BASIC.per_decode_seq_s)).toBeLessThan(0.15);
    // Held-out predictions are as good as the noise allows.
    const cal = calibrateGroup(groupMeasurements(profile)[0], { fit: { form: "basic" }, folds: 5 });
    for (const q of ["ttft", "tpot", "e2e"] as const) expect(cal.cross_validation!.errors[q]!.mape).toBeLessThan(0.03);
    // The error of the true model on the noisy data is the floor.
    const floor = predictionErrors(profile, fittedModel(GROUP, BASIC));
    expect(cal.in_sample.ttft!.mape).toBeLessThan(floor.ttft!.mape * 1.1);
  });

  it("keeps the overhead positive when the data show none", () => {
    const truth: FittedCoefficients = { ...BASIC, overhead_s: 1e-15 };
    const { coefficients } = fitMeasurements(syntheticProfile(truth, GRID), { form: "basic" });
    expect(coefficients.overhead_s).toBeGreaterThan(0);
  });

  it("auto knots are the powers of two between the smallest and largest prefill step", () => {
    expect(autoKnots([128, 300, 32768])).toEqual([256, 512, 1024, 2048, 4096, 8192, 16384]);
    expect(autoKnots([512])).toEqual([]);
    expect(autoKnots([0, 100, 200])).toEqual([128]);
  });
});
