import { z } from "zod";
import type { RequestSpec } from "../src/core/types.ts";

/** One line of tandem's own request trace format (JSONL). Unknown fields are rejected so that a
 *  misspelt optional field (`tenent`) is reported instead of silently ignored. */
export const TandemSegmentSchema = z.strictObject({
  key: z.string().min(1).optional(),
  tokens: z.number().int().min(1),
});

export const TandemRequestSchema = z.strictObject({
  id: z.string().min(1).optional(),
  arrival_s: z.number().min(0),
  prompt_tokens: z.number().int().min(1),
  output_tokens: z.number().int().min(1),
  segments: z.array(TandemSegmentSchema).min(1).optional(),
  model: z.string().min(1).optional(),
  tenant: z.string().min(1).optional(),
  priority: z.number().int().optional(),
});

export type TandemRequestLine = z.infer<typeof TandemRequestSchema>;

/** What each field must hold, in the words an error message uses. */
const EXPECTED: Record<string, string> = {
  id: "a non-empty string",
  arrival_s: "a number of seconds ≥ 0",
  prompt_tokens: "an integer ≥ 1",
  output_tokens: "an integer ≥ 1",
  segments: "a non-empty array of {key?, tokens}",
  key: "a non-empty string",
  tokens: "an integer ≥ 1",
  model: "a non-empty string",
  tenant: "a non-empty string",
  priority: "an integer (lower runs first)",
};

/** The first problem zod found in `input`, as "field is VALUE; expected …". */
export function describeIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const inSegment = issue.path.length > 0;
    const known = Object.keys(inSegment ? TandemSegmentSchema.shape : TandemRequestSchema.shape).join(", ");
    const where = inSegment ? ` in ${fieldName(issue.path)}` : "";
    return `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${where}; expected only ${known}`;
  }
  let value: unknown = input;
  for (const step of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[step as PropertyKey];
  const shown = value === undefined ? "missing" : typeof value === "number" ? String(value) : JSON.stringify(value);
  const last = [...issue.path].reverse().find((p) => typeof p === "string");
  const expected = EXPECTED[String(last)] ?? issue.message;
  return `${fieldName(issue.path)} is ${shown}; expected ${expected}`;
}

function fieldName(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "") || "line"
  );
}

/** The JSON line for one request: fields in a fixed order, absent optionals left out, so that the
 *  same requests always serialise to the same bytes. */
export function tandemLine(request: RequestSpec): string {
  const line: TandemRequestLine = {
    id: request.id,
    arrival_s: request.arrival_s,
    prompt_tokens: request.prompt_tokens,
    output_tokens: request.output_tokens,
  };
  if (request.segments) {
    line.segments = request.segments.map((s) => (s.key === undefined ? { tokens: s.tokens } : { key: s.key, tokens: s.tokens }));
  }
  if (request.model !== undefined) line.model = request.model;
  if (request.tenant !== undefined) line.tenant = request.tenant;
  if (request.priority !== undefined) line.priority = request.priority;
  return JSON.stringify(line);
}
