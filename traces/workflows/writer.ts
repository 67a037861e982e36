import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { writeJsonl, type JsonlSource } from "../jsonl-writer.ts";
import { workflowLine } from "./line-format.ts";
import { WORKFLOW_BATCH_SIZE } from "./reader.ts";

/** Workflows to write: batches as the reader and the arrival generator yield them, or a plain
 *  iterable (an array, a generator). */
export type WorkflowSource = JsonlSource<WorkflowSpec>;

/** Streams workflows to `path` as a tandem workflow trace (JSONL). Tool durations are written as
 *  the concrete `duration_s` each workflow holds. Returns the number of workflows written. */
export function writeWorkflowTrace(path: string, source: WorkflowSource): Promise<number> {
  return writeJsonl(path, source, workflowLine, WORKFLOW_BATCH_SIZE);
}
