import { inputError } from "../../src/core/errors.ts";
import { parseAzureTimestampInto, secondsBetween, type SplitTimestamp } from "../azure-timestamp.ts";
import { columnIndexes, CsvLines } from "../csv.ts";
import { lineChunks } from "../lines.ts";
import { ArrivalOrder } from "../rows.ts";

/** Arrival times from the TIMESTAMP column of an Azure-format CSV, Kairos-style: keep every
 *  `sample_interval`-th row (rows 0, k, 2k, … of the data), and let each kept row stand for
 *  `scale_factor` arrivals at its time. Times are seconds since the first kept row. Streams the
 *  file, yielding one array of times per chunk of lines; other columns are neither needed nor read. */
export async function* sampledTimestamps(path: string, sample_interval: number, scale_factor: number): AsyncGenerator<number[]> {
  const csv = new CsvLines(path);
  const order = new ArrivalOrder();
  const t: SplitTimestamp = { whole_s: 0, fraction_s: 0 };
  let column = -1;
  let origin: SplitTimestamp | undefined;
  let row = 0;
  let kept = 0;
  for await (const { lines, first_line } of lineChunks(path)) {
    const times: number[] = [];
    for (let i = 0; i < lines.length; i++) {
      const fields = csv.push(lines[i], first_line + i);
      if (!fields) continue;
      if (column < 0) {
        column = columnIndexes(fields, csv.line, ["TIMESTAMP"], path).TIMESTAMP;
        continue;
      }
      if (row++ % sample_interval !== 0) continue;
      const stamp = fields[column];
      if (stamp === undefined || !parseAzureTimestampInto(stamp, t)) {
        throw inputError(`${path}:${csv.line}`, `TIMESTAMP is ${stamp === undefined ? "missing" : JSON.stringify(stamp)}; expected UTC "YYYY-MM-DD HH:MM:SS.fffffff"`);
      }
      origin ??= { ...t };
      const arrival_s = secondsBetween(origin, t);
      order.check(arrival_s, `${path}:${csv.line}`);
      for (let c = 0; c < scale_factor; c++) times.push(arrival_s);
      kept++;
    }
    if (times.length > 0) yield times;
  }
  csv.end();
  if (kept === 0) throw inputError(path, "no usable rows; expected a header with TIMESTAMP and at least one timestamp row");
}
