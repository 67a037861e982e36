import { CommanderError, InvalidArgumentError } from "commander";
import { InputError } from "../src/core/errors.ts";

export const EXIT_BAD_INPUT = 2;

/** Runs a command action; bad input becomes one line on stderr and exit code 2, never a stack. */
export async function runAction(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`tandem: error: ${error.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    if (error instanceof CommanderError) throw error;
    process.stderr.write(`tandem: internal error (please report it): ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  }
}

/** Commander argument parsers that reject bad values with a message saying what was expected. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number > 0");
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number ≥ 0");
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected an integer ≥ 1");
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer ≥ 0");
  return n;
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(", ")}`);
    }
    return value as T;
  };
}
