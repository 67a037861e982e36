import { InputError, inputError } from "../core/errors.ts";

/** An InputError prefixed with `where` (the file and field a value came from) when the caller knows
 *  it; library callers that pass a bare value get the bare problem. */
export function inputErrorAt(where: string | undefined, problem: string): InputError {
  return where === undefined || where === "" ? new InputError(problem) : inputError(where, problem);
}

/** The location of field `name` under `where`: "cluster.yaml: instances[0]" → "cluster.yaml:
 *  instances[0].name"; a bare file name "fit.json" → "fit.json: name". */
export function fieldAt(where: string | undefined, name: string): string | undefined {
  if (where === undefined || where === "") return undefined;
  return where.includes(": ") ? `${where}.${name}` : `${where}: ${name}`;
}
