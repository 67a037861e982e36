import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { Command } from "commander";
import { InputError } from "../src/core/errors.ts";
import { fidelity, type FidelityLine, type FidelitySubject } from "../sim/calibrate/fidelity.ts";
import { loadLatencyModelFile } from "../run/latency-file.ts";
import { commandDescription } from "./command-list.ts";
import { oneOf, runAction } from "./errors.ts";

const KINDS = ["step", "roofline"] as const;

interface FidelityFlags {
  data?: string;
  modelKind: (typeof KINDS)[number];
  latency?: string;
  json?: boolean;
}

export const DEFAULT_PROFILES_DIR = "../shared/data/profiles";

export function fidelityCommand(): Command {
  return new Command("fidelity")
    .description(commandDescription("fidelity"))
    .option("--data <dir>", `measurement sets (Splitwise CSV, Vidur profiles); default ${DEFAULT_PROFILES_DIR}`)
    .option("--model-kind <kind>", "step (the shipped fitted presets) or roofline", oneOf(KINDS), "step" as (typeof KINDS)[number])
    .option("--latency <file>", "judge this tandem.latency/v1 model instead (on the groups matching its model, GPU and TP)")
    .option("--json", "print the lines as JSON")
    .action((flags: FidelityFlags) => runAction(() => runFidelity(flags)));
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatFidelity(lines: readonly FidelityLine[]): string {
  const out = [`${"source".padEnd(10)} ${"group".padEnd(28)} ${"quantity".padEnd(18)} ${"n".padStart(6)} ${"MAPE".padStart(7)} ${"max".padStart(7)}`];
  for (const l of lines) {
    out.push(
      `${l.source.padEnd(10)} ${l.group.padEnd(28)} ${l.quantity.padEnd(18)} ${String(l.error.count).padStart(6)} ${pct(l.error.mape).padStart(7)} ${pct(l.error.max_ape).padStart(7)}`,
    );
  }
  return out.join("\n");
}

async function runFidelity(flags: FidelityFlags): Promise<void> {
  const data = resolve(flags.data ?? DEFAULT_PROFILES_DIR);
  if (!existsSync(data)) throw new InputError(`--data ${flags.data ?? DEFAULT_PROFILES_DIR}: no such directory; expected the measurement sets (splitwise-perf-model.csv, vidur/)`);
  const subject: FidelitySubject = flags.latency ? { kind: "file", model: await loadLatencyModelFile(flags.latency) } : { kind: flags.modelKind };
  const lines = fidelity(data, subject);
  if (lines.length === 0) throw new InputError(`--data ${data}: no measurement set matches the model (expected splitwise-perf-model.csv or vidur/ with matching groups)`);
  process.stdout.write(flags.json ? JSON.stringify(lines) + "\n" : formatFidelity(lines) + "\n");
}
