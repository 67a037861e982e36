import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import { CALLS_CSV_HEADER, callRowToCsv, type CallRow } from "../../src/metrics/calls-csv.ts";
import { reportToJson, type Report } from "../../src/metrics/report-schema.ts";
import type { WorkflowRow } from "../../src/metrics/workflow-recorder.ts";
import { WORKFLOWS_CSV_HEADER, workflowRowToCsv } from "../../src/metrics/workflows-csv.ts";

/** Appends text to a file through a fixed byte buffer: each row is encoded at once, so no row
 *  string outlives its call. (Holding rows as strings until a flush — RunOutput's way, right for
 *  the simulator — keeps them alive across garbage collections, and in a long-running server the
 *  collector's pauses then show in the latency percentiles.) */
class ByteWriter {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(1 << 18);
  private used = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }

  line(text: string): void {
    // Worst case 3 bytes per UTF-16 unit, plus the newline.
    if (this.used + text.length * 3 + 1 > this.buffer.length) {
      this.flush();
      if (text.length * 3 + 1 > this.buffer.length) {
        writeSync(this.fd, text + "\n");
        return;
      }
    }
    this.used += this.buffer.write(text, this.used, "utf8");
    this.buffer[this.used++] = 10;
  }

  flush(): void {
    if (this.used === 0) return;
    writeSync(this.fd, this.buffer, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** The gateway's output folder, as `tandem sim` writes it: calls.csv and workflows.csv grow in
 *  `.partial` files while the gateway serves and take their names with report.json at shutdown. */
export class GatewayOutput {
  private readonly calls: ByteWriter;
  private readonly workflows: ByteWriter;

  constructor(readonly dir: string) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`--out ${dir}: cannot create the output directory (${code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : code})`);
    }
    this.calls = new ByteWriter(join(dir, "calls.csv.partial"));
    this.calls.line(CALLS_CSV_HEADER);
    this.workflows = new ByteWriter(join(dir, "workflows.csv.partial"));
    this.workflows.line(WORKFLOWS_CSV_HEADER);
  }

  callClosed(row: CallRow): void {
    this.calls.line(callRowToCsv(row));
  }

  workflowClosed(row: WorkflowRow): void {
    this.workflows.line(workflowRowToCsv(row));
  }

  /** Writes report.json and gives the CSVs their names; returns the files written. */
  commit(report: Report): string[] {
    const files = [join(this.dir, "report.json"), join(this.dir, "calls.csv"), join(this.dir, "workflows.csv")];
    writeFileSync(files[0], reportToJson(report));
    this.calls.close();
    renameSync(this.calls.path, files[1]);
    this.workflows.close();
    renameSync(this.workflows.path, files[2]);
    return files;
  }

  /** Removes the partial files (the gateway did not start). */
  abort(): void {
    for (const writer of [this.calls, this.workflows]) {
      try {
        writer.close();
      } catch {
        // already closed
      }
      rmSync(writer.path, { force: true });
    }
  }
}
