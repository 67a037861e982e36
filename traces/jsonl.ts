import { inputError } from "../src/core/errors.ts";

/** Parses one JSON-lines line into a plain object, or explains what was wrong with it. */
export function jsonObjectLine(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw inputError(where, `not valid JSON (${(err as Error).message}); expected one JSON object per line`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw inputError(where, `line is ${kind}; expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
