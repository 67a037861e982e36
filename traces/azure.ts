import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { columnIndexes, CsvLines, missingCell } from "./csv.ts";
import { parseAzureTimestampInto, secondsBetween, type SplitTimestamp } from "./azure-timestamp.ts";
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
  let width = 0;
  let origin: SplitTimestamp | undefined;
  const t: SplitTimestamp = { whole_s: 0, fraction_s: 0 };
  return {
    parse(text, line, index) {
      const fields = csv.push(text, line);
      if (!fields) return undefined;
      if (!columns) {
        columns = columnIndexes(fields, csv.line, COLUMNS, path);
        width = Math.max(columns.TIMESTAMP, columns.ContextTokens, columns.GeneratedTokens) + 1;
        return undefined;
      }
      if (fields.length < width) throw missingCell(fields, csv.line, COLUMNS, columns, path);
      const stamp = fields[columns.TIMESTAMP];
      if (!parseAzureTimestampInto(stamp, t)) {
        throw inputError(`${path}:${csv.line}`, `TIMESTAMP is ${JSON.stringify(stamp)}; expected UTC "YYYY-MM-DD HH:MM:SS.fffffff"`);
      }
      origin ??= { ...t };
      const prompt = countCell(fields[columns.ContextTokens], "ContextTokens", path, csv.line);
      const output = countCell(fields[columns.GeneratedTokens], "GeneratedTokens", path, csv.line);
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
