import { inputError } from "../src/core/errors.ts";

/** Default number of requests per yielded batch: big enough that per-batch awaits are negligible,
 *  small enough that a lazy consumer holds little memory. */
export const BATCH_SIZE = 4096;

/** Counters a reader fills in while it streams, for reports and warnings. */
export interface TraceStats {
  /** Rows turned into requests. */
  rows: number;
  /** Rows whose prompt token count was 0 in the file and was clamped to 1. */
  clamped_prompt_rows: number;
  /** Rows whose output token count was 0 in the file and was clamped to 1. */
  clamped_output_rows: number;
}

export function emptyStats(): TraceStats {
  return { rows: 0, clamped_prompt_rows: 0, clamped_output_rows: 0 };
}

export interface ReadOptions {
  /** Take only the first N rows; reading stops (and the file is closed) once they are read. */
  limit?: number;
  /** Requests per yielded batch (default BATCH_SIZE). */
  batch_size?: number;
  /** Filled in while reading; read it after the stream ends. */
  stats?: TraceStats;
}

/** Checked options with defaults applied. */
export interface ReadPlan {
  limit: number;
  batch_size: number;
  stats: TraceStats;
}

export function readPlan(options: ReadOptions = {}): ReadPlan {
  const { limit, batch_size } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw inputError("limit", `got ${limit}; expected an integer ≥ 1`);
  }
  if (batch_size !== undefined && !(Number.isInteger(batch_size) && batch_size >= 1)) {
    throw inputError("batch_size", `got ${batch_size}; expected an integer ≥ 1`);
  }
  return {
    limit: limit ?? Infinity,
    batch_size: batch_size ?? BATCH_SIZE,
    stats: options.stats ?? emptyStats(),
  };
}

/** Parses a CSV cell as a finite number; `what` names the column in the error. The error's
 *  location is built only on failure, keeping the per-row path free of allocations. */
export function parseNumber(text: string, what: string, path: string, line: number): number {
  const value = Number(text);
  // Number("") and Number(" ") are 0, which would silently accept an empty cell.
  if (!Number.isFinite(value) || (value === 0 && text.trim() === "")) {
    throw inputError(`${path}:${line}`, `${what} is ${JSON.stringify(text)}; expected a number`);
  }
  return value;
}

/** A token count as a real-world trace records it: an integer ≥ 0. */
export function tokenCount(value: unknown, what: string, path: string, line: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    const shown = value === undefined ? "missing" : JSON.stringify(value);
    throw inputError(`${path}:${line}`, `${what} is ${shown}; expected an integer ≥ 0`);
  }
  return value;
}

/** A CSV cell holding a token count (integer ≥ 0). */
export function countCell(text: string, what: string, path: string, line: number): number {
  return tokenCount(parseNumber(text, what, path, line), what, path, line);
}

/** Real logs contain rows with 0 prompt or 0 generated tokens (cancelled or empty calls). Every
 *  simulated request needs at least one of each, so 0 becomes 1 and the row is counted. */
export function clampPrompt(tokens: number, stats: TraceStats): number {
  if (tokens > 0) return tokens;
  stats.clamped_prompt_rows++;
  return 1;
}

export function clampOutput(tokens: number, stats: TraceStats): number {
  if (tokens > 0) return tokens;
  stats.clamped_output_rows++;
  return 1;
}

/** Rejects rows that go back in time: the simulator consumes arrivals in order. */
export class ArrivalOrder {
  private previous_s = -Infinity;

  check(arrival_s: number, where: string): void {
    if (arrival_s < this.previous_s) {
      throw inputError(where, `arrival ${arrival_s} s is earlier than the previous row's ${this.previous_s} s; ` + `expected rows in non-decreasing arrival order`);
    }
    this.previous_s = arrival_s;
  }
}

export function noUsableRows(path: string): Error {
  return inputError(path, "no usable rows; expected at least one request");
}
