import { Command, CommanderError, Help } from "commander";
import { TANDEM_VERSION } from "../src/version.ts";
import { EXIT_BAD_INPUT } from "./errors.ts";
import { COMMANDS, requestedCommand } from "./commands.ts";

const program = new Command("tandem")
  .description("Scheduling and dispatch for multi-agent LLM serving: simulate policies on traces (docs in README.md)")
  .version(TANDEM_VERSION)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  // A subcommand's options belong to it: `compare merge DIR --out X` must give --out to merge, not
  // to compare (commander needs this on every level above the nested command).
  .enablePositionalOptions()
  // The commands not running are stand-ins with a name and a description; list them as the full ones.
  .configureHelp({ subcommandTerm: (command) => COMMANDS.find((c) => c.name === command.name())?.term ?? new Help().subcommandTerm(command) });

// Only the command that runs is imported; the rest are listed for --help and for commander's
// unknown-command suggestions.
const requested = requestedCommand(process.argv.slice(2));
for (const entry of COMMANDS) {
  program.addCommand(entry.name === requested ? await entry.load() : new Command(entry.name).description(entry.description));
}

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
