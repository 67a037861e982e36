import { Command } from "commander";
import { runLive } from "../live/run.ts";
import { positiveNumber, runAction } from "./errors.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import { commandDescription } from "./command-list.ts";
import { InputError } from "../src/core/errors.ts";
import { addLaunchOptions, withLaunchedEngines, type EngineLaunchFlags } from "./launch-flags.ts";

interface LiveFlags extends RunFlags, EngineLaunchFlags {
  launch?: boolean;
  emulate?: boolean;
  speedup?: number;
  apiKey?: string;
}

export function liveCommand(): Command {
  const command = new Command("live").description(commandDescription("live"));
  addRunOptions(command, "out/live")
    .option("--launch", "start the config's engines first (tandem launch; its flags below) and run against them (docs/launch.md)")
    .option("--emulate", "start one vLLM emulator per configured instance on a free 127.0.0.1 port (endpoints ignored)")
    .option(
      "--speedup <x>",
      "with --emulate: model seconds per wall second (10 = emulators, arrivals and tools run ten times faster than real time; reported times stay in model seconds)",
      positiveNumber,
    )
    .option("--api-key <key>", "bearer token for the servers (vLLM --api-key); default $TANDEM_API_KEY");
  return addLaunchOptions(command).action((flags: LiveFlags) =>
    runAction(() => {
      if (flags.launch && flags.emulate) throw new InputError("--launch and --emulate: pick one (--launch --engine emulate runs emulators as processes)");
      return runAndWrite(flags, (run) => {
        const live = (cluster = run.cluster) =>
          runLive({
            ...run,
            cluster,
            clusterFile: run.clusterFile,
            seed: flags.seed,
            observe_interval_s: flags.observeInterval,
            emulate: flags.emulate,
            speedup: flags.speedup,
            api_key: flags.apiKey ?? process.env.TANDEM_API_KEY,
          });
        return flags.launch ? withLaunchedEngines(run.cluster, run.clusterFile, flags, (launched) => live(launched.cluster), "live") : live();
      });
    }),
  );
}
