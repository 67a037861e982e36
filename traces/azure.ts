import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { parseAzureTimestampInto, secondsBetween, type SplitTimestamp } from "./azure-timestamp.ts";
import { csvRequestParser } from "./csv-requests.ts";
import { readRequests, type LineParser } from "./reader.ts";
import { countCell, type ReadOptions, type TraceStats } from "./rows.ts";

const COLUMNS = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"] as const;

/** Reads an Azure LLM inference trace (CSV `TIMESTAMP,ContextTokens,GeneratedTokens`) in batches.
 *  arrival_s is seconds since the first row's timestamp; 0-token rows are clamped to 1 token. */
export function readAzureTrace(path: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  return readRequests(path, options, (stats) => azureParser(path, stats));
}

function azureParser(path: string, stats: TraceStats): LineParser {
  let origin: SplitTimestamp | undefined;
  const t: SplitTimestamp = { whole_s: 0, fraction_s: 0 };
  return csvRequestParser(path, stats, COLUMNS, (fields, columns, line) => {
    const stamp = fields[columns.TIMESTAMP];
    if (!parseAzureTimestampInto(stamp, t)) {
      throw inputError(`${path}:${line}`, `TIMESTAMP is ${JSON.stringify(stamp)}; expected UTC "YYYY-MM-DD HH:MM:SS.fffffff"`);
    }
    origin ??= { ...t };
    return {
      arrival_s: secondsBetween(origin, t),
      prompt_tokens: countCell(fields[columns.ContextTokens], "ContextTokens", path, line),
      output_tokens: countCell(fields[columns.GeneratedTokens], "GeneratedTokens", path, line),
    };
  });
}
