import { Command } from "commander";
import { join } from "node:path";
import { runLive } from "../live/run.ts";
import { formatParityTable, parityRows } from "./parity.ts";
import { runSimulation } from "../sim/run.ts";
import { positiveNumber, runAction } from "./errors.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { commandDescription } from "./command-list.ts";

interface ParityFlags extends RunFlags {
  speedup?: number;
}

export function parityCommand(): Command {
  const command = new Command("parity").description(commandDescription("parity"));
  return addRunOptions(command, "out/parity")
    .option("--speedup <x>", "model seconds per wall second for the live run (emulators, arrivals and tools)", positiveNumber)
    .action((flags: ParityFlags) =>
      runAction(async () => {
        const reports: Report[] = [];
        const quiet = { ...flags, quiet: true };
        await runAndWrite({ ...quiet, out: join(flags.out, "sim") }, async (run) => {
          const output = await runSimulation({ ...run, seed: flags.seed, observability: { interval_s: flags.observeInterval } });
          reports.push(output.report);
          return output;
        });
        await runAndWrite({ ...quiet, out: join(flags.out, "live") }, async (run) => {
          const output = await runLive({ ...run, seed: flags.seed, observe_interval_s: flags.observeInterval, emulate: true, speedup: flags.speedup });
          reports.push(output.report);
          return output;
        });
        process.stdout.write(formatParityTable(parityRows(reports[0], reports[1])) + "\n");
      }),
    );
}
