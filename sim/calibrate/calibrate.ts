import { LATENCY_SCHEMA, type FittedInfo } from "../../src/model/latency-info.ts";
import { DEFAULT_SMOOTHING, fitMeasurements, TraceCache, type FitOptions } from "./fit.ts";
import type { ProfileGroup } from "./measurements.ts";
import { configurations, crossValidate, fittedModel, holdoutValidate, predictionErrors, prefillShapes, type CrossValidation, type ErrorTable, type Holdout } from "./validate.ts";

export interface CalibrationOptions {
  fit?: FitOptions;
  /** k of k-fold cross-validation (over prefill shapes, and over configurations for comparison); 0 = none. Default 5. */
  folds?: number;
  /** Seed of the fold assignment and the holdout split. Default 1. */
  seed?: number;
  /** Fraction of prefill shapes held out in a single split (also reported); undefined = none. */
  holdout?: number;
  /** Recorded in the fit block: the profile file and its format. */
  source?: string;
  format?: string;
}

export interface Calibration {
  /** The `tandem.latency/v1` fitted document (what `tandem calibrate` writes). */
  document: FittedInfo;
  in_sample: ErrorTable;
  /** Folds hold out whole prefill shapes: the honest held-out error, and the headline. */
  cross_validation?: CrossValidation;
  /** Folds hold out single configurations, so rows sharing a prefill shape straddle folds and a
   *  held-out prompt time was seen in training. Kept for comparison with earlier figures. */
  cross_validation_by_configuration?: CrossValidation;
  holdout?: Holdout;
}

export const DEFAULT_FOLDS = 5;
export const DEFAULT_SEED = 1;

/** Fits one group's latency model on all its usable rows and measures the fit: in-sample, by k-fold
 *  cross-validation holding out whole prefill shapes (and, for comparison, single configurations),
 *  and optionally on one held-out split of shapes. Every error is measured by simulating the rows'
 *  static batches through the sim engine. */
export function calibrateGroup(group: ProfileGroup, options: CalibrationOptions = {}): Calibration {
  if (group.measurements.length === 0) throw new Error(`calibrateGroup: no usable rows for ${group.model} on ${group.gpu}`);
  const cache = new TraceCache();
  const fitOptions: FitOptions = { form: "prefill-curve", smoothing: DEFAULT_SMOOTHING, ...options.fit };
  const seed = options.seed ?? DEFAULT_SEED;
  const folds = options.folds ?? DEFAULT_FOLDS;
  const fit = fitMeasurements(group.measurements, fitOptions, cache);
  const model = fittedModel(group, fit.coefficients);
  const in_sample = predictionErrors(group.measurements, model);
  const configs = configurations(group.measurements).length;
  const shapes = prefillShapes(group.measurements).length;
  const cross_validation = folds >= 2 && shapes >= folds ? crossValidate(group.measurements, { folds, seed, fit: fitOptions, unit: "shape" }, cache) : undefined;
  const cross_validation_by_configuration = folds >= 2 && configs >= folds ? crossValidate(group.measurements, { folds, seed, fit: fitOptions, unit: "configuration" }, cache) : undefined;
  const holdout = options.holdout !== undefined && shapes >= 2 ? holdoutValidate(group.measurements, { fraction: options.holdout, seed, fit: fitOptions }, cache) : undefined;
  const headline = cross_validation?.errors ?? holdout?.errors ?? in_sample;
  const fitBlock: Record<string, unknown> = {
    tool: "tandem calibrate",
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.format !== undefined ? { format: options.format } : {}),
    rows: group.rows,
    samples: group.measurements.length,
    excluded: group.excluded.length,
    output_inferred: group.adjusted,
    configurations: configs,
    shapes,
    equations: fit.equations,
    form: fit.layout.form,
    ...(fit.layout.knots.length > 0 ? { knots: [...fit.layout.knots], smoothing: fitOptions.smoothing } : {}),
    method: "non-negative least squares on relative errors; each row's static batch replayed through the sim engine",
    // The worst mean absolute percentage error over the measured quantities, held out (whole
    // shapes) when validated.
    mape: Math.max(...Object.values(headline).map((e) => e.mape)),
    in_sample,
    ...(cross_validation ? { cross_validation } : {}),
    ...(cross_validation_by_configuration ? { cross_validation_by_configuration } : {}),
    ...(holdout ? { holdout } : {}),
  };
  const document: FittedInfo = {
    schema: LATENCY_SCHEMA,
    kind: "fitted",
    model: group.model,
    gpu: group.gpu,
    tensor_parallel: group.tensor_parallel,
    coefficients: fit.coefficients,
    fit: fitBlock,
  };
  return { document, in_sample, cross_validation, cross_validation_by_configuration, holdout };
}
