import seedrandom from "seedrandom";
import { FittedLatencyModel } from "../../src/model/fitted.ts";
import { LATENCY_SCHEMA, type FittedInfo } from "../../src/model/latency-info.ts";
import type { LatencyModel } from "../../src/model/latency-model.ts";
import type { FittedCoefficients } from "../../src/model/fitted-coefficients.ts";
import { fitMeasurements, TraceCache, type FitOptions } from "./fit.ts";
import { QUANTITIES, type Measurement, type Quantity } from "./measurements.ts";
import { simulateStaticBatch, staticBatchKey, type StaticBatchTimes } from "./static-batch.ts";

/** Absolute percentage errors of one quantity, summarised (fractions: 0.05 = 5%). */
export interface QuantityError {
  count: number;
  /** Mean absolute percentage error. */
  mape: number;
  /** Largest absolute percentage error. */
  max_ape: number;
}

/** Errors per quantity; a quantity no row measured is absent. */
export type ErrorTable = Partial<Record<Quantity, QuantityError>>;

class ErrorSums {
  private readonly sums = new Map<Quantity, { n: number; sum: number; max: number }>();

  add(q: Quantity, predicted: number, observed: number): void {
    const ape = Math.abs(predicted - observed) / observed;
    const s = this.sums.get(q) ?? { n: 0, sum: 0, max: 0 };
    s.n++;
    s.sum += ape;
    if (ape > s.max) s.max = ape;
    this.sums.set(q, s);
  }

  table(): ErrorTable {
    const out: ErrorTable = {};
    for (const q of QUANTITIES) {
      const s = this.sums.get(q);
      if (s) out[q] = { count: s.n, mape: s.sum / s.n, max_ape: s.max };
    }
    return out;
  }
}

/** A fitted latency model for the measurements' group. */
export function fittedModel(m: { model: string; gpu: string; tensor_parallel: number }, coefficients: FittedCoefficients, fit?: Record<string, unknown>): FittedLatencyModel {
  const info: FittedInfo = { schema: LATENCY_SCHEMA, kind: "fitted", model: m.model, gpu: m.gpu, tensor_parallel: m.tensor_parallel, coefficients };
  if (fit) info.fit = fit;
  return new FittedLatencyModel(info);
}

/** The times a simulation with `latency` gives for what `m` measured: its static batch runs through
 *  the sim engine, and the profiler's quantities are read off the simulated tokens. */
export function simulatedTimes(m: Measurement, latency: LatencyModel, cache?: Map<string, StaticBatchTimes>): Record<Quantity, number | undefined> {
  const key = staticBatchKey(m.batch);
  let times = cache?.get(key);
  if (!times) {
    times = simulateStaticBatch(m.batch, latency);
    cache?.set(key, times);
  }
  if (m.subject === "batch") return { ttft: times.batch_ttft_s, tpot: times.batch_tpot_s, e2e: times.batch_e2e_s };
  return { ttft: times.ttft_s[m.subject], tpot: times.tpot_s[m.subject], e2e: times.e2e_s[m.subject] };
}

/** Simulated-vs-measured errors of `latency` on `measurements` (every row counts once). */
export function predictionErrors(measurements: readonly Measurement[], latency: LatencyModel): ErrorTable {
  const sums = new ErrorSums();
  const cache = new Map<string, StaticBatchTimes>();
  for (const m of measurements) {
    const simulated = simulatedTimes(m, latency, cache);
    for (const q of QUANTITIES) {
      const observed = q === "ttft" ? m.ttft_s : q === "tpot" ? m.tpot_s : m.e2e_s;
      const predicted = simulated[q];
      if (observed === undefined || predicted === undefined || !(observed > 0)) continue;
      sums.add(q, predicted, observed);
    }
  }
  return sums.table();
}

/** The distinct configurations of `measurements`, sorted. */
export function configurations(measurements: readonly Measurement[]): string[] {
  return [...new Set(measurements.map((m) => m.config))].sort();
}

/** The prefill shape a measurement's batch runs: its prompt lengths in submission order
 *  (`p512 b8` when all are equal). Configurations differing only in output length, budget or
 *  sequence limit share it — and, for TTFT, share the measurement — so validation holds out whole
 *  shapes: otherwise a held-out prompt time was seen in training through its twin. */
export function prefillShape(m: Pick<Measurement, "batch">): string {
  const prompts = m.batch.requests.map((r) => r.prompt_tokens);
  return prompts.every((p) => p === prompts[0]) ? `p${prompts[0]} b${prompts.length}` : `prompts ${prompts.join(",")}`;
}

/** The distinct prefill shapes of `measurements`, sorted. */
export function prefillShapes(measurements: readonly Measurement[]): string[] {
  return [...new Set(measurements.map(prefillShape))].sort();
}

/** What validation holds out together: whole prefill shapes (the honest default) or single
 *  configurations (rows that share a prefill shape may straddle folds; kept for comparison). */
export type HoldOutUnit = "shape" | "configuration";
export const HOLD_OUT_UNITS: readonly HoldOutUnit[] = ["shape", "configuration"];

/** The unit `m` belongs to. */
export function holdOutKey(m: Measurement, unit: HoldOutUnit): string {
  return unit === "shape" ? prefillShape(m) : m.config;
}

