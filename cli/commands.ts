/** The subcommands with the module that defines each, imported only when that command runs, so that
 *  `tandem --help` and each command load only what they use (`tandem sim` never loads the plot
 *  renderer or the live host). Names and descriptions live in cli/command-list.ts. */
import type { Command } from "commander";
import { COMMAND_INFO, type CommandInfo } from "./command-list.ts";

export interface CommandEntry extends CommandInfo {
  load: () => Promise<Command>;
}

const LOADERS: Record<string, () => Promise<Command>> = {
  sim: async () => (await import("./sim-command.ts")).simCommand(),
  live: async () => (await import("./live-command.ts")).liveCommand(),
  gateway: async () => (await import("./gateway-command.ts")).gatewayCommand(),
  launch: async () => (await import("./launch-command.ts")).launchCommand(),
  parity: async () => (await import("./parity-command.ts")).parityCommand(),
  calibrate: async () => (await import("./calibrate-command.ts")).calibrateCommand(),
  compare: async () => (await import("./compare-command.ts")).compareCommand(),
  plot: async () => (await import("./plot-command.ts")).plotCommand(),
  trace: async () => (await import("./trace-command.ts")).traceCommand(),
  latency: async () => (await import("./latency-command.ts")).latencyCommand(),
  fidelity: async () => (await import("./fidelity-command.ts")).fidelityCommand(),
  presets: async () => (await import("./presets-command.ts")).presetsCommand(),
  emulate: async () => (await import("./emulate-command.ts")).emulateCommand(),
  profile: async () => (await import("./profile-command.ts")).profileCommand(),
  replay: async () => (await import("./replay-command.ts")).replayCommand(),
  explain: async () => (await import("./explain-command.ts")).explainCommand(),
};

export const COMMANDS: readonly CommandEntry[] = COMMAND_INFO.map((info) => {
  const load = LOADERS[info.name];
  if (!load) throw new Error(`cli/commands.ts: no module for command ${info.name}`);
  return { ...info, load };
});

/** The command that `args` (argv after the script) asks for: the first word, or the one after
 *  `help`. tandem's own options (--help, --version) take no value, so the first word is the command. */
export function requestedCommand(args: readonly string[]): string | undefined {
  const first = args[0];
  return first === "help" ? args[1] : first;
}
