/** The command line of this `compare` again, for the scripts `--emit` writes: every option the user
 *  gave on the command line, as commander parsed it, except those the script sets itself. */
import type { Command } from "commander";

export function rerunArgs(command: Command, exclude: ReadonlySet<string>): string[] {
  const values = command.opts();
  const args: string[] = [];
  for (const option of command.options) {
    const key = option.attributeName();
    if (exclude.has(key) || command.getOptionValueSource(key) !== "cli") continue;
    const value = values[key];
    if (option.negate) {
      if (value === false) args.push(option.long!);
    } else if (!option.required && !option.optional) {
      if (value === true) args.push(option.long!);
    } else if (Array.isArray(value)) {
      for (const item of value) args.push(option.long!, String(item));
    } else {
      args.push(option.long!, String(value));
    }
  }
  return args;
}

/** `text` as one POSIX shell word. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=+@%,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
