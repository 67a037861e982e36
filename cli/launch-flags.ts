import type { Command } from "commander";
import { planLaunch, Supervisor, withEndpoints, type LaunchedCluster, type LaunchEvent, type LaunchFlags } from "../live/launch/index.ts";
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import { nonNegativeInteger, oneOf, positiveNumber } from "./errors.ts";

/** The launcher's flags, shared by `tandem launch`, `tandem live --launch` and `tandem gateway --launch`. */
export interface EngineLaunchFlags {
  gpus?: string;
  engine?: "vllm" | "emulate";
  engineLogs?: string;
  enginePort?: number;
  healthTimeout?: number;
}

export function addLaunchOptions(command: Command): Command {
  return command
    .option("--gpus <list>", "GPUs to hand out, tensor_parallel at a time (e.g. 0,1,2,3; default: launch.gpus, else $CUDA_VISIBLE_DEVICES, else nvidia-smi's)")
    .option("--engine <name>", "engine command template for every group: vllm or emulate (default: launch.engine, else vllm)", oneOf(["vllm", "emulate"] as const))
    .option("--engine-logs <dir>", "folder for one log file per engine (default: launch.log_dir, else out/launch)")
    .option("--engine-port <n>", "first engine port, the next instances on the next ports (default: launch.port, else 0 = free ports)", nonNegativeInteger)
    .option("--health-timeout <s>", "seconds to wait for every engine's GET /health (default: launch.health_timeout_s, else 1200)", positiveNumber);
}

export function launchFlags(flags: EngineLaunchFlags): LaunchFlags {
  return {
    ...(flags.gpus !== undefined ? { gpus: flags.gpus } : {}),
    ...(flags.engine !== undefined ? { engine: flags.engine } : {}),
    ...(flags.engineLogs !== undefined ? { log_dir: flags.engineLogs } : {}),
    ...(flags.enginePort !== undefined ? { port: flags.enginePort } : {}),
    ...(flags.healthTimeout !== undefined ? { health_timeout_s: flags.healthTimeout } : {}),
  };
}

/** One stderr line per supervisor event worth a person's attention; `verbose` adds the start-up ones. */
export function printLaunchEvent(event: LaunchEvent, verbose: boolean): void {
  const line = describeEvent(event, verbose);
  if (line !== undefined) process.stderr.write(`tandem launch: ${line}\n`);
}

function describeEvent(event: LaunchEvent, verbose: boolean): string | undefined {
  switch (event.kind) {
    case "started":
      return verbose || event.attempt > 1 ? `${event.instance}: started (pid ${event.pid ?? "?"}, attempt ${event.attempt})` : undefined;
    case "healthy":
      if (event.after_exit_s !== undefined)
        return `${event.instance}: healthy again ${event.after_exit_s.toFixed(2)} s after it died (${event.after_start_s.toFixed(2)} s after its restart)`;
      return verbose ? `${event.instance}: healthy after ${event.after_start_s.toFixed(2)} s` : undefined;
    case "exited":
      return `${event.instance}: ${event.description}`;
    case "restarting":
      return `${event.instance}: restart ${event.restart} in ${event.backoff_s} s`;
    case "gave_up":
      return `${event.instance}: gave up after ${event.restarts} restarts in a row; it stays down`;
    case "stopped":
      return verbose ? `${event.instance}: stopped` : undefined;
  }
}

/** Starts the cluster's engines, runs `run` against the config that points at them, and stops the
 *  engines afterwards — also on SIGINT/SIGTERM, which otherwise end node without its exit hooks
 *  and would leave the engines (each in its own process group) running. A `run` that handles the
 *  signals itself (the gateway drains first) calls `releaseSignals` just before it installs its
 *  own handlers; until then a signal stops the engines and exits. */
export async function withLaunchedEngines<T>(
  cluster: ClusterConfig,
  clusterFile: string | undefined,
  flags: EngineLaunchFlags,
  run: (launched: LaunchedCluster, releaseSignals: () => void) => Promise<T>,
  who: string,
): Promise<T> {
  const plan = await planLaunch(cluster, clusterFile ?? "(built-in cluster)", launchFlags(flags));
  const supervisor = new Supervisor(plan, (event) => printLaunchEvent(event, false));
  // A second signal finds stop() under way and exits at once; the exit hook SIGKILLs the groups.
  const removeHandler = onSignals(async (signal) => {
    process.stderr.write(`tandem ${who}: ${signal}: stopping the engines\n`);
    await supervisor.stop();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
  try {
    await supervisor.start();
    process.stderr.write(`tandem ${who}: ${plan.instances.length} engines healthy (logs in ${plan.log_dir})\n`);
    return await run({ plan, supervisor, cluster: withEndpoints(cluster, plan), stop: () => supervisor.stop() }, removeHandler);
  } finally {
    removeHandler();
    await supervisor.stop();
  }
}

/** Installs `handler` for SIGINT and SIGTERM; returns the function that removes it. */
export function onSignals(handler: (signal: NodeJS.Signals) => void | Promise<void>): () => void {
  const listener = (signal: NodeJS.Signals) => void handler(signal);
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}
