/** Calibration fit on Splitwise's measurements.
 *
 *  Studies how well the fitted step-time model (docs/calibration.md: `prefill-curve` form, NNLS on
 *  relative errors) reproduces measured latencies it never saw: for every (model, hardware, tensor
 *  parallelism) group of Splitwise's perf-model CSV, 5-fold cross-validation holding out whole
 *  (prompt, batch) prefill shapes (seed 1, as `tandem calibrate`): each row's static batch is
 *  replayed through the sim engine with the model fitted on the other folds, and its simulated
 *  prompt_time (TTFT), token_time (TPOT) and e2e_time are compared with the measurement. The
 *  table also gives prompt_time's error with per-configuration folds (leaky: a held-out prompt
 *  phase was seen in training through a configuration differing only in output length), for
 *  comparison with earlier figures. Deterministic.
 *
 *  Needs ../shared/data/profiles/splitwise-perf-model.csv (exits with a message when absent).
 *  Run:     npx tsx notebooks/calibration-fit.ts      (about 15 s on 2 cores)
 *  Writes:  docs/figures/calibration-fit-scatter.png (predicted vs measured, log-log, per quantity,
 *           coloured by group), notebooks/results/calibration-fit.md (MAPE per group). */
import { readFileSync } from "node:fs";
import {
  DEFAULT_FOLDS,
  DEFAULT_SEED,
  DEFAULT_SMOOTHING,
  QUANTITIES,
  TraceCache,
  configurations,
  fitMeasurements,
  fittedModel,
  groupMeasurements,
  measurementFolds,
  prefillShapes,
  parseSplitwiseCsv,
  simulatedTimes,
  splitwiseMeasurements,
  type FitOptions,
  type HoldOutUnit,
  type Measurement,
  type ProfileGroup,
  type Quantity,
  type StaticBatchTimes,
} from "../sim/calibrate/index.ts";
import { sharedDataFile } from "../test/helpers/shared-data.ts";
import { scatterSpec, type ScatterPoint } from "./lib/charts.ts";
import { fixed, markdownTable } from "./lib/markdown.ts";
import { elapsed_s, isMain, repoRelative, writeFigure, writeResults, type Figure } from "./lib/output.ts";

export const NAME = "calibration-fit";
export const PROFILE = "profiles/splitwise-perf-model.csv";

/** What `tandem calibrate` fits by default. */
export const FIT: FitOptions = { form: "prefill-curve", smoothing: DEFAULT_SMOOTHING };

/** Splitwise's names of the three quantities. */
export const QUANTITY_NAMES: Record<Quantity, string> = { ttft: "prompt_time", tpot: "token_time", e2e: "e2e_time" };

/** One row predicted by the model fitted without its fold. */
export interface Prediction {
  measurement: Measurement;
  predicted: Record<Quantity, number | undefined>;
}

export interface GroupResult {
  group: ProfileGroup;
  configurations: number;
  shapes: number;
  /** What the folds held out whole. */
  unit: HoldOutUnit;
  predictions: Prediction[];
  /** Mean and largest absolute percentage error per quantity over the group's rows (fractions). */
  errors: Partial<Record<Quantity, { count: number; mape: number; max_ape: number }>>;
}

export function observedTime(m: Measurement, q: Quantity): number | undefined {
  return q === "ttft" ? m.ttft_s : q === "tpot" ? m.tpot_s : m.e2e_s;
}

/** The groups of a Splitwise CSV, as `tandem calibrate` forms them. */
export function splitwiseGroups(text: string, file: string): ProfileGroup[] {
  const { measurements, excluded, adjusted } = splitwiseMeasurements(parseSplitwiseCsv(text, file), file);
  return groupMeasurements(measurements, excluded, adjusted);
}

/** k-fold cross-validation with every row's prediction kept (the library's crossValidate keeps only
 *  the error sums): the same fold assignment (whole prefill shapes by default), fit and engine replay. */
export function crossValidatedPredictions(group: ProfileGroup, folds = DEFAULT_FOLDS, seed: number | string = DEFAULT_SEED, fit = FIT, unit: HoldOutUnit = "shape"): GroupResult {
  const measurements = group.measurements;
  const fold = measurementFolds(measurements, { folds, seed, unit });
  const cache = new TraceCache();
  const predictions: Prediction[] = [];
  for (let k = 0; k < folds; k++) {
    const train = measurements.filter((_, i) => fold[i] !== k);
    const test = measurements.filter((_, i) => fold[i] === k);
    if (test.length === 0) continue;
    const model = fittedModel(train[0], fitMeasurements(train, fit, cache).coefficients);
    const simulated = new Map<string, StaticBatchTimes>();
    for (const m of test) predictions.push({ measurement: m, predicted: simulatedTimes(m, model, simulated) });
  }
  const errors: GroupResult["errors"] = {};
  for (const q of QUANTITIES) {
    const apes: number[] = [];
    for (const p of predictions) {
      const observed = observedTime(p.measurement, q);
      const predicted = p.predicted[q];
      if (observed === undefined || predicted === undefined || !(observed > 0)) continue;
      apes.push(Math.abs(predicted - observed) / observed);
    }
    if (apes.length > 0) errors[q] = { count: apes.length, mape: apes.reduce((a, b) => a + b, 0) / apes.length, max_ape: Math.max(...apes) };
  }
  return { group, configurations: configurations(measurements).length, shapes: prefillShapes(measurements).length, unit, predictions, errors };
}

