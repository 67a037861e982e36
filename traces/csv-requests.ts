import { columnIndexes, CsvLines, missingCell } from "./csv.ts";
import type { LineParser } from "./reader.ts";
import { clampOutput, clampPrompt, type TraceStats } from "./rows.ts";

/** What one CSV row of a request trace gives, before clamping 0-token counts. */
export interface CsvRequestRow {
  arrival_s: number;
  prompt_tokens: number;
  output_tokens: number;
}

/** A line parser for CSV request traces: finds the named columns in the header, checks each row
 *  holds them, and turns what `row` reads from it into a request (id = row index, 0-token counts
 *  clamped to 1 and counted in `stats`). `row` gets the cells, the column indexes and the row's
 *  1-based line. */
export function csvRequestParser<const N extends string>(
  path: string,
  stats: TraceStats,
  names: readonly N[],
  row: (fields: string[], columns: Record<N, number>, line: number) => CsvRequestRow,
): LineParser {
  const csv = new CsvLines(path);
  let columns: Record<N, number> | undefined;
  let width = 0;
  return {
    parse(text, line, index) {
      const fields = csv.push(text, line);
      if (!fields) return undefined;
      if (!columns) {
        columns = columnIndexes(fields, csv.line, names, path);
        width = Math.max(...names.map((name) => columns![name])) + 1;
        return undefined;
      }
      if (fields.length < width) throw missingCell(fields, csv.line, names, columns, path);
      const r = row(fields, columns, csv.line);
      return {
        id: String(index),
        arrival_s: r.arrival_s,
        prompt_tokens: clampPrompt(r.prompt_tokens, stats),
        output_tokens: clampOutput(r.output_tokens, stats),
      };
    },
    end: () => csv.end(),
  };
}
