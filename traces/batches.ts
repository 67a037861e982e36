import { BATCH_SIZE } from "./rows.ts";

/** Groups a synchronous sequence into arrays of up to `size`, as an async stream: the shape the
 *  simulator pulls arrivals in, whatever produced them (a generator, an array). */
export async function* batchesOf<T>(items: Iterable<T>, size: number = BATCH_SIZE): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
