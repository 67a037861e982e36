import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { csvRequestParser } from "./csv-requests.ts";
import { readRequests } from "./reader.ts";
import { countCell, parseNumber, type ReadOptions } from "./rows.ts";

const COLUMNS = ["arrived_at", "num_prefill_tokens", "num_decode_tokens"] as const;

/** Reads a Vidur / Splitwise processed trace (CSV with at least `arrived_at` in seconds,
 *  `num_prefill_tokens` and `num_decode_tokens`, found by header name; other columns are ignored)
 *  in batches. arrival_s is `arrived_at` as written (not shifted to start at 0); 0-token rows are
 *  clamped to 1 token. */
export function readVidurTrace(path: string, options: ReadOptions = {}): AsyncGenerator<RequestSpec[]> {
  return readRequests(path, options, (stats) =>
    csvRequestParser(path, stats, COLUMNS, (fields, columns, line) => {
      const arrival_s = parseNumber(fields[columns.arrived_at], "arrived_at", path, line);
      if (arrival_s < 0) throw inputError(`${path}:${line}`, `arrived_at is ${arrival_s}; expected seconds ≥ 0`);
      return {
        arrival_s,
        prompt_tokens: countCell(fields[columns.num_prefill_tokens], "num_prefill_tokens", path, line),
        output_tokens: countCell(fields[columns.num_decode_tokens], "num_decode_tokens", path, line),
      };
    }),
  );
}
