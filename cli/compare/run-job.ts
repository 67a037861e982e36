/** Runs one job of a comparison and writes its folder (report.json; calls.csv and workflows.csv
 *  on request). Called inside a worker thread (compare-worker.ts); plain function, so it also runs
 *  in-process. */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import { CALLS_CSV_HEADER, callRowToCsv } from "../../src/metrics/calls-csv.ts";
import { reportToJson, type Report } from "../../src/metrics/report-schema.ts";
import { WORKFLOWS_CSV_HEADER, workflowRowToCsv } from "../../src/metrics/workflows-csv.ts";
import { BufferedFileWriter } from "../file-sink.ts";
import { runSimulation } from "../../sim/run.ts";
import { jobRunInputs, type CompareJob } from "./jobs.ts";
import { writeFileAtomic } from "./atomic-write.ts";

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
  /** The run was not run again: its folder already held a report of the same inputs (resume.ts). */
  reused?: boolean;
}

export async function runCompareJob(job: CompareJob, options: RunJobOptions): Promise<JobResult> {
  const dir = join(options.out, job.dir);
  mkdirSync(dir, { recursive: true });
  // An earlier report of this folder would vouch for the CSVs rewritten below: gone until done.
  rmSync(join(dir, "report.json"), { force: true });
  const hasWorkflows = job.workload.kind === "workflows" || job.workload.kind === "appworld" || job.workload.kind === "app";
  const calls = options.runCsv ? new BufferedFileWriter(join(dir, "calls.csv")) : undefined;
  const workflows = options.runCsv && hasWorkflows ? new BufferedFileWriter(join(dir, "workflows.csv")) : undefined;
  let open = true;
  const closeCsvs = () => {
    if (!open) return;
    open = false;
    calls?.close();
    workflows?.close();
  };
  calls?.write(CALLS_CSV_HEADER + "\n");
  workflows?.write(WORKFLOWS_CSV_HEADER + "\n");
  try {
    const { report, trace_stats } = await runSimulation({
      ...jobRunInputs(job),
      onCallClosed: calls && ((row) => calls.write(callRowToCsv(row) + "\n")),
      onWorkflowClosed: workflows && ((row) => workflows.write(workflowRowToCsv(row) + "\n")),
    });
    if (report.summary.calls.arrived === 0 && report.summary.workflows.arrived === 0) throw new InputError("workload: nothing to simulate");
    if (job.inputs_sha256 !== undefined && report.run.inputs_sha256 !== job.inputs_sha256) {
      throw new Error(`run ${job.dir}: its report's inputs_sha256 differs from the one computed before the run (a bug in tandem)`);
    }
    // CSVs are complete before the report appears, so a report means a finished run (resume.ts).
    closeCsvs();
    writeFileAtomic(join(dir, "report.json"), reportToJson(report));
    return { index: job.index, report, clamped_prompt_rows: trace_stats.clamped_prompt_rows, clamped_output_rows: trace_stats.clamped_output_rows };
  } finally {
    closeCsvs();
  }
}
