import { parse } from "csv-parse/sync";
import { z } from "zod";
import { inputError } from "../src/core/errors.ts";

/** A small CSV file (a profile): header and rows, each row with the 1-based line it starts on. */
export interface CsvTable {
  file: string;
  header: string[];
  rows: { cells: string[]; line: number }[];
}

/** Parses CSV text; blank lines are skipped, a BOM dropped. Errors name the file and line. */
export function parseCsvTable(text: string, file: string): CsvTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, bom: true }) as unknown as typeof records;
  } catch (error) {
    const e = error as Error & { lines?: number };
    throw inputError(`${file}:${e.lines ?? 1}`, `malformed CSV (${e.message}); expected comma-separated cells`);
  }
  const startLine = (r: { record: string[]; info: { lines: number } }) => r.info.lines - r.record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
  if (records.length === 0) throw inputError(file, "empty file; expected a header line and rows");
  const header = records[0].record.map((h) => h.trim());
  const headerLine = startLine(records[0]);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw inputError(`${file}:${headerLine}`, `header names column "${name}" twice`);
    seen.add(name);
  }
  return { file, header, rows: records.slice(1).map((r) => ({ cells: r.record, line: startLine(r) })) };
}

/** Checks the header: every required column present, no column outside `known` (a misspelt column
 *  would otherwise be silently ignored). */
export function checkColumns(table: CsvTable, required: readonly string[], known: readonly string[]): void {
  const where = `${table.file}:1`;
  for (const name of required) {
    if (!table.header.includes(name)) {
      throw inputError(where, `header has no column "${name}"; expected columns ${required.join(", ")} (found ${table.header.join(", ")})`);
    }
  }
  for (const name of table.header) {
    if (!known.includes(name)) throw inputError(where, `unknown column "${name}"; expected columns among ${known.join(", ")}`);
  }
}

/** The row as an object of its cells by column name; a row with too few or too many cells is an
 *  error naming the first column it lacks. */
export function rowObject(table: CsvTable, row: { cells: string[]; line: number }): Record<string, string> {
  const { header, file } = table;
  if (row.cells.length < header.length) {
    throw inputError(`${file}:${row.line}`, `column "${header[row.cells.length]}": missing; the row has ${row.cells.length} cell(s), the header ${header.length}`);
  }
  if (row.cells.length > header.length) {
    throw inputError(`${file}:${row.line}`, `the row has ${row.cells.length} cells but the header only ${header.length} columns`);
  }
  const out: Record<string, string> = {};
  header.forEach((name, i) => (out[name] = row.cells[i]));
  return out;
}

/** Parses a row object with a zod schema; the first problem becomes `file:line: column "x": …`. */
export function parseRow<S extends z.ZodType>(schema: S, object: Record<string, string>, file: string, line: number): z.output<S> {
  const parsed = schema.safeParse(object);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const column = issue.path.length > 0 ? `column "${String(issue.path[0])}": ` : "";
  throw inputError(`${file}:${line}`, `${column}${issue.message}`);
}

interface NumberCell {
  integer?: boolean;
  /** Smallest valid value (inclusive unless `exclusive`). */
  min?: number;
  exclusive?: boolean;
  max?: number;
}

function describe(spec: NumberCell): string {
  const kind = spec.integer ? "an integer" : "a number";
  const parts: string[] = [];
  if (spec.min !== undefined) parts.push(`${spec.exclusive ? ">" : "≥"} ${spec.min}`);
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  return parts.length > 0 ? `${kind} ${parts.join(" and ")}` : kind;
}

function checkNumber(text: string, spec: NumberCell, ctx: z.RefinementCtx): number {
  const t = text.trim();
  const v = Number(t);
  const ok =
    t !== "" &&
    Number.isFinite(v) &&
    (!spec.integer || Number.isSafeInteger(v)) &&
    (spec.min === undefined || (spec.exclusive ? v > spec.min : v >= spec.min)) &&
    (spec.max === undefined || v <= spec.max);
  if (!ok) {
    ctx.addIssue({ code: "custom", message: `expected ${describe(spec)}, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return v;
}

/** A required numeric cell. */
export function numberCell(spec: NumberCell = {}) {
  return z.string({ error: `missing; expected ${describe(spec)}` }).transform((text, ctx) => checkNumber(text, spec, ctx));
}

/** A numeric cell that may be empty or absent (→ undefined). */
export function optionalNumberCell(spec: NumberCell = {}) {
  return z
    .string()
    .optional()
    .transform((text, ctx) => (text === undefined || text.trim() === "" ? undefined : checkNumber(text, spec, ctx)));
}

/** A required non-empty text cell (trimmed). */
export function textCell() {
  return z
    .string({ error: "missing; expected a non-empty value" })
    .transform((s) => s.trim())
    .refine((s) => s !== "", { message: "expected a non-empty value, got an empty cell" });
}

/** A text cell that may be empty or absent (→ undefined). */
export function optionalTextCell() {
  return z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === "" ? undefined : s.trim()));
}

/** A CSV cell for `value`: quoted when it holds a comma, quote or line break. */
export function csvCell(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text = typeof value === "number" ? numberText(value) : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Shortest text that reads back as the same number (no exponent for ordinary magnitudes). */
function numberText(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`csvCell: non-finite number ${v}`);
  return String(v);
}
