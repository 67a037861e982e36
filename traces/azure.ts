import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { cell, columnIndexes, CsvLines } from "./csv.ts";
import { parseAzureTimestamp, secondsBetween, type SplitTimestamp } from "./azure-timestamp.ts";
import { readRequests, type LineParser } from "./reader.ts";
import { clampOutput, clampPrompt, countCell, type ReadOptions, type TraceStats } from "./rows.ts";

const COLUMNS = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"] as const;

/** Reads an Azure LLM inference trace (CSV `TIMESTAMP,ContextTokens,GeneratedTokens`) in batches.
 *  arrival_s is seconds since the first row's timestamp; 0-token rows are clamped to 1 token. */
export function readAzureTrace(path: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  return readRequests(path, options, (stats) => azureParser(path, stats));
}

function azureParser(path: string, stats: TraceStats): LineParser {
  const csv = new CsvLines(path);
  let columns: Record<(typeof COLUMNS)[number], number> | undefined;
  let origin: SplitTimestamp | undefined;
  return {
    parse(text, line, index) {
      const row = csv.push(text, line);
      if (!row) return undefined;
      if (!columns) {
        columns = columnIndexes(row, COLUMNS, path);
        return undefined;
      }
      const where = `${path}:${row.line}`;
      const stamp = cell(row, columns.TIMESTAMP, "TIMESTAMP", path);
      const t = parseAzureTimestamp(stamp);
      if (!t) {
        throw inputError(where, `TIMESTAMP is ${JSON.stringify(stamp)}; expected UTC "YYYY-MM-DD HH:MM:SS.fffffff"`);
      }
      origin ??= t;
      const prompt = countCell(cell(row, columns.ContextTokens, "ContextTokens", path), "ContextTokens", where);
      const output = countCell(cell(row, columns.GeneratedTokens, "GeneratedTokens", path), "GeneratedTokens", where);
      return {
        id: String(index),
        arrival_s: secondsBetween(origin, t),
        prompt_tokens: clampPrompt(prompt, stats),
        output_tokens: clampOutput(output, stats),
      };
    },
    end: () => csv.end(),
  };
}
