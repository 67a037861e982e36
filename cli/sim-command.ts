import { Command } from "commander";
import { runSimulation } from "../sim/run.ts";
import { DEFAULT_WORKLOAD } from "../traces/index.ts";
import { oneOf, runAction } from "./errors.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";

interface SimFlags extends RunFlags {
  observe?: "scraped" | "oracle";
}

export function simCommand(): Command {
  const command = new Command("sim").description(
    "Simulate a cluster of vLLM-like instances under a scheduling and a dispatch policy, on a request trace, a " +
      "workflow trace, AppWorld DAGs or a generated agent app. Without a workload it runs the built-in one " +
      `(${DEFAULT_WORKLOAD.count} synthetic requests, Poisson ${DEFAULT_WORKLOAD.rate} req/s); without --config the ` +
      "built-in cluster (4 × llama-3-8b on h100-80gb).",
  );
  return addRunOptions(command, "out/sim")
    .option("--observe <mode>", "what policies see: scraped (periodic /metrics-like snapshots) or oracle (exact state)", oneOf(["scraped", "oracle"] as const))
    .action((flags: SimFlags) =>
      runAction(() =>
        runAndWrite(flags, (run) =>
          runSimulation({ ...run, seed: flags.seed, observability: { mode: flags.observe, interval_s: flags.observeInterval } }),
        ),
      ),
    );
}
