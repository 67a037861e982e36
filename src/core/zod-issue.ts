import type { z } from "zod";
import { inputError, type InputError } from "./errors.ts";

/** `coefficients.per_kv_token_s`, `instances[2].gpu`: a zod issue path as a user writes the field. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The first problem zod found, as an InputError naming the file and the field. `where` is a file
 *  ("cluster.yaml") or a file and the field the document sits at ("cluster.yaml: instances[0]"). */
export function zodInputError(where: string, error: z.ZodError): InputError {
  const issue = error.issues[0];
  const field = fieldPath(issue.path);
  if (field === "") return inputError(where, issue.message);
  const joiner = !where.includes(": ") ? ": " : field.startsWith("[") ? "" : ".";
  return inputError(`${where}${joiner}${field}`, issue.message);
}
