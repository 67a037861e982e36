import { Command } from "commander";
import { runLive } from "../live/run.ts";
import { positiveNumber, runAction } from "./errors.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import { commandDescription } from "./command-list.ts";

interface LiveFlags extends RunFlags {
  emulate?: boolean;
  speedup?: number;
  apiKey?: string;
}

export function liveCommand(): Command {
  const command = new Command("live").description(commandDescription("live"));
  return addRunOptions(command, "out/live")
    .option("--emulate", "start one vLLM emulator per configured instance on a free 127.0.0.1 port (endpoints ignored)")
    .option(
      "--speedup <x>",
      "with --emulate: model seconds per wall second (10 = emulators, arrivals and tools run ten times faster than real time; reported times stay in model seconds)",
      positiveNumber,
    )
    .option("--api-key <key>", "bearer token for the servers (vLLM --api-key); default $TANDEM_API_KEY")
    .action((flags: LiveFlags) =>
      runAction(() =>
        runAndWrite(flags, (run) =>
          runLive({
            ...run,
            clusterFile: run.clusterFile,
            seed: flags.seed,
            observe_interval_s: flags.observeInterval,
            emulate: flags.emulate,
            speedup: flags.speedup,
            api_key: flags.apiKey ?? process.env.TANDEM_API_KEY,
          }),
        ),
      ),
    );
}
