import { Command } from "commander";
import { runLive } from "../live/run.ts";
import { positiveInteger, positiveNumber, runAction } from "./errors.ts";
import type { ServerConformance } from "../live/host/http-transport.ts";
import { addRunOptions, runAndWrite, type RunFlags } from "./run-flags.ts";
import { commandDescription } from "./command-list.ts";

interface LiveFlags extends RunFlags {
  emulate?: boolean;
  speedup?: number;
  apiKey?: string;
  maxInFlight?: number;
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
    .option(
      "--max-in-flight <n>",
      "calls in flight per instance at most (default: the config's engine.max_num_seqs, else vLLM's default for the GPU: 1024 on ≥ 70 GiB non-A100, else 256)",
      positiveInteger,
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
            max_in_flight_per_instance: flags.maxInFlight,
          }).then((out) => {
            for (const s of out.servers) process.stderr.write(`${describeServer(s)}\n`);
            return out;
          }),
        ),
      ),
    );
}

/** One line per server: what tandem found and did (docs/live.md, "vLLM generations"). */
export function describeServer(s: ServerConformance): string {
  const priority = s.priority.sent ? "priority sent" : `priority not sent (${s.priority.reason})`;
  return `tandem live: ${s.instance}: vLLM ${s.vllm_version} (${s.generation}); ${priority}; at most ${s.max_in_flight} calls in flight (${s.max_in_flight_source}); ${s.return_token_ids ? "token ids requested" : "no token ids (older server)"}`;
}
