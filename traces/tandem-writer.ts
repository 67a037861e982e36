import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { RequestSpec } from "../src/core/types.ts";
import { batchesOf } from "./batches.ts";
import { fileError } from "./io.ts";
import { tandemLine } from "./tandem-schema.ts";

/** Requests to write: batches as the readers and generator yield them, or a plain iterable. */
export type RequestSource = AsyncIterable<RequestSpec[]> | Iterable<RequestSpec>;

function asBatches(source: RequestSource): AsyncIterable<readonly RequestSpec[]> {
  return Symbol.asyncIterator in source ? source : batchesOf(source);
}

/** Streams requests to `path` in tandem's JSONL format, one batch per write and honouring
 *  back-pressure, so traces of any length can be written. Returns the number of requests written. */
export async function writeTandemTrace(path: string, source: RequestSource): Promise<number> {
  const out = createWriteStream(path);
  let failure: unknown;
  out.on("error", (err) => (failure ??= err));
  let count = 0;
  try {
    await once(out, "open");
    for await (const batch of asBatches(source)) {
      if (failure) break;
      let text = "";
      for (const request of batch) text += tandemLine(request) + "\n";
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
