import { Command } from "commander";
import { join } from "node:path";
import { runLive } from "../live/run.ts";
import { formatParityTable, parityRows, withApiLatency } from "./parity.ts";
import { runSimulation } from "../sim/run.ts";
import { positiveNumber, runAction } from "./errors.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { commandDescription } from "./command-list.ts";

interface ParityFlags extends RunFlags {
  speedup?: number;
  measuredApiLatency: boolean;
}

export function parityCommand(): Command {
  const command = new Command("parity").description(commandDescription("parity"));
  return addRunOptions(command, "out/parity")
    .option("--speedup <x>", "model seconds per wall second for the live run (emulators, arrivals and tools)", positiveNumber)
    .option("--no-measured-api-latency", "simulate with the config's engine.api_latency_s instead of the round trip measured before the live run")
    .action((flags: ParityFlags) =>
      runAction(async () => {
        const quiet = { ...flags, quiet: true };
        // Live first: it measures the HTTP round trip to each emulator before its run, and the sim
        // then adds that latency to every call (engine.api_latency_s = half the round trip).
        let live: Report | undefined;
        let measured: { instance: string; api_latency_s: number }[] = [];
        await runAndWrite({ ...quiet, out: join(flags.out, "live") }, async (run) => {
          const output = await runLive({ ...run, seed: flags.seed, observe_interval_s: flags.observeInterval, emulate: true, speedup: flags.speedup });
          live = output.report;
          measured = output.api_latency;
          return output;
        });
        let sim: Report | undefined;
        await runAndWrite({ ...quiet, out: join(flags.out, "sim") }, async (run) => {
          const cluster = flags.measuredApiLatency && run.cluster ? withApiLatency(run.cluster, measured) : run.cluster;
          const output = await runSimulation({ ...run, cluster, seed: flags.seed, observability: { interval_s: flags.observeInterval } });
          sim = output.report;
          return output;
        });
        const ms = (s: number) => `${(1000 * s).toFixed(2)} ms`;
        process.stdout.write(
          `api latency, one-way (measured before the live run, GET /health round trip / 2): ${measured.map((m) => `${m.instance} ${ms(m.api_latency_s)}`).join(", ")}` +
            `${flags.measuredApiLatency ? "; used by the sim" : "; not used (--no-measured-api-latency)"}\n`,
        );
        process.stdout.write(formatParityTable(parityRows(sim!, live!)) + "\n");
      }),
    );
}
