import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { calibrateFromRun, type CallErrors, type FromRunFit } from "../sim/calibrate/from-run.ts";
import { readRecordedRun } from "../sim/calibrate/run-record.ts";

export interface FromRunFlags {
  fromRun: string;
  events?: string;
  holdoutEvery: number;
  out: string;
  quiet?: boolean;
}

/** `tandem calibrate --from-run DIR`: fits the step-time model to a live run's own measurements
 *  (docs/calibration.md, "From a recorded run") and writes one tandem.latency/v1 file per group. */
export async function runCalibrateFromRun(flags: FromRunFlags): Promise<void> {
  const run = readRecordedRun(flags.fromRun, flags.events);
  const fits = await calibrateFromRun(run, { holdout_every: flags.holdoutEvery });
  if (fits.length === 0) throw new InputError(`--from-run ${flags.fromRun}: no instance served a finished call; nothing to fit`);
  const single = flags.out.toLowerCase().endsWith(".json");
  if (single && fits.length > 1) {
    throw new InputError(`--out ${flags.out} names one file but the run has ${fits.length} groups (${fits.map(name).join("; ")}); give a directory`);
  }
  const written: string[] = [];
  for (const fit of fits) {
    const path = single ? flags.out : join(flags.out, `${slug(fit.model)}_${slug(fit.gpu)}_tp${fit.tensor_parallel}.json`);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify(fit.document, null, 2) + "\n");
    } catch (error) {
      throw new InputError(`--out ${flags.out}: cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    written.push(path);
    if (!flags.quiet) process.stdout.write(formatFromRun(fit, run.segments_from, run.skipped) + "\n");
  }
  process.stdout.write(`wrote ${written.join(", ")}\n`);
}

const name = (f: FromRunFit) => `${f.model} on ${f.gpu} × TP${f.tensor_parallel}`;
const slug = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, "-");
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** The group's heading, the fitted scale factors and the error table (preset vs fit, fitted and held-out calls). */
export function formatFromRun(fit: FromRunFit, segments_from: string, skipped: number): string {
  const e = fit.errors;
  const row = (label: string, a: CallErrors | null, b: CallErrors | null) =>
    `${label.padEnd(20)}${a === null ? "-" : `${pct(a.ttft_mape)} / ${pct(a.tpot_mape)}`}`.padEnd(44) + (b === null ? "-" : `${pct(b.ttft_mape)} / ${pct(b.tpot_mape)}`);
  return [
    `${name(fit)}: ${e.fitted.fit.calls + (e.fitted.heldout?.calls ?? 0)} finished calls on ${fit.instances.join(", ")} (prompts from ${segments_from}; ${skipped} unfinished skipped)`,
    `scales over the preset: ${Object.entries(fit.scales)
      .map(([k, v]) => `${k} ×${v.toFixed(3)}`)
      .join(", ")}`,
    `${"TTFT / TPOT MAPE".padEnd(20)}${"fitted calls".padEnd(24)}held-out calls`,
    row("preset", e.preset.fit, e.preset.heldout),
    row("fitted", e.fitted.fit, e.fitted.heldout),
  ].join("\n");
}
