import { Command, CommanderError } from "commander";
import { TANDEM_VERSION } from "../src/version.ts";
import { EXIT_BAD_INPUT } from "./errors.ts";
import { simCommand } from "./sim-command.ts";
import { calibrateCommand } from "./calibrate-command.ts";
import { traceCommand } from "./trace-command.ts";
import { presetsCommand } from "./presets-command.ts";
import { compareCommand } from "./compare-command.ts";
import { plotCommand } from "./plot-command.ts";
import { emulateCommand } from "./emulate-command.ts";
import { liveCommand } from "./live-command.ts";
import { gatewayCommand } from "./gateway-command.ts";
import { parityCommand } from "./parity-command.ts";
import { profileCommand } from "./profile-command.ts";
import { replayCommand } from "./replay-command.ts";

const program = new Command("tandem")
  .description("Scheduling and dispatch for multi-agent LLM serving: simulate policies on traces (docs in README.md)")
  .version(TANDEM_VERSION)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

program.addCommand(simCommand());
program.addCommand(liveCommand());
program.addCommand(gatewayCommand());
program.addCommand(parityCommand());
program.addCommand(calibrateCommand());
program.addCommand(compareCommand());
program.addCommand(plotCommand());
program.addCommand(traceCommand());
program.addCommand(presetsCommand());
program.addCommand(emulateCommand());
program.addCommand(profileCommand());
program.addCommand(replayCommand());

for (const command of program.commands) {
  command.exitOverride();
  for (const sub of command.commands) sub.exitOverride();
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; usage errors (unknown option, bad value) are bad input.
    process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
  }
  throw error;
}
