import { parse } from "csv-parse/sync";
import { inputError } from "../src/core/errors.ts";
import { isBlank } from "./lines.ts";

/** One CSV record and the 1-based file line it starts on (the header is line 1). */
export interface CsvRow {
  fields: string[];
  line: number;
}

/** Turns CSV lines into records. Plain lines (no `"`) are split on commas — the common case in
 *  traces, and several times faster than a general parser; a line with quotes, with any
 *  continuation lines of a quoted line break, goes to csv-parse. Blank lines are skipped. */
export class CsvLines {
  private pending = ""; // a quoted record still open at the end of a line
  private pending_line = 0;

  constructor(private readonly path: string) {}

  /** The record that ends on this line, if any. */
  push(text: string, line: number): CsvRow | undefined {
    if (this.pending !== "") {
      this.pending += "\n" + text;
      if (!quotesBalanced(this.pending)) return undefined;
      const row = { fields: this.parseQuoted(this.pending, this.pending_line), line: this.pending_line };
      this.pending = "";
      return row;
    }
    if (text.indexOf('"') < 0) return isBlank(text) ? undefined : { fields: text.split(","), line };
    if (quotesBalanced(text)) return { fields: this.parseQuoted(text, line), line };
    this.pending = text;
    this.pending_line = line;
    return undefined;
  }

  /** Rejects a file that ends inside a quoted cell. */
  end(): void {
    if (this.pending !== "") {
      throw inputError(`${this.path}:${this.pending_line}`, `quoted cell never closed; expected a matching '"'`);
    }
  }

  private parseQuoted(text: string, line: number): string[] {
    let records: string[][];
    try {
      records = parse(text, { relax_column_count: true });
    } catch (err) {
      throw inputError(`${this.path}:${line}`, `malformed CSV (${(err as Error).message}); expected comma-separated cells`);
    }
    if (records.length !== 1) throw inputError(`${this.path}:${line}`, "malformed CSV; expected one record");
    return records[0];
  }
}

function quotesBalanced(text: string): boolean {
  let count = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) count++;
  return count % 2 === 0;
}

/** Finds each named column in the header; a missing one is an error that lists what was found. */
export function columnIndexes<const N extends string>(
  header: CsvRow,
  names: readonly N[],
  path: string,
): Record<N, number> {
  const found = header.fields.map((f) => f.trim());
  const indexes = {} as Record<N, number>;
  for (const name of names) {
    const index = found.indexOf(name);
    if (index < 0) {
      throw inputError(
        `${path}:${header.line}`,
        `header has no column "${name}"; expected columns ${names.join(", ")} (found ${found.join(", ")})`,
      );
    }
    indexes[name] = index;
  }
  return indexes;
}

/** The cell at `index`, or an error naming the line when the row is too short. */
export function cell(row: CsvRow, index: number, column: string, path: string): string {
  const value = row.fields[index];
  if (value === undefined) {
    throw inputError(
      `${path}:${row.line}`,
      `row has ${row.fields.length} cell(s), no "${column}"; expected a value in every column`,
    );
  }
  return value;
}
