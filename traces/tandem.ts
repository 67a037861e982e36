import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { jsonObjectLine } from "./jsonl.ts";
import { isBlank } from "./lines.ts";
import { readRequests } from "./reader.ts";
import type { ReadOptions } from "./rows.ts";
import { TandemRequestSchema, describeIssue } from "./tandem-schema.ts";

/** Reads tandem's own JSONL request format in batches (schema: TandemRequestSchema). An explicit
 *  `id` is kept; otherwise the id is the 0-based row index. */
export function readTandemTrace(path: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  return readRequests(path, options, () => ({
    parse(text, line, index) {
      if (isBlank(text)) return undefined;
      const where = `${path}:${line}`;
      const object = jsonObjectLine(text, where);
      const parsed = TandemRequestSchema.safeParse(object);
      if (!parsed.success) throw inputError(where, describeIssue(parsed.error, object));
      const row = parsed.data;
      if (row.segments) {
        let sum = 0;
        for (const s of row.segments) sum += s.tokens;
        if (sum !== row.prompt_tokens) {
          throw inputError(where, `segments hold ${sum} tokens; expected their sum to equal prompt_tokens (${row.prompt_tokens})`);
        }
      }
      // Field by field: a stable key order and no keys holding `undefined`.
      const request: RequestSpec = {
        id: row.id ?? String(index),
        arrival_s: row.arrival_s,
        prompt_tokens: row.prompt_tokens,
        output_tokens: row.output_tokens,
      };
      if (row.segments) request.segments = row.segments;
      if (row.model !== undefined) request.model = row.model;
      if (row.tenant !== undefined) request.tenant = row.tenant;
      if (row.priority !== undefined) request.priority = row.priority;
      return request;
    },
  }));
}
