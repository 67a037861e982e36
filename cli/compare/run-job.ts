/** Runs one job of a comparison and writes its folder (report.json; calls.csv and workflows.csv
 *  on request). Called inside a worker thread (compare-worker.ts); plain function, so it also runs
 *  in-process. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import { CALLS_CSV_HEADER, callRowToCsv } from "../../src/metrics/calls-csv.ts";
import { reportToJson, type Report } from "../../src/metrics/report-schema.ts";
import { WORKFLOWS_CSV_HEADER, workflowRowToCsv } from "../../src/metrics/workflows-csv.ts";
import { BufferedFileWriter } from "../file-sink.ts";
import { runSimulation } from "../../sim/run.ts";
import type { CompareJob } from "./jobs.ts";

export interface RunJobOptions {
  /** The comparison's output folder; the run writes under `out/job.dir`. */
  out: string;
  /** Also write the run's calls.csv (and workflows.csv for workflow workloads). */
  runCsv: boolean;
}

export interface JobResult {
  index: number;
  report: Report;
  /** Trace rows with 0 prompt or output tokens that were counted as 1 (for the CLI's note). */
  clamped_prompt_rows: number;
  clamped_output_rows: number;
}

export async function runCompareJob(job: CompareJob, options: RunJobOptions): Promise<JobResult> {
  const dir = join(options.out, job.dir);
  mkdirSync(dir, { recursive: true });
  const hasWorkflows = job.workload.kind === "workflows" || job.workload.kind === "appworld" || job.workload.kind === "app";
  const calls = options.runCsv ? new BufferedFileWriter(join(dir, "calls.csv")) : undefined;
  const workflows = options.runCsv && hasWorkflows ? new BufferedFileWriter(join(dir, "workflows.csv")) : undefined;
  calls?.write(CALLS_CSV_HEADER + "\n");
  workflows?.write(WORKFLOWS_CSV_HEADER + "\n");
  try {
    const { report, trace_stats } = await runSimulation({
      cluster: job.cluster,
      clusterFile: job.clusterFile,
      workload: job.workload,
      scheduling: job.scheduling,
      dispatch: job.dispatch,
      seed: job.seed,
      observability: job.observability,
      onCallClosed: calls && ((row) => calls.write(callRowToCsv(row) + "\n")),
      onWorkflowClosed: workflows && ((row) => workflows.write(workflowRowToCsv(row) + "\n")),
    });
    if (report.summary.calls.arrived === 0 && report.summary.workflows.arrived === 0) throw new InputError("workload: nothing to simulate");
    writeFileSync(join(dir, "report.json"), reportToJson(report));
    return { index: job.index, report, clamped_prompt_rows: trace_stats.clamped_prompt_rows, clamped_output_rows: trace_stats.clamped_output_rows };
  } finally {
    calls?.close();
    workflows?.close();
  }
}
