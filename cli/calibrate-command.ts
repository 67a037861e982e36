import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { InputError } from "../src/core/errors.ts";
import {
  calibrateGroup,
  canonicalName,
  configurations,
  DEFAULT_FOLDS,
  prefillShapes,
  DEFAULT_SEED,
  groupMeasurements,
  isSplitwiseHeader,
  MODEL_FORMS,
  parseProfileCsv,
  parseSplitwiseCsv,
  profileMeasurements,
  readText,
  splitwiseMeasurements,
  type Calibration,
  type ErrorTable,
  type ModelForm,
  type ProfileGroup,
  type Quantity,
} from "../sim/calibrate/index.ts";
import { nonNegativeInteger, oneOf, positiveInteger, runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";
import { runCalibrateFromRun } from "./calibrate-from-run.ts";

const FORMATS = ["tandem", "splitwise"] as const;
type Format = (typeof FORMATS)[number];

interface CalibrateFlags {
  profile?: string;
  fromRun?: string;
  events?: string;
  holdoutEvery: number;
  format?: Format;
  model?: string;
  gpu?: string;
  tensorParallel?: number;
  folds: number;
  holdout?: number;
  seed: number;
  form: ModelForm;
  out: string;
  quiet?: boolean;
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError("expected a fraction between 0 and 1 (exclusive), e.g. 0.2");
  return n;
}

export function calibrateCommand(): Command {
  return new Command("calibrate")
    .description(commandDescription("calibrate"))
    .option("--profile <file>", "profile CSV to fit")
    .option("--from-run <dir>", "instead: fit the step-time model to a tandem live run's --out folder (report.json, calls.csv; docs/calibration.md)")
    .option("--events <file>", "with --from-run: the run's event log, for the prompts' shared prefixes (default DIR/events.jsonl when present)")
    .option("--holdout-every <k>", "with --from-run: hold every k-th call out of the fit and report its error; 0 = none", nonNegativeInteger, 5)
    .option("--format <format>", "tandem or splitwise (default: recognised from the header)", oneOf(FORMATS))
    .option("--model <name>", "fit only this model's rows")
    .option("--gpu <name>", "fit only this GPU's rows")
    .option("--tensor-parallel <n>", "fit only rows with this tensor parallelism", positiveInteger)
    .option("--folds <k>", `k-fold cross-validation holding out whole (prompt, batch) shapes; 0 = none (default ${DEFAULT_FOLDS})`, nonNegativeInteger, DEFAULT_FOLDS)
    .option("--holdout <fraction>", "also hold out this fraction of (prompt, batch) shapes in one split and report its error", fraction)
    .option("--seed <n>", `seed of the fold assignment and holdout split (default ${DEFAULT_SEED})`, nonNegativeInteger, DEFAULT_SEED)
    .option("--form <form>", `model form: ${MODEL_FORMS.join(" or ")} (default prefill-curve)`, oneOf(MODEL_FORMS), "prefill-curve" as ModelForm)
    .option("--out <path>", "a .json file (when one group is fitted) or a directory for one <model>_<gpu>_tp<N>.json per group", "out/calibrate")
    .option("--quiet", "do not print the error tables")
    .action((flags: CalibrateFlags) => runAction(() => (flags.fromRun !== undefined ? fromRun(flags) : runCalibrate(flags))));
}

function fromRun(flags: CalibrateFlags): Promise<void> {
  if (flags.profile !== undefined) throw new InputError("--from-run and --profile: give one; a run folder or a profile CSV");
  const profileOnly = [flags.format && "--format", flags.model && "--model", flags.gpu && "--gpu", flags.tensorParallel && "--tensor-parallel", flags.holdout && "--holdout"].filter(Boolean);
  if (profileOnly.length > 0) throw new InputError(`${profileOnly[0]}: applies to --profile; --from-run fits every group the run has`);
  if (flags.holdoutEvery === 1) throw new InputError("--holdout-every 1: would hold out every call; expected 0 (none) or an integer ≥ 2");
  return runCalibrateFromRun({ fromRun: flags.fromRun!, events: flags.events, holdoutEvery: flags.holdoutEvery, out: flags.out, quiet: flags.quiet });
}

async function runCalibrate(flags: CalibrateFlags & { profile?: string }): Promise<void> {
  if (flags.profile === undefined) throw new InputError("calibrate: give --profile FILE (a profile CSV) or --from-run DIR (a live run's output)");
  if (flags.events !== undefined) throw new InputError("--events: applies to --from-run");
  if (flags.folds === 1) throw new InputError("--folds 1: expected 0 (no cross-validation) or an integer ≥ 2");
  const text = await readText(flags.profile);
  const firstLine = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "";
  const format: Format = flags.format ?? (isSplitwiseHeader(firstLine.split(",").map((c) => c.trim().replace(/^"|"$/g, ""))) ? "splitwise" : "tandem");
  let groups: ProfileGroup[];
  if (format === "splitwise") {
    const rows = parseSplitwiseCsv(text, flags.profile);
    const { measurements, excluded, adjusted } = splitwiseMeasurements(rows, flags.profile);
    groups = groupMeasurements(measurements, excluded, adjusted);
  } else {
    const rows = parseProfileCsv(text, flags.profile);
    const { measurements, excluded } = profileMeasurements(rows, flags.profile);
    groups = groupMeasurements(measurements, excluded);
  }
  if (groups.length === 0) throw new InputError(`${flags.profile}: no rows; expected a header line and measured rows`);
  const selected = selectGroups(groups, flags);
  const single = flags.out.toLowerCase().endsWith(".json");
  if (single && selected.length > 1) {
    throw new InputError(
      `--out ${flags.out} names one file but ${selected.length} groups match (${selected.map(groupName).join("; ")}); select one with --model, --gpu and --tensor-parallel, or give a directory`,
    );
  }
  for (const group of selected) {
    if (group.measurements.length === 0) {
      throw new InputError(`${flags.profile}: ${groupName(group)}: all ${group.rows} rows are excluded (${group.excluded[0].source}: ${group.excluded[0].reason})`);
    }
    const shapes = prefillShapes(group.measurements).length;
    if (flags.folds >= 2 && shapes < flags.folds) {
      throw new InputError(`--folds ${flags.folds}: ${groupName(group)} has only ${shapes} prefill shape(s) (prompt, batch); lower --folds or give --folds 0`);
    }
    if (flags.holdout !== undefined && shapes < 2) {
      throw new InputError(`--holdout: ${groupName(group)} has only one prefill shape (prompt, batch); nothing to hold out`);
    }
  }
  const written: string[] = [];
  for (const group of selected) {
    const calibration = calibrateGroup(group, { fit: { form: flags.form }, folds: flags.folds, seed: flags.seed, holdout: flags.holdout, source: flags.profile, format });
    const path = single ? flags.out : join(flags.out, `${slug(group.model)}_${slug(group.gpu)}_tp${group.tensor_parallel}.json`);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify(calibration.document, null, 2) + "\n");
    } catch (error) {
      throw new InputError(`--out ${flags.out}: cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    written.push(path);
    if (!flags.quiet) process.stdout.write(formatCalibration(group, calibration, format) + "\n");
  }
  process.stdout.write(`wrote ${written.join(", ")}\n`);
}

function groupName(g: { model: string; gpu: string; tensor_parallel: number }): string {
  return `${g.model} on ${g.gpu} × TP${g.tensor_parallel}`;
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]+/g, "-");
}

function matches(value: string, flag: string | undefined, kind: "model" | "gpu"): boolean {
  if (flag === undefined) return true;
  return value.toLowerCase() === flag.trim().toLowerCase() || value === canonicalName(flag, kind);
}

function selectGroups(groups: ProfileGroup[], flags: CalibrateFlags): ProfileGroup[] {
  const selected = groups.filter(
    (g) => matches(g.model, flags.model, "model") && matches(g.gpu, flags.gpu, "gpu") && (flags.tensorParallel === undefined || g.tensor_parallel === flags.tensorParallel),
  );
  if (selected.length === 0) {
    const asked = [flags.model && `--model ${flags.model}`, flags.gpu && `--gpu ${flags.gpu}`, flags.tensorParallel && `--tensor-parallel ${flags.tensorParallel}`].filter(Boolean).join(" ");
    throw new InputError(`${asked}: no group of ${flags.profile} matches; it has ${groups.map(groupName).join("; ")}`);
  }
  return selected;
}

const LABELS: Record<Format, Record<Quantity, string>> = {
  tandem: { ttft: "ttft", tpot: "tpot", e2e: "e2e" },
  splitwise: { ttft: "ttft (prompt_time)", tpot: "tpot (token_time)", e2e: "e2e (e2e_time)" },
};

/** A group's heading and its error table (MAPE and max absolute percentage error per quantity). */
export function formatCalibration(group: ProfileGroup, calibration: Calibration, format: Format): string {
  const used = group.measurements.length;
  const parts = [`${used} used`];
  if (group.adjusted > 0) parts.push(`${group.adjusted} with output length inferred from e2e`);
  parts.push(`${group.excluded.length} excluded`);
  const heading =
    `${groupName(group)}: ${group.rows} rows (${parts.join(", ")}), ` +
    `${configurations(group.measurements).length} configurations, ${prefillShapes(group.measurements).length} prefill shapes`;
  const columns: [string, ErrorTable][] = [["in-sample", calibration.in_sample]];
  // The shape-held-out CV is the honest held-out error; the per-configuration CV (rows that share
  // a prefill shape straddle folds) is printed after it for comparison with earlier figures.
  if (calibration.cross_validation) columns.push([`${calibration.cross_validation.folds}-fold CV (shapes held out)`, calibration.cross_validation.errors]);
  if (calibration.cross_validation_by_configuration) {
    columns.push([`per-config CV (leaky)`, calibration.cross_validation_by_configuration.errors]);
  }
  if (calibration.holdout) columns.push([`holdout ${Math.round(calibration.holdout.fraction * 100)}% shapes`, calibration.holdout.errors]);
  const header = ["quantity", ...columns.flatMap(([name]) => [`${name} MAPE`, "max"])];
  const pct = (v: number | undefined) => (v === undefined ? "-" : `${(v * 100).toFixed(1)}%`);
  const rows = (["ttft", "tpot", "e2e"] as const)
    .filter((q) => columns.some(([, t]) => t[q]))
    .map((q) => [LABELS[format][q], ...columns.flatMap(([, t]) => [pct(t[q]?.mape), pct(t[q]?.max_ape)])]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const lines = [heading, line(header), ...rows.map(line)];
  if (group.excluded.length > 0)
    lines.push(`excluded: ${group.excluded[0].source}: ${group.excluded[0].reason}${group.excluded.length > 1 ? ` (and ${group.excluded.length - 1} more)` : ""}`);
  return lines.join("\n");
}
