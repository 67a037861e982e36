import type { RequestSpec } from "../src/core/types.ts";
import { lineChunks } from "./lines.ts";
import { ArrivalOrder, noUsableRows, readPlan, type ReadOptions, type TraceStats } from "./rows.ts";

/** What a format contributes to a reader: turning one line into a request. */
export interface LineParser {
  /** The request on this line (`index` is its 0-based row number, the default id), or undefined for
   *  a line that holds none (a header, a blank line, part of a multi-line record). */
  parse(text: string, line: number, index: number): RequestSpec | undefined;
  /** Called after the last line (not when `limit` stopped reading early). */
  end?(): void;
}

/** The loop every reader shares: stream lines, parse each one lazily (so a bad line after `limit`
 *  is never looked at), check arrival order, batch, stop and close the file at `limit`, and
 *  reject a trace with no requests. */
export async function* readRequests(path: string, options: ReadOptions, makeParser: (stats: TraceStats) => LineParser): AsyncGenerator<RequestSpec[]> {
  const plan = readPlan(options);
  const parser = makeParser(plan.stats);
  const order = new ArrivalOrder();
  let batch: RequestSpec[] = [];
  let count = 0;
  reading: for await (const { lines, first_line } of lineChunks(path)) {
    for (let i = 0; i < lines.length; i++) {
      const line = first_line + i;
      const request = parser.parse(lines[i], line, count);
      if (request === undefined) continue;
      order.check(request.arrival_s, `${path}:${line}`);
      batch.push(request);
      count++;
      plan.stats.rows++;
      if (count >= plan.limit) break reading; // leaving the loop closes the file
      if (batch.length >= plan.batch_size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (count < plan.limit) parser.end?.();
  if (count === 0) throw noUsableRows(path);
  if (batch.length > 0) yield batch;
}
