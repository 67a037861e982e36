import { Command } from "commander";
import { runSimulation } from "../sim/run.ts";
import { oneOf, runAction } from "./errors.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import { commandDescription } from "./command-list.ts";

interface SimFlags extends RunFlags {
  observe?: "scraped" | "oracle";
  /** Commander's `--no-fast-forward`: true unless the flag is given. */
  fastForward: boolean;
}

export function simCommand(): Command {
  const command = new Command("sim").description(commandDescription("sim"));
  return addRunOptions(command, "out/sim")
    .option("--observe <mode>", "what policies see: scraped (periodic /metrics-like snapshots) or oracle (exact state)", oneOf(["scraped", "oracle"] as const))
    .option("--no-fast-forward", "plan every engine step one by one (the decode fast-forward gives the same report, faster; docs/engine.md)")
    .action((flags: SimFlags) =>
      runAction(() =>
        runAndWrite(flags, (run) => runSimulation({ ...run, seed: flags.seed, observability: { mode: flags.observe, interval_s: flags.observeInterval }, fastForward: flags.fastForward })),
      ),
    );
}
