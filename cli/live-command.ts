import { Command } from "commander";
import { runLive } from "../live/run.ts";
import { positiveInteger, positiveNumber, runAction } from "./errors.ts";
import type { ServerConformance } from "../live/host/http-transport.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import { commandDescription } from "./command-list.ts";
import { InputError } from "../src/core/errors.ts";
import { addLaunchOptions, withLaunchedEngines, type EngineLaunchFlags } from "./launch-flags.ts";

interface LiveFlags extends RunFlags, EngineLaunchFlags {
  launch?: boolean;
  emulate?: boolean;
  speedup?: number;
  apiKey?: string;
  maxInFlight?: number;
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
    .option(
      "--max-in-flight <n>",
      "calls in flight per instance at most (default: the config's engine.max_num_seqs, else vLLM's default for the GPU: 1024 on ≥ 70 GiB non-A100, else 256)",
      positiveInteger,
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
            max_in_flight_per_instance: flags.maxInFlight,
          }).then((out) => {
            for (const s of out.servers) process.stderr.write(`${describeServer(s)}\n`);
            return out;
          });
        return flags.launch ? withLaunchedEngines(run.cluster, run.clusterFile, flags, (launched) => live(launched.cluster), "live") : live();
      });
    }),
  );
}

/** One line per server: what tandem found and did (docs/live.md, "vLLM generations"). */
export function describeServer(s: ServerConformance): string {
  const priority = s.priority.sent ? "priority sent" : `priority not sent (${s.priority.reason})`;
  return `tandem live: ${s.instance}: vLLM ${s.vllm_version} (${s.generation}); ${priority}; at most ${s.max_in_flight} calls in flight (${s.max_in_flight_source}); ${s.return_token_ids ? "token ids requested" : "no token ids (older server)"}`;
}
