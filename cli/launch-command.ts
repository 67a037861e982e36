import { Command } from "commander";
import { planLaunch, shellLine, Supervisor, type LaunchPlan } from "../live/launch/index.ts";
import { loadClusterConfig } from "../run/config-file.ts";
import { DEFAULT_CLUSTER } from "../src/model/cluster-schema.ts";
import { shellQuote } from "../live/launch/template.ts";
import { runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";
import { addLaunchOptions, launchFlags, onSignals, printLaunchEvent, type EngineLaunchFlags } from "./launch-flags.ts";

interface LaunchCommandFlags extends EngineLaunchFlags {
  config?: string;
  print?: boolean;
}

export function launchCommand(): Command {
  const command = new Command("launch")
    .description(commandDescription("launch"))
    .option("--config <file>", "cluster config, YAML or JSON, with an optional launch section (docs/launch.md); default 4 × llama-3.1-8b on h100-80gb")
    .option("--print", "print each engine's command, environment, GPUs, port and log file, and start nothing");
  return addLaunchOptions(command).action((flags: LaunchCommandFlags) => runAction(() => runLaunch(flags)));
}

async function runLaunch(flags: LaunchCommandFlags): Promise<void> {
  const cluster = flags.config ? await loadClusterConfig(flags.config) : DEFAULT_CLUSTER;
  const plan = await planLaunch(cluster, flags.config ?? "(built-in cluster)", launchFlags(flags));
  if (flags.print) {
    process.stdout.write(printedPlan(plan));
    return;
  }
  const supervisor = new Supervisor(plan, (event) => printLaunchEvent(event, true));
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const remove = onSignals((signal) => {
      remove();
      resolve(signal);
    });
  });
  let signal: NodeJS.Signals | undefined;
  void stopped.then((s) => {
    signal = s;
    process.stderr.write(`tandem launch: ${s}: stopping every engine\n`);
    return supervisor.stop();
  });
  await supervisor.start();
  if (signal === undefined) {
    process.stdout.write(`tandem launch: ${plan.instances.length} engine${plan.instances.length === 1 ? "" : "s"} healthy; SIGINT or SIGTERM stops them\n`);
    for (const s of supervisor.status()) {
      const gpus = plan.instances.find((i) => i.id === s.id)?.gpus ?? [];
      process.stdout.write(`  ${s.id}  ${s.url}  pid ${s.pid ?? "?"}  GPUs ${gpus.length > 0 ? gpus.join(",") : "none"}  log ${s.log_file}\n`);
    }
  }
  await stopped;
  await supervisor.stop();
}

/** Per instance: a comment line saying where it runs, then the command as a shell would take it. */
export function printedPlan(plan: LaunchPlan): string {
  const lines: string[] = [];
  for (const i of plan.instances) {
    lines.push(`# ${i.id}: ${i.url}, GPUs ${i.gpus.length > 0 ? i.gpus.join(",") : "none"}, log ${i.log_file}${i.instance_config ? `, config ${i.instance_config.path}` : ""}`);
    const env = Object.entries(i.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    lines.push([...env, shellLine(i.argv)].join(" "));
  }
  return `${lines.join("\n")}\n`;
}
