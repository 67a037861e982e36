import { encodeJson, JsonlFileWriter } from "./jsonl-writer.ts";
import type { DecisionRecord } from "../src/core/decisions.ts";
import { TANDEM_VERSION } from "../src/version.ts";

export const DECISION_LOG_SCHEMA = "tandem.decisions/v1";

/** The first line of a decision trace: which policies decided, over which instances. */
export interface DecisionLogHeader {
  kind: "run";
  schema: typeof DECISION_LOG_SCHEMA;
  tandem_version: string;
  mode: "sim" | "live";
  scheduling: string;
  dispatch: string;
  instances: string[];
}

/** Writes a run's decision trace (`--decisions FILE`, docs/decisions.md) as JSONL: the header,
 *  then one line per decision record as the controller makes it. Buffered synchronous writes, so
 *  the trace is complete up to the last flush if a live run is killed. */
export class DecisionLogWriter {
  private readonly file: JsonlFileWriter;
  /** Records written (for tests and the bench). */
  records = 0;

  constructor(
    readonly path: string,
    header: Omit<DecisionLogHeader, "kind" | "schema" | "tandem_version">,
  ) {
    this.file = new JsonlFileWriter(path, "--decisions", "the decision trace");
    const line: DecisionLogHeader = { kind: "run", schema: DECISION_LOG_SCHEMA, tandem_version: TANDEM_VERSION, ...header };
    this.file.push(JSON.stringify(line));
  }

  /** The controller's decision sink (ControllerOptions.onDecision). */
  readonly record = (record: DecisionRecord): void => {
    if (this.file.closed) return;
    this.records++;
    this.file.push(encodeJson(record));
  };

  close(): void {
    this.file.close();
  }
}
