/** Reading a run's outputs for `tandem explain`: the decision trace (JSONL) filtered to some calls,
 *  and their calls.csv / workflows.csv rows. Files are streamed, never held whole. */
import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { InputError } from "../../src/core/errors.ts";
import type { DecisionRecord } from "../../src/core/decisions.ts";
import { CsvFile } from "../plot/csv.ts";

/** The records of `calls`, or of every call of `workflow`, in the order they were made. */
export async function readDecisions(path: string, match: { call?: string; workflow?: string }): Promise<DecisionRecord[]> {
  if (!existsSync(path)) throw new InputError(`${path}: no decision trace; run with --decisions ${path} (docs/decisions.md)`);
  const out: DecisionRecord[] = [];
  const stream = createReadStream(path, { encoding: "utf8" });
  let line = 0;
  // A cheap text filter first: most lines are about other calls.
  const needle = match.call !== undefined ? `"call":${JSON.stringify(match.call)}` : `"workflow":${JSON.stringify(match.workflow)}`;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (line === 1) {
      if (!text.includes('"schema":"tandem.decisions/v1"')) throw new InputError(`${path}:1: expected a decision trace (schema tandem.decisions/v1) written with --decisions`);
      continue;
    }
    if (!text.includes(needle)) continue;
    let record: DecisionRecord;
    try {
      record = JSON.parse(text, (_k, v) => (v !== null && typeof v === "object" && typeof v.$number === "string" ? Number(v.$number) : v)) as DecisionRecord;
    } catch (error) {
      throw new InputError(`${path}:${line}: not valid JSON (${(error as Error).message})`);
    }
    if (match.call !== undefined ? record.call === match.call : record.workflow === match.workflow) out.push(record);
  }
  return out;
}

/** Rows of a CSV whose `key` column is one of `ids`, as column → text. */
export async function readRows(path: string, key: string, ids: ReadonlySet<string>): Promise<Map<string, Record<string, string>>> {
  const rows = new Map<string, Record<string, string>>();
  if (!existsSync(path)) return rows;
  const csv = await CsvFile.open(path, [key]);
  const k = csv.index(key);
  for await (const record of csv) {
    if (!ids.has(record.cells[k])) continue;
    rows.set(record.cells[k], Object.fromEntries(csv.columns.map((c, i) => [c, record.cells[i] ?? ""])));
  }
  return rows;
}
