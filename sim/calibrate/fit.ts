import type { FittedCoefficients } from "../../src/model/fitted-coefficients.ts";
import { autoKnots, FeatureLayout, type ModelForm } from "./features.ts";
import type { Measurement, Quantity } from "./measurements.ts";
import { nnls } from "./nnls.ts";
import { batchFeatures, staticBatchKey, traceStaticBatch, type BatchFeatures, type StaticBatchTrace } from "./static-batch.ts";

export interface FitOptions {
  /** Default `prefill-curve`. */
  form?: ModelForm;
  /** Prefill-token knots of the prefill-curve form: `auto` (default) puts one at every power of two
   *  strictly between the smallest and the largest prefill step of the fitted rows. */
  knots?: readonly number[] | "auto";
  /** Weight of the penalty on differences between neighbouring prefill-token slopes: a difference
   *  as large as the tied (single) slope costs as much as a `smoothing` × 100% error on one
   *  equation. 0 = no penalty; default 0.1. */
  smoothing?: number;
  /** Quantities turned into equations (default all three). */
  quantities?: readonly Quantity[];
}

export const DEFAULT_SMOOTHING = 0.1;

/** Replays of static batches, and their features per layout, shared by every fit of a session. */
export class TraceCache {
  private readonly traces = new Map<string, StaticBatchTrace>();
  private readonly features = new Map<string, BatchFeatures>();

  trace(m: Measurement): StaticBatchTrace {
    const key = staticBatchKey(m.batch);
    let trace = this.traces.get(key);
    if (!trace) {
      trace = traceStaticBatch(m.batch);
      this.traces.set(key, trace);
    }
    return trace;
  }

  featuresOf(m: Measurement, layout: FeatureLayout): BatchFeatures {
    const key = `${layout.form}|${layout.knots.join(",")}|${staticBatchKey(m.batch)}`;
    let features = this.features.get(key);
    if (!features) {
      features = batchFeatures(this.trace(m), layout);
      this.features.set(key, features);
    }
    return features;
  }
}

/** The features of each measured quantity of `m` (times = features · coefficients). */
export function measurementFeatures(m: Measurement, layout: FeatureLayout, cache: TraceCache): Record<Quantity, Float64Array | undefined> {
  const trace = cache.trace(m);
  const f = cache.featuresOf(m, layout);
  const tpotOf = (i: number): Float64Array | undefined => {
    const n = trace.output_tokens[i];
    if (n < 2) return undefined;
    const out = new Float64Array(layout.size);
    for (let k = 0; k < layout.size; k++) out[k] = (f.e2e[i][k] - f.ttft[i][k]) / (n - 1);
    return out;
  };
  if (m.subject !== "batch") return { ttft: f.ttft[m.subject], tpot: tpotOf(m.subject), e2e: f.e2e[m.subject] };
  // The batch: its last first token, its last finish, the mean TPOT of its requests.
  let lastFirst = 0;
  let lastFinish = 0;
  const n = trace.first_token_step.length;
  for (let i = 1; i < n; i++) {
    if (trace.first_token_step[i] > trace.first_token_step[lastFirst]) lastFirst = i;
    if (trace.finish_step[i] > trace.finish_step[lastFinish]) lastFinish = i;
  }
  let tpot: Float64Array | undefined;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const t = tpotOf(i);
    if (!t) continue;
    tpot ??= new Float64Array(layout.size);
    for (let k = 0; k < layout.size; k++) tpot[k] += t[k];
    count++;
  }
  if (tpot) for (let k = 0; k < layout.size; k++) tpot[k] /= count;
  return { ttft: f.ttft[lastFirst], tpot, e2e: f.e2e[lastFinish] };
}

export function observed(m: Measurement, q: Quantity): number | undefined {
  return q === "ttft" ? m.ttft_s : q === "tpot" ? m.tpot_s : m.e2e_s;
}

export interface FitResult {
  coefficients: FittedCoefficients;
  layout: FeatureLayout;
  /** Distinct equations (identical feature vectors merged, their observations averaged). */
  equations: number;
  /** Measurements used. */
  samples: number;
}

/** The layout `options` ask for, knots placed from the prefill steps of `measurements`. */
export function layoutFor(measurements: readonly Measurement[], options: FitOptions, cache: TraceCache): FeatureLayout {
  const form = options.form ?? "prefill-curve";
  if (form === "basic") return new FeatureLayout("basic", []);
  const knots = options.knots ?? "auto";
  if (knots !== "auto") return new FeatureLayout(form, knots);
  const sizes = new Set<number>();
  for (const m of measurements) for (const s of cache.trace(m).steps) if (s.prefill_tokens > 0) sizes.add(s.prefill_tokens);
  return new FeatureLayout(form, autoKnots(sizes));
}

/** Fits the step-time coefficients to `measurements` by non-negative least squares on relative
 *  errors: each measured time becomes an equation `features · x = observed`, divided by the
 *  observation (calibration targets are percentage errors). Equations with identical features
 *  (repeats of a configuration, or the same prompt phase measured with different output lengths)
 *  are merged into one whose target is the mean observation, so a configuration measured 15 times
 *  does not outweigh one measured 5 times. */
export function fitMeasurements(measurements: readonly Measurement[], options: FitOptions = {}, cache = new TraceCache()): FitResult {
  if (measurements.length === 0) throw new Error("fitMeasurements: no measurements");
  const layout = layoutFor(measurements, options, cache);
  const quantities = options.quantities ?? (["ttft", "tpot", "e2e"] as const);
  const merged = new Map<string, { features: Float64Array; sum: number; count: number }>();
  for (const m of measurements) {
    const features = measurementFeatures(m, layout, cache);
    for (const q of quantities) {
      const f = features[q];
      const y = observed(m, q);
      if (!f || y === undefined || !(y > 0)) continue;
      const key = `${q}|${f.join(",")}`;
      const e = merged.get(key);
      if (e) {
        e.sum += y;
        e.count++;
      } else merged.set(key, { features: f, sum: y, count: 1 });
    }
  }
  const rows: number[][] = [];
  for (const e of merged.values()) {
    const y = e.sum / e.count;
    rows.push(Array.from(e.features, (v) => v / y));
  }
  const targets = rows.map(() => 1);
  const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
  if (layout.slopes > 1 && smoothing > 0) {
    // Penalise differences between neighbouring segment slopes, in units of the single slope a
    // tied fit finds, so that a segment with little data leans on its neighbours.
    const tied = layout.tied();
    const tiedRows = rows.map((r) => {
      const out = r.slice(0, layout.firstSlope);
      let s = 0;
      for (let j = 0; j < layout.slopes; j++) s += r[layout.firstSlope + j];
      out.push(s, ...r.slice(layout.firstSlope + layout.slopes));
      return out;
    });
    const reference = nnls(tiedRows, targets).x[tied.firstSlope];
    if (reference > 0) {
      const w = smoothing / reference;
      for (let j = 0; j + 1 < layout.slopes; j++) {
        const row = new Array<number>(layout.size).fill(0);
        row[layout.firstSlope + j] = w;
        row[layout.firstSlope + j + 1] = -w;
        rows.push(row);
        targets.push(0);
      }
    }
  }
  const x = nnls(rows, targets).x;
  return { coefficients: layout.coefficientsFromSolution(x), layout, equations: merged.size, samples: measurements.length };
}
