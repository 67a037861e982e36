import type { z } from "zod";
import type { InputError } from "../../src/core/errors.ts";
import { fieldAt, inputErrorAt } from "./where.ts";

/** `coefficients.per_kv_token_s`, `items[2].name`: a zod issue path as a user would write the field. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The first problem zod found, as an InputError naming the file (or config location) and the field. */
export function zodInputError(where: string | undefined, error: z.ZodError): InputError {
  const issue = error.issues[0];
  const field = fieldPath(issue.path);
  const at = field === "" ? where : (fieldAt(where, field) ?? field);
  return inputErrorAt(at, issue.message);
}
