import { inputError } from "../../src/core/errors.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { isBlank, lineChunks } from "../lines.ts";
import { ArrivalOrder } from "../rows.ts";
import { parseWorkflowLine } from "./line.ts";
import { ToolDurations } from "./tool-durations.ts";

/** Workflows per yielded batch: each holds a whole DAG, so far fewer than a request batch. */
export const WORKFLOW_BATCH_SIZE = 256;

/** The RngStreams stream that `duration` distributions of a workflow trace are drawn from. */
export const TOOL_DURATION_STREAM = "tool-durations";

export interface WorkflowReadOptions {
  /** Seeds the draws of tool `duration` distributions, so a read is reproducible. */
  seed: number;
  /** Take only the first N workflows; reading stops (and the file is closed) there. */
  limit?: number;
  /** Workflows per yielded batch (default WORKFLOW_BATCH_SIZE). */
  batch_size?: number;
}

function positiveInteger(value: number | undefined, option: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw inputError(option, `got ${value}; expected an integer ≥ 1`);
  }
}

/** Streams a tandem workflow trace (JSONL, one workflow per line) in batches. Each line is checked
 *  by the schema and by validateWorkflow; arrivals must not go back in time. Options are checked
 *  at the call; file problems surface when the first batch is pulled. */
export function readWorkflowTrace(path: string, options: WorkflowReadOptions): AsyncGenerator<WorkflowSpec[]> {
  positiveInteger(options.limit, "limit");
  positiveInteger(options.batch_size, "batch_size");
  if (!Number.isFinite(options.seed)) throw inputError("seed", `got ${options.seed}; expected a number`);
  return readLines(path, options.seed, options.limit ?? Infinity, options.batch_size ?? WORKFLOW_BATCH_SIZE);
}

async function* readLines(path: string, seed: number, limit: number, batch_size: number): AsyncGenerator<WorkflowSpec[]> {
  const durations = new ToolDurations(new RngStreams(seed).stream(TOOL_DURATION_STREAM));
  const order = new ArrivalOrder();
  let batch: WorkflowSpec[] = [];
  let count = 0;
  reading: for await (const { lines, first_line } of lineChunks(path)) {
    for (let i = 0; i < lines.length; i++) {
      if (isBlank(lines[i])) continue;
      const where = `${path}:${first_line + i}`;
      const workflow = parseWorkflowLine(lines[i], where, durations);
      order.check(workflow.arrival_s, where);
      batch.push(workflow);
      count++;
      if (count >= limit) break reading; // leaving the loop closes the file
      if (batch.length >= batch_size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (count === 0) throw inputError(path, "no usable rows; expected at least one workflow (one JSON object per line)");
  if (batch.length > 0) yield batch;
}