function holdOutUnits(measurements: readonly Measurement[], unit: HoldOutUnit): string[] {
  return unit === "shape" ? prefillShapes(measurements) : configurations(measurements);
}

/** Deterministic shuffle of `items` (Fisher–Yates driven by seedrandom). */
function shuffled<T>(items: readonly T[], seed: number | string): T[] {
  const rng = seedrandom(`tandem-calibrate:${seed}`);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Fold of each unit (shape or configuration): the sorted units shuffled by `seed`, then dealt
 *  round-robin into `folds` folds (sizes differ by at most one). */
export function foldAssignment(configs: readonly string[], folds: number, seed: number | string): Map<string, number> {
  const out = new Map<string, number>();
  shuffled([...configs].sort(), seed).forEach((c, i) => out.set(c, i % folds));
  return out;
}

export interface CrossValidation {
  folds: number;
  seed: number | string;
  /** What each fold holds out whole. */
  holds_out: HoldOutUnit;
  configurations: number;
  shapes: number;
  /** Every row predicted once, by the model fitted without its unit's fold. */
  errors: ErrorTable;
}

/** The fold (0 … folds − 1) of every measurement, by `unit` (default: whole prefill shapes). */
export function measurementFolds(measurements: readonly Measurement[], options: { folds: number; seed: number | string; unit?: HoldOutUnit }): number[] {
  const unit = options.unit ?? "shape";
  const units = holdOutUnits(measurements, unit);
  const folds = options.folds;
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`crossValidate: folds must be an integer ≥ 2 (got ${folds})`);
  if (units.length < folds) throw new Error(`crossValidate: ${units.length} ${unit}(s) cannot fill ${folds} folds`);
  const fold = foldAssignment(units, folds, options.seed);
  return measurements.map((m) => fold.get(holdOutKey(m, unit))!);
}

/** k-fold cross-validation: each fold's units (by default whole prefill shapes) are held out, the
 *  model is fitted on the rest, and the held-out rows are simulated with it. */
export function crossValidate(
  measurements: readonly Measurement[],
  options: { folds: number; seed: number | string; fit?: FitOptions; unit?: HoldOutUnit },
  cache = new TraceCache(),
): CrossValidation {
  const unit = options.unit ?? "shape";
  const fold = measurementFolds(measurements, options);
  const sums = new ErrorSums();
  for (let k = 0; k < options.folds; k++) {
    const train = measurements.filter((_, i) => fold[i] !== k);
    const test = measurements.filter((_, i) => fold[i] === k);
    accumulate(sums, train, test, options.fit, cache);
  }
  return {
    folds: options.folds,
    seed: options.seed,
    holds_out: unit,
    configurations: configurations(measurements).length,
    shapes: prefillShapes(measurements).length,
    errors: sums.table(),
  };
}

export interface Holdout {
  fraction: number;
  seed: number | string;
  /** Whole prefill shapes are held out. */
  holds_out: "shape";
  train_shapes: number;
  test_shapes: number;
  train_configurations: number;
  test_configurations: number;
  errors: ErrorTable;
}

/** One split: a `fraction` of the prefill shapes (at least one, and at least one left to fit) is
 *  held out whole; the model fitted on the rest is simulated on them. */
export function holdoutValidate(measurements: readonly Measurement[], options: { fraction: number; seed: number | string; fit?: FitOptions }, cache = new TraceCache()): Holdout {
  const shapes = prefillShapes(measurements);
  if (shapes.length < 2) throw new Error("holdoutValidate: needs at least two prefill shapes");
  if (!(options.fraction > 0 && options.fraction < 1)) throw new Error(`holdoutValidate: fraction must be in (0, 1) (got ${options.fraction})`);
  const count = Math.min(shapes.length - 1, Math.max(1, Math.round(options.fraction * shapes.length)));
  const held = new Set(shuffled(shapes, options.seed).slice(0, count));
  const train = measurements.filter((m) => !held.has(prefillShape(m)));
  const test = measurements.filter((m) => held.has(prefillShape(m)));
  const sums = new ErrorSums();
  accumulate(sums, train, test, options.fit, cache);
  return {
    fraction: options.fraction,
    seed: options.seed,
    holds_out: "shape",
    train_shapes: shapes.length - count,
    test_shapes: count,
    train_configurations: configurations(train).length,
    test_configurations: configurations(test).length,
    errors: sums.table(),
  };
}

function accumulate(sums: ErrorSums, train: readonly Measurement[], test: readonly Measurement[], fit: FitOptions | undefined, cache: TraceCache): void {
  if (test.length === 0) return;
  const { coefficients } = fitMeasurements(train, fit, cache);
  const model = fittedModel(train[0], coefficients);
  const simulated = new Map<string, StaticBatchTimes>();
  for (const m of test) {
    const times = simulatedTimes(m, model, simulated);
    for (const q of QUANTITIES) {
      const observed = q === "ttft" ? m.ttft_s : q === "tpot" ? m.tpot_s : m.e2e_s;
      const predicted = times[q];
      if (observed === undefined || predicted === undefined || !(observed > 0)) continue;
      sums.add(q, predicted, observed);
    }
  }
}
