/** Resuming a comparison: a run whose folder already holds a report.json with the inputs hash this
 *  run would record (and, with --run-csv, its CSVs) is not run again; its report is reused. A report
 *  is written last and atomically (write, then rename), so its presence means the run finished. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseReportJson, type Report } from "../../src/metrics/report-schema.ts";
import type { CompareJob } from "./jobs.ts";
import type { JobResult } from "./run-job.ts";

/** The run's earlier report when it can stand for this run; undefined when the run must run. */
export function reusableReport(dir: string, job: CompareJob, runCsv: boolean): Report | undefined {
  if (job.inputs_sha256 === undefined) return undefined;
  const path = join(dir, "report.json");
  if (!existsSync(path)) return undefined;
  let report: Report;
  try {
    report = parseReportJson(readFileSync(path, "utf8"), path);
  } catch {
    return undefined; // unreadable or from an incompatible version: run again
  }
  if (report.run.inputs_sha256 !== job.inputs_sha256) return undefined;
  if (runCsv && !existsSync(join(dir, "calls.csv"))) return undefined;
  if (runCsv && report.summary.workflows.arrived > 0 && !existsSync(join(dir, "workflows.csv"))) return undefined;
  return report;
}

/** The jobs whose reports can be reused (as results, read here in the main thread: no worker starts
 *  for them) and the jobs that must run. */
export function splitReusable(jobs: readonly CompareJob[], out: string, runCsv: boolean): { reused: JobResult[]; toRun: CompareJob[] } {
  const reused: JobResult[] = [];
  const toRun: CompareJob[] = [];
  for (const job of jobs) {
    const report = reusableReport(join(out, job.dir), job, runCsv);
    if (report) reused.push({ index: job.index, report, clamped_prompt_rows: 0, clamped_output_rows: 0, reused: true });
    else toRun.push(job);
  }
  return { reused, toRun };
}
