import { parse } from "csv-parse/sync";
import { inputError } from "../src/core/errors.ts";
import { isBlank } from "./lines.ts";

/** Turns CSV lines into records. Plain lines (no `"`) are split on commas — the common case in
 *  traces, and several times faster than a general parser; a line with quotes, with any
 *  continuation lines of a quoted line break, goes to csv-parse. Blank lines are skipped. */
export class CsvLines {
  private pending = ""; // a quoted record still open at the end of a line
  private pending_line = 0;
  /** The 1-based line on which the record last returned by push() starts (the header is line 1). */
  line = 0;

  constructor(private readonly path: string) {}

  /** The cells of the record that ends on this line, if one does. */
  push(text: string, line: number): string[] | undefined {
    if (this.pending !== "") {
      this.pending += "\n" + text;
      if (!quotesBalanced(this.pending)) return undefined;
      const fields = this.parseQuoted(this.pending, this.pending_line);
      this.line = this.pending_line;
      this.pending = "";
      return fields;
    }
    if (text.indexOf('"') < 0) {
      if (isBlank(text)) return undefined;
      this.line = line;
      return text.split(",");
    }
    if (quotesBalanced(text)) {
      this.line = line;
      return this.parseQuoted(text, line);
    }
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
export function columnIndexes<const N extends string>(header: string[], line: number, names: readonly N[], path: string): Record<N, number> {
  const found = header.map((f) => f.trim());
  const indexes = {} as Record<N, number>;
  for (const name of names) {
    const index = found.indexOf(name);
    if (index < 0) {
      throw inputError(`${path}:${line}`, `header has no column "${name}"; expected columns ${names.join(", ")} (found ${found.join(", ")})`);
    }
    indexes[name] = index;
  }
  return indexes;
}

/** The error for a row too short to hold every needed column, naming the first one it lacks. */
export function missingCell<const N extends string>(fields: string[], line: number, names: readonly N[], columns: Record<N, number>, path: string): Error {
  const missing = names.find((name) => columns[name] >= fields.length) ?? names[0];
  return inputError(`${path}:${line}`, `row has ${fields.length} cell(s), no "${missing}"; expected a value in every column`);
}
