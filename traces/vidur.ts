import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { columnIndexes, CsvLines, missingCell } from "./csv.ts";
import { readRequests, type LineParser } from "./reader.ts";
import { clampOutput, clampPrompt, countCell, parseNumber, type ReadOptions, type TraceStats } from "./rows.ts";

const COLUMNS = ["arrived_at", "num_prefill_tokens", "num_decode_tokens"] as const;

/** Reads a Vidur / Splitwise processed trace (CSV with at least `arrived_at` in seconds,
 *  `num_prefill_tokens` and `num_decode_tokens`, found by header name; other columns are ignored)
 *  in batches. arrival_s is `arrived_at` as written (not shifted to start at 0); 0-token rows are
 *  clamped to 1 token. */
export function readVidurTrace(path: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  return readRequests(path, options, (stats) => vidurParser(path, stats));
}

function vidurParser(path: string, stats: TraceStats): LineParser {
  const csv = new CsvLines(path);
  let columns: Record<(typeof COLUMNS)[number], number> | undefined;
  let width = 0;
  return {
    parse(text, line, index) {
      const fields = csv.push(text, line);
      if (!fields) return undefined;
      if (!columns) {
        columns = columnIndexes(fields, csv.line, COLUMNS, path);
        width = Math.max(columns.arrived_at, columns.num_prefill_tokens, columns.num_decode_tokens) + 1;
        return undefined;
      }
      if (fields.length < width) throw missingCell(fields, csv.line, COLUMNS, columns, path);
      const arrival_s = parseNumber(fields[columns.arrived_at], "arrived_at", path, csv.line);
      if (arrival_s < 0) throw inputError(`${path}:${csv.line}`, `arrived_at is ${arrival_s}; expected seconds ≥ 0`);
      const prompt = countCell(fields[columns.num_prefill_tokens], "num_prefill_tokens", path, csv.line);
      const output = countCell(fields[columns.num_decode_tokens], "num_decode_tokens", path, csv.line);
      return {
        id: String(index),
        arrival_s,
        prompt_tokens: clampPrompt(prompt, stats),
        output_tokens: clampOutput(output, stats),
      };
    },
    end: () => csv.end(),
  };
}
