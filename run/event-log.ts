import { encodeJson, JsonlFileWriter } from "./jsonl-writer.ts";
import { resolve } from "node:path";
import type { ControllerEvent } from "../src/core/events.ts";
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { TANDEM_VERSION } from "../src/version.ts";

export const EVENT_LOG_SCHEMA = "tandem.events/v1";

/** The first line of an event log: what `tandem replay` needs to build the same controller and the
 *  same report (the run's config, seed, policies, observation and workload description). */
export interface EventLogHeader {
  kind: "run";
  schema: typeof EVENT_LOG_SCHEMA;
  tandem_version: string;
  mode: "sim" | "live";
  cluster: ClusterConfig;
  /** The config's path, absolute (fitted latency files are resolved against it), or "(built-in cluster)". */
  cluster_file: string;
  seed: number;
  scheduling: PolicyChoice;
  dispatch: PolicyChoice;
  observability: { mode: "scraped" | "oracle"; interval_s: number };
  /** The report's `run.trace`, without its row count (the end line has it). */
  trace: Report["run"]["trace"];
  /** The run's `run.inputs_sha256` (absent in logs of older versions). */
  inputs_sha256?: string;
}

/** The last line: when the run ended and how many requests or workflows arrived. */
export interface EventLogEnd {
  kind: "end";
  at_s: number;
  arrived: number;
  /** Live: the one-way API latency measured to each instance before the run (instance id → model
   *  seconds), for the report's `instances[].api_latency_s`. Absent in sim logs. */
  api_latency_s?: Record<string, number>;
}

/** One line of the log, in order: the header, every event the controller received, the end. */
export type EventLogLine = EventLogHeader | { kind: "event"; event: ControllerEvent } | EventLogEnd;

export function decodeLine(text: string): unknown {
  return JSON.parse(text, (_key, v) => (v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.$number === "string" && Object.keys(v).length === 1 ? Number(v.$number) : v));
}

/** Writes a run's event log as JSONL: the header, then one line per controller event (written as the
 *  controller hears it, so a live run that dies keeps what happened), then the end line. Writes are
 *  synchronous and buffered: the log is complete up to the last flush if the process is killed. */
export class EventLogWriter {
  private readonly file: JsonlFileWriter;

  constructor(
    readonly path: string,
    header: Omit<EventLogHeader, "kind" | "schema" | "tandem_version">,
  ) {
    this.file = new JsonlFileWriter(path, "--events", "the event log");
    const line: EventLogHeader = {
      kind: "run",
      schema: EVENT_LOG_SCHEMA,
      tandem_version: TANDEM_VERSION,
      ...header,
      cluster_file: header.cluster_file.startsWith("(") ? header.cluster_file : resolve(header.cluster_file),
    };
    this.file.push(encodeJson(line));
  }

  /** The controller's event sink (ControllerOptions.onEvent). */
  readonly event = (event: ControllerEvent): void => {
    if (this.file.closed) return;
    this.file.push(`{"kind":"event","event":${encodeJson(event)}}`);
  };

  /** Writes the end line and closes the file. */
  end(at_s: number, arrived: number, api_latency_s?: ReadonlyMap<string, number>): void {
    if (this.file.closed) return;
    const line: EventLogEnd = { kind: "end", at_s, arrived };
    if (api_latency_s !== undefined) line.api_latency_s = Object.fromEntries(api_latency_s);
    this.file.push(encodeJson(line));
    this.close();
  }

  /** Closes without an end line (a run that failed): replay then reports the log as incomplete. */
  close(): void {
    this.file.close();
  }
}
