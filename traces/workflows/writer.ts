import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { batchesOf } from "../batches.ts";
import { fileError } from "../io.ts";
import { workflowLine } from "./line-format.ts";
import { WORKFLOW_BATCH_SIZE } from "./reader.ts";

/** Workflows to write: batches as the reader and the arrival generator yield them, or a plain
 *  iterable (an array, a generator). */
export type WorkflowSource = AsyncIterable<WorkflowSpec[]> | Iterable<WorkflowSpec>;

function asBatches(source: WorkflowSource): AsyncIterable<readonly WorkflowSpec[]> {
  return Symbol.asyncIterator in source ? source : batchesOf(source, WORKFLOW_BATCH_SIZE);
}

/** Streams workflows to `path` as a tandem workflow trace (JSONL), one batch per write, honouring
 *  back-pressure. Tool durations are written as the concrete `duration_s` each workflow holds.
 *  Returns the number of workflows written. */
export async function writeWorkflowTrace(path: string, source: WorkflowSource): Promise<number> {
  const out = createWriteStream(path);
  let failure: unknown;
  out.on("error", (err) => (failure ??= err));
  let count = 0;
  try {
    await once(out, "open");
    for await (const batch of asBatches(source)) {
      if (failure) break;
      let text = "";
      for (const workflow of batch) text += workflowLine(workflow) + "\n";
      count += batch.length;
      if (!out.write(text)) await once(out, "drain");
    }
  } catch (err) {
    failure ??= err;
  }
  if (!out.destroyed) {
    out.end();
    await once(out, "close").catch((err) => (failure ??= err));
  }
  if (failure) throw fileError(path, failure, true);
  return count;
}
