/** Writes a comparison's result files — compare.csv, compare-means.csv, compare.json — from its
 *  rows. One function for a whole run and for `compare merge`, so that merging shards gives the
 *  very bytes one unsharded run writes (none of these files holds a time or a host name). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "../../src/metrics/report-schema.ts";
import { TANDEM_VERSION } from "../../src/version.ts";
import { COMPARE_SCHEMA_ID, compareCsv, compareJson, meanRows, type CompareRow } from "./results.ts";

export interface CompareOutputs {
  policies: string[];
  rates: (number | null)[];
  seeds: number[];
  /** One row per run, in grid order. */
  runs: CompareRow[];
  /** The report of the grid's first run: compare.json's `workload` comes from it. */
  first: Report;
}

export interface WrittenOutputs {
  means: CompareRow[];
  paths: { csv: string; means: string; json: string };
}

export function writeCompareOutputs(out: string, outputs: CompareOutputs): WrittenOutputs {
  const means = meanRows(outputs.runs);
  const paths = { csv: join(out, "compare.csv"), means: join(out, "compare-means.csv"), json: join(out, "compare.json") };
  writeFileSync(paths.csv, compareCsv(outputs.runs));
  writeFileSync(paths.means, compareCsv(means));
  writeFileSync(
    paths.json,
    compareJson({
      schema: COMPARE_SCHEMA_ID,
      tandem_version: TANDEM_VERSION,
      workload: { ...outputs.first.run.trace, rate: undefined },
      policies: outputs.policies,
      rates: outputs.rates,
      seeds: outputs.seeds,
      runs: outputs.runs,
      means,
    }),
  );
  return { means, paths };
}