/** Groups by model (first appearance), then tensor parallelism, then hardware name. */
export function sortGroups(groups: readonly ProfileGroup[]): ProfileGroup[] {
  const models = [...new Set(groups.map((g) => g.model))];
  return [...groups].sort((a, b) => models.indexOf(a.model) - models.indexOf(b.model) || a.tensor_parallel - b.tensor_parallel || (a.gpu < b.gpu ? -1 : a.gpu > b.gpu ? 1 : 0));
}

export function groupLabel(g: { model: string; gpu: string; tensor_parallel: number }): string {
  return `${g.model} ${g.gpu} TP${g.tensor_parallel}`;
}

/** The table of shape-held-out results; `leaky` (per-configuration folds, same groups in the same
 *  order) adds their prompt_time MAPE for comparison. */
export function resultTable(results: readonly GroupResult[], leaky?: readonly GroupResult[]): string {
  const header = ["model", "hardware", "TP", "rows used", "configs", "shapes", ...QUANTITIES.map((q) => `${QUANTITY_NAMES[q]} MAPE`), "max APE (p / t / e)"];
  if (leaky) header.push("prompt_time MAPE, per-config folds (leaky)");
  const pct = (x: number | undefined, digits = 1) => (x === undefined ? "–" : `${fixed(100 * x, digits)}%`);
  const rows = results.map((r, i) => [
    r.group.model,
    r.group.gpu,
    String(r.group.tensor_parallel),
    `${r.group.measurements.length}/${r.group.rows}`,
    String(r.configurations),
    String(r.shapes),
    ...QUANTITIES.map((q) => pct(r.errors[q]?.mape, 2)),
    QUANTITIES.map((q) => fixed(100 * (r.errors[q]?.max_ape ?? NaN), 0)).join(" / ") + "%",
    ...(leaky ? [pct(leaky[i].errors.ttft?.mape, 2)] : []),
  ]);
  return markdownTable(header, rows, ["left", "left", "right"]);
}

export function figures(results: readonly GroupResult[]): Figure[] {
  const points: ScatterPoint[] = [];
  for (const r of results) {
    const group = groupLabel(r.group);
    for (const p of r.predictions) {
      for (const q of QUANTITIES) {
        const measured = observedTime(p.measurement, q);
        const predicted = p.predicted[q];
        if (measured === undefined || predicted === undefined) continue;
        points.push({ panel: `${QUANTITY_NAMES[q]} (${q.toUpperCase()})`, group, measured: 1000 * measured, predicted: 1000 * predicted });
      }
    }
  }
  return [
    {
      name: `${NAME}-scatter`,
      spec: scatterSpec({
        title: "Calibration: simulated vs measured latency, 5-fold cross-validated",
        subtitle: "Splitwise perf-model data, every row predicted by the model fitted without its (prompt, batch) shape; dashed: y = x",
        points,
        measuredTitle: "measured (ms)",
        predictedTitle: "simulated with the fitted model (ms)",
        groupTitle: "calibration group",
      }),
    },
  ];
}

export async function main(): Promise<void> {
  const file = sharedDataFile(PROFILE);
  if (!file) {
    process.stderr.write(`calibration-fit: needs ../shared/data/${PROFILE}; nothing written\n`);
    process.exitCode = 1;
    return;
  }
  const start = performance.now();
  const groups = splitwiseGroups(readFileSync(file, "utf8"), "splitwise-perf-model.csv");
  const sorted = sortGroups(groups);
  const results = sorted.map((g) => crossValidatedPredictions(g));
  const leaky = sorted.map((g) => crossValidatedPredictions(g, DEFAULT_FOLDS, DEFAULT_SEED, FIT, "configuration"));
  const table = resultTable(results, leaky);
  const written: string[] = [];
  for (const figure of figures(results)) written.push(await writeFigure(figure.name, figure.spec));
  const markdown = [
    "# Calibration fit on Splitwise's measurements",
    "",
    "Splitwise's perf-model CSV (`../shared/data/profiles/splitwise-perf-model.csv`: static batches",
    "of Llama-2-70B and BLOOM-176B on A100, H100 and power-capped H100) is read as `tandem calibrate`",
    "reads it (docs/calibration.md: rows whose e2e_time shows the batch did not run as one static",
    "batch are excluded; rows that stopped early use the output length their times imply). For each",
    "(model, hardware, tensor parallelism) group the `prefill-curve` model is fitted by NNLS on",
    `relative errors, ${DEFAULT_FOLDS}-fold cross-validated holding out whole (prompt, batch) shapes (seed ${DEFAULT_SEED}): every`,
    "row's batch is replayed through the sim engine with the model fitted on the other folds, none of",
    "which holds a row with the same prefill. MAPE is the mean absolute percentage error of the",
    "simulated prompt_time (TTFT), token_time (TPOT) and e2e_time against the measurement; max APE",
    "the largest single-row error (prompt / token / e2e). The last column is prompt_time's error with",
    "folds over single (prompt, batch, output) configurations, as reported before: there the seven",
    "`p512 b1 n…` rows, which share one prompt phase, straddle folds, so a held-out prompt time was",
    "seen in training (leaky; for comparison only).",
    "",
    "Regenerate: `npx tsx notebooks/calibration-fit.ts` (deterministic: same table, same figure).",
    "",
    table,
    "",
    "Figures: " + written.map((p) => `\`${repoRelative(p)}\``).join(", ") + ".",
  ].join("\n");
  const results_md = writeResults(NAME, markdown);
  process.stdout.write(table + "\n\n");
  process.stdout.write(`wrote ${[...written, results_md].map(repoRelative).join(", ")} in ${elapsed_s(start).toFixed(0)} s\n`);
}

if (isMain(import.meta.url)) await main();
