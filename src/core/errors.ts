/** An error caused by the user's input (a trace line, a config field, a flag). The CLI prints its
 *  message on one line and exits with code 2; it never shows a stack trace. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** `where` is "file:line" or "file: field.path"; `expected` says what would have been valid. */
export function inputError(where: string, problem: string): InputError {
  return new InputError(`${where}: ${problem}`);
}

/** Broken invariant inside tandem itself (a bug, not bad input): fail loudly. The message is built
 *  eagerly, so hot paths check with a plain `if` and build it only on failure. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
