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

/** The first problem zod found, as "field: what was wrong". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  return field ? `${field}: ${issue.message}` : issue.message;
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
