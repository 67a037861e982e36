/** calls.csv: one row per LLM call, written by the host as the recorder closes each call. */
import type { CallStatus } from "../core/types.ts";

/** Everything known about one closed call. `null` = not applicable (e.g. no first token for a
 *  rejected call); it becomes an empty cell. */
export interface CallRow {
  call_id: string;
  status: CallStatus;
  /** Why it failed or was rejected; null when finished. */
  reason: string | null;
  /** Instance of the last dispatch; null if never dispatched. */
  instance: string | null;
  /** Model the call asked for; null = any. */
  model: string | null;
  tenant: string | null;
  arrival_s: number;
  dispatched_s: number | null;
  first_token_s: number | null;
  /** When the call closed, whatever its status. */
  finished_s: number;
  queue_s: number | null;
  ttft_s: number | null;
  tpot_s: number | null;
  e2e_s: number | null;
  prompt_tokens: number;
  cached_tokens: number | null;
  output_tokens: number | null;
  preemptions: number | null;
  /** The workflow agent that made the call (`app/agent`); null outside workflows. Last column, so
   *  readers that address cells by header name are unaffected. */
  agent: string | null;
}

export const CALLS_CSV_COLUMNS = [
  "call_id",
  "status",
  "reason",
  "instance",
  "model",
  "tenant",
  "arrival_s",
  "dispatched_s",
  "first_token_s",
  "finished_s",
  "queue_s",
  "ttft_s",
  "tpot_s",
  "e2e_s",
  "prompt_tokens",
  "cached_tokens",
  "output_tokens",
  "preemptions",
  "agent",
] as const satisfies readonly (keyof CallRow)[];

/** Header line, without a line terminator (the writer adds "\n" after every line). */
export const CALLS_CSV_HEADER = CALLS_CSV_COLUMNS.join(",");

/** One data line, without a line terminator. */
export function callRowToCsv(row: CallRow): string {
  let line = "";
  for (let i = 0; i < CALLS_CSV_COLUMNS.length; i++) {
    if (i > 0) line += ",";
    line += csvCell(row[CALLS_CSV_COLUMNS[i]]);
  }
  return line;
}

/** One CSV cell: empty for null, numbers as formatCsvNumber, strings quoted when needed. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value === "number") return formatCsvNumber(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** At most 9 decimals (nanoseconds), trailing zeros trimmed: the same double always prints the
 *  same way, and sub-nanosecond noise from float arithmetic does not leak into diffs. */
export function formatCsvNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`calls.csv: cannot write non-finite number ${value}`);
  if (Number.isSafeInteger(value)) return value === 0 ? "0" : String(value); // token counts: the common case
  const text = value.toFixed(9);
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (text.charCodeAt(end - 1) === 46 /* . */) end--;
  const trimmed = text.slice(0, end);
  return trimmed === "-0" ? "0" : trimmed;
}
