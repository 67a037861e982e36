import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { CALLS_CSV_HEADER, callRowToCsv, type CallRow } from "../src/metrics/calls-csv.ts";
import { reportToJson, type Report } from "../src/metrics/report-schema.ts";
import type { WorkflowRow } from "../src/metrics/workflow-recorder.ts";
import { WORKFLOWS_CSV_HEADER, workflowRowToCsv } from "../src/metrics/workflows-csv.ts";
import { BufferedFileWriter } from "./file-sink.ts";

/** A run's output folder: calls.csv (and workflows.csv) stream into temporary `.partial` files
 *  while the run goes and take their names only when it succeeds, with report.json; a run that
 *  fails leaves no half-written files next to an older report. */
export class RunOutput {
  private readonly calls: BufferedFileWriter;
  private readonly workflows: BufferedFileWriter | undefined;

  constructor(
    readonly dir: string,
    withWorkflows: boolean,
  ) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`--out ${dir}: cannot create the output directory (${code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : code})`);
    }
    this.calls = new BufferedFileWriter(join(dir, "calls.csv.partial"));
    this.calls.write(CALLS_CSV_HEADER + "\n");
    this.workflows = withWorkflows ? new BufferedFileWriter(join(dir, "workflows.csv.partial")) : undefined;
    this.workflows?.write(WORKFLOWS_CSV_HEADER + "\n");
  }

  readonly onCallClosed = (row: CallRow) => this.calls.write(callRowToCsv(row) + "\n");

  get onWorkflowClosed(): ((row: WorkflowRow) => void) | undefined {
    const workflows = this.workflows;
    return workflows && ((row) => workflows.write(workflowRowToCsv(row) + "\n"));
  }

  /** Writes report.json and gives the CSVs their names; returns the files written. */
  commit(report: Report): string[] {
    const files = [join(this.dir, "report.json"), join(this.dir, "calls.csv")];
    writeFileSync(files[0], reportToJson(report));
    this.calls.close();
    renameSync(this.calls.path, files[1]);
    if (this.workflows) {
      this.workflows.close();
      files.push(join(this.dir, "workflows.csv"));
      renameSync(this.workflows.path, files[2]);
    }
    return files;
  }

  /** Removes the partial files of a failed run. */
  abort(): void {
    for (const writer of [this.calls, this.workflows]) {
      if (!writer) continue;
      try {
        writer.close();
      } catch {
        // already closed
      }
      rmSync(writer.path, { force: true });
    }
  }
}
