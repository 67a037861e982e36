import { readFile } from "node:fs/promises";
import { z } from "zod";
import { InputError, inputError } from "../src/core/errors.ts";
import { checkColumns, csvCell, numberCell, optionalNumberCell, optionalTextCell, parseCsvTable, parseRow, rowObject, textCell } from "./csv-table.ts";

/** tandem's profile CSV (docs/calibration.md): one row per request measured in a profiling sweep of
 *  static batches — `batch_size` requests with unique prompts sent together to an idle server, each
 *  with a fixed output length. Times in seconds. Column order is free; unknown columns are errors. */
export const PROFILE_REQUIRED_COLUMNS = [
  "model",
  "gpu",
  "tensor_parallel",
  "batch_id",
  "batch_size",
  "request_index",
  "prompt_tokens",
  "output_tokens",
  "ttft_s",
  "tpot_s",
  "e2e_s",
] as const;

export const PROFILE_OPTIONAL_COLUMNS = [
  "max_num_batched_tokens",
  "max_num_seqs",
  "cached_tokens",
  "preemptions",
  "server_running",
  "server_waiting",
  "server_kv_usage",
  "started_at",
  "engine_version",
] as const;

/** Every column, in the order `formatProfileCsv` writes them. */
export const PROFILE_COLUMNS = [...PROFILE_REQUIRED_COLUMNS, ...PROFILE_OPTIONAL_COLUMNS] as const;

const count = (min: number) => numberCell({ integer: true, min });
const optionalCount = (min: number) => optionalNumberCell({ integer: true, min });

/** One row of a profile CSV, as read (cells parsed) and as written. */
export const profileRowSchema = z.object({
  /** Model served, as the server names it (resolved to a preset name when it is one). */
  model: textCell(),
  /** GPU the server runs on (nvidia-smi's name is fine). */
  gpu: textCell(),
  tensor_parallel: count(1),
  /** Identifies one static batch: rows with the same batch_id were sent together. */
  batch_id: textCell(),
  /** Requests in the batch; the file holds one row for each. */
  batch_size: count(1),
  /** Position of the request in the batch's submission order, 0 … batch_size − 1. */
  request_index: count(0),
  prompt_tokens: count(1),
  /** Tokens the request generated (usage.completion_tokens). */
  output_tokens: count(1),
  /** Submission to first token. */
  ttft_s: numberCell({ min: 0, exclusive: true }),
  /** Mean gap between output tokens, (e2e_s − ttft_s) / (output_tokens − 1); empty when
   *  output_tokens is 1. */
  tpot_s: optionalNumberCell({ min: 0, exclusive: true }),
  /** Submission to last token. */
  e2e_s: numberCell({ min: 0, exclusive: true }),
  /** The server's token budget per step (vLLM --max-num-batched-tokens); empty = unchunked (the
   *  whole batch's prompts fit one step). */
  max_num_batched_tokens: optionalCount(1),
  /** The server's sequence limit per step (vLLM --max-num-seqs); empty = batch_size. */
  max_num_seqs: optionalCount(1),
  /** Prompt tokens served from the prefix cache (usage.prompt_tokens_details.cached_tokens). */
  cached_tokens: optionalCount(0),
  /** Times the server preempted the request, when known. */
  preemptions: optionalCount(0),
  /** Server state scraped from /metrics just before the batch was sent. */
  server_running: optionalCount(0),
  server_waiting: optionalCount(0),
  server_kv_usage: optionalNumberCell({ min: 0, max: 1 }),
  /** When the batch was sent (ISO 8601), for the record. */
  started_at: optionalTextCell(),
  /** Server software and version, e.g. "vllm 0.10.1", for the record. */
  engine_version: optionalTextCell(),
});

export type ProfileRow = z.output<typeof profileRowSchema>;

/** A row read from a file, with the line it came from. */
export interface ProfileRowAt {
  row: ProfileRow;
  line: number;
}

/** Parses profile CSV text. Errors name the file, the line and the column, and say what was
 *  expected: `profile.csv:7: column "ttft_s": expected a number > 0, got "abc"`. */
export function parseProfileCsv(text: string, file: string): ProfileRowAt[] {
  const table = parseCsvTable(text, file);
  checkColumns(table, PROFILE_REQUIRED_COLUMNS, PROFILE_COLUMNS);
  return table.rows.map((r) => {
    const row = parseRow(profileRowSchema, rowObject(table, r), file, r.line);
    const where = `${file}:${r.line}`;
    if (row.request_index >= row.batch_size) {
      throw inputError(where, `column "request_index": expected an integer below batch_size ${row.batch_size}, got ${row.request_index}`);
    }
    if (row.e2e_s < row.ttft_s) throw inputError(where, `column "e2e_s": expected a time ≥ ttft_s (${row.ttft_s}), got ${row.e2e_s}`);
    if (row.output_tokens >= 2) {
      const implied = (row.e2e_s - row.ttft_s) / (row.output_tokens - 1);
      const shown = +implied.toPrecision(6);
      if (row.tpot_s === undefined) throw inputError(where, `column "tpot_s": missing; expected (e2e_s − ttft_s) / (output_tokens − 1) = ${shown}`);
      if (Math.abs(row.tpot_s - implied) > 0.01 * implied + 1e-6) {
        throw inputError(where, `column "tpot_s": expected (e2e_s − ttft_s) / (output_tokens − 1) = ${shown} (within 1%), got ${row.tpot_s}`);
      }
    } else if (row.tpot_s !== undefined) {
      throw inputError(where, `column "tpot_s": expected an empty cell for a one-token output, got ${row.tpot_s}`);
    }
    return { row, line: r.line };
  });
}

export async function readProfileCsv(path: string): Promise<ProfileRowAt[]> {
  return parseProfileCsv(await readText(path), path);
}

export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new InputError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** The header line `formatProfileCsv` writes. */
export const PROFILE_CSV_HEADER = PROFILE_COLUMNS.join(",");

/** One row as a CSV line (no line break), columns in PROFILE_COLUMNS order. */
export function profileRowToCsv(row: ProfileRow): string {
  return PROFILE_COLUMNS.map((c) => csvCell(row[c])).join(",");
}

/** A whole profile CSV (header, rows, final line break). */
export function formatProfileCsv(rows: readonly ProfileRow[]): string {
  return [PROFILE_CSV_HEADER, ...rows.map(profileRowToCsv)].join("\n") + "\n";
}
