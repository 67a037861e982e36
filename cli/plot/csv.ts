/** Streaming reader for tandem's CSVs (calls.csv, workflows.csv): one record at a time, cells
 *  addressed by header name, so a 1M-row calls.csv is never held whole and added columns do not
 *  break the reader. Cells follow calls.csv's rules: quoted when they hold a comma, a quote or a
 *  newline, inner quotes doubled. */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { InputError } from "../../src/core/errors.ts";

export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  cells: string[];
}

/** Split one CSV record (which may span lines) into cells; undefined when a quote is still open. */
export function splitCsvRecord(text: string): string[] | undefined {
  if (!text.includes('"')) return text.split(",");
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  if (quoted) return undefined;
  cells.push(cell);
  return cells;
}

export class CsvFile {
  private constructor(
    readonly path: string,
    readonly columns: readonly string[],
    private readonly records: AsyncGenerator<CsvRecord>,
  ) {}

  /** Opens `path` and reads its header; `required` columns must be in it. */
  static async open(path: string, required: readonly string[]): Promise<CsvFile> {
    const records = readRecords(path);
    const first = await records.next();
    if (first.done) throw new InputError(`${path}: empty file; expected a header line`);
    const columns = first.value.cells;
    const missing = required.filter((name) => !columns.includes(name));
    if (missing.length > 0) {
      throw new InputError(`${path}:1: header lacks column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; expected tandem's CSV columns (docs/report.md)`);
    }
    return new CsvFile(path, columns, records);
  }

  /** Index of a column (−1 if absent). */
  index(name: string): number {
    return this.columns.indexOf(name);
  }

  [Symbol.asyncIterator](): AsyncGenerator<CsvRecord> {
    return this.records;
  }

  /** A cell as a number; null when empty. A cell that is not a number is an error naming the line. */
  number(record: CsvRecord, column: number): number | null {
    const text = record.cells[column];
    if (text === undefined || text === "") return null;
    const value = Number(text);
    if (!Number.isFinite(value)) {
      throw new InputError(`${this.path}:${record.line}: column ${this.columns[column]}: "${text}" is not a number`);
    }
    return value;
  }
}

async function* readRecords(path: string): AsyncGenerator<CsvRecord> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let pending = "";
  let start = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (pending === "") start = lineNo;
      const text = pending === "" ? line : `${pending}\n${line}`;
      const cells = splitCsvRecord(text);
      if (cells === undefined) {
        pending = text;
        continue;
      }
      pending = "";
      if (text === "") continue;
      yield { line: start, cells };
    }
  } catch (error) {
    throw new InputError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  } finally {
    lines.close();
    stream.destroy();
  }
  if (pending !== "") throw new InputError(`${path}:${start}: a quoted cell is never closed`);
}
