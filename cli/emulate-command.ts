import { Command } from "commander";
import { startEmulator, DEFAULT_MAX_TOKENS } from "../live/emulator/index.ts";
import { InputError } from "../src/core/errors.ts";
import { nonNegativeInteger, nonNegativeNumber, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";

interface EmulateFlags {
  model?: string;
  gpu?: string;
  tensorParallel?: number;
  config?: string;
  latency?: string;
  host: string;
  port: number;
  speedup: number;
  maxWaiting?: number;
  servedModelName?: string;
  defaultMaxTokens: number;
  wakeLatency?: number;
  spinMs: number;
  vllmVersion?: string;
}

export function emulateCommand(): Command {
  return new Command("emulate")
    .description(commandDescription("emulate"))
    .option("--model <name>", "model preset (tandem presets); required unless --config names one")
    .option("--gpu <name>", "GPU preset; required unless --config names one")
    .option("--tensor-parallel <n>", "GPUs per instance (default: config, else 1)", positiveInteger)
    .option("--config <file>", "cluster config: engine and latency settings of its first instance group")
    .option("--latency <file>", "fitted latency model JSON (default: config, else the roofline)")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on; 0 picks a free one", nonNegativeInteger, 8000)
    .option("--speedup <x>", "model seconds per wall second (10 = ten times faster than real time)", positiveNumber, 1)
    .option("--max-waiting <n>", "waiting requests beyond this get HTTP 429 (default: unbounded, as vLLM; a config's max_waiting is not applied)", positiveInteger)
    .option("--served-model-name <name>", "model name of the API (default: the model preset's name)")
    .option("--default-max-tokens <n>", `output tokens of a request without max_tokens`, positiveInteger, DEFAULT_MAX_TOKENS)
    .option("--wake-latency <s>", "model seconds /wake_up takes (default: config lifecycle.sleep.wake_latency_s, else 2)", nonNegativeNumber)
    .option("--spin-ms <ms>", "wall ms before a step's end spent polling instead of in a timer (precision vs CPU; 0 = off)", nonNegativeNumber, 1)
    .option("--vllm-version <v>", "vLLM release to imitate: its metric names, priority handling, error texts (default 0.11.0; e.g. 0.6.3 for V0, 0.8.5 for early V1)")
    .action((flags: EmulateFlags) => runAction(() => runEmulate(flags)));
}

async function runEmulate(flags: EmulateFlags): Promise<void> {
  if (flags.port > 65535) throw new InputError(`--port: ${flags.port} is not a port; expected 0 to 65535`);
  let emulator;
  try {
    emulator = await startEmulator({
      model: flags.model,
      gpu: flags.gpu,
      tensorParallel: flags.tensorParallel,
      configFile: flags.config,
      latencyFile: flags.latency,
      host: flags.host,
      port: flags.port,
      speedup: flags.speedup,
      maxWaiting: flags.maxWaiting,
      servedModelName: flags.servedModelName,
      defaultMaxTokens: flags.defaultMaxTokens,
      wakeLatency_s: flags.wakeLatency,
      spinMs: flags.spinMs,
      vllmVersion: flags.vllmVersion,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw new InputError(`--host ${flags.host} --port ${flags.port}: cannot listen (${code})`);
    }
    throw error;
  }
  const server = emulator;
  process.stdout.write(`tandem emulate: serving ${server.servedModelName} on ${server.url} (speedup ${server.speedup})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void server.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
