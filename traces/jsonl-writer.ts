import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { batchesOf } from "./batches.ts";
import { fileError } from "./io.ts";

/** Items to write: batches as the readers and generators yield them, or a plain iterable. */
export type JsonlSource<T> = AsyncIterable<T[]> | Iterable<T>;

/** Streams items to `path`, one JSON line each (`line` formats one), one batch per write and
 *  honouring back-pressure, so files of any length can be written. Returns the number written. */
export async function writeJsonl<T>(path: string, source: JsonlSource<T>, line: (item: T) => string, batch_size?: number): Promise<number> {
  const batches: AsyncIterable<readonly T[]> = Symbol.asyncIterator in source ? source : batchesOf(source, batch_size);
  const out = createWriteStream(path);
  let failure: unknown;
  out.on("error", (err) => (failure ??= err));
  let count = 0;
  try {
    await once(out, "open");
    for await (const batch of batches) {
      if (failure) break;
      let text = "";
      for (const item of batch) text += line(item) + "\n";
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
