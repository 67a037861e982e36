import type { RequestSpec } from "../src/core/types.ts";
import { writeJsonl, type JsonlSource } from "./jsonl-writer.ts";
import { tandemLine } from "./tandem-schema.ts";

/** Requests to write: batches as the readers and generator yield them, or a plain iterable. */
export type RequestSource = JsonlSource<RequestSpec>;

/** Streams requests to `path` in tandem's JSONL format. Returns the number of requests written. */
export function writeTandemTrace(path: string, source: RequestSource): Promise<number> {
  return writeJsonl(path, source, tandemLine);
}
