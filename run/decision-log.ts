import { closeSync, openSync, writeSync } from "node:fs";
import { InputError } from "../src/core/errors.ts";
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

const FLUSH_BYTES = 1 << 16;

/** Numbers JSON cannot hold (an infinite rank) as tagged strings, as in the event log. */
function replacer(_key: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v;
}

/** Whether a record holds a number JSON cannot hold. Walking it is far cheaper than a replacer, which
 *  takes JSON.stringify off its fast path for every record. */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasNonFinite(item)) return true;
    return false;
  }
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** Writes a run's decision trace (`--decisions FILE`, docs/decisions.md) as JSONL: the header,
 *  then one line per decision record as the controller makes it. Buffered synchronous writes, so
 *  the trace is complete up to the last flush if a live run is killed. */
export class DecisionLogWriter {
  private readonly fd: number;
  private buffer: string[] = [];
  private bytes = 0;
  private closed = false;
  /** Records written (for tests and the bench). */
  records = 0;

  constructor(
    readonly path: string,
    header: Omit<DecisionLogHeader, "kind" | "schema" | "tandem_version">,
  ) {
    try {
      this.fd = openSync(path, "w");
    } catch (error) {
      throw new InputError(`--decisions ${path}: cannot write the decision trace (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const line: DecisionLogHeader = { kind: "run", schema: DECISION_LOG_SCHEMA, tandem_version: TANDEM_VERSION, ...header };
    this.push(JSON.stringify(line));
  }

  /** The controller's decision sink (ControllerOptions.onDecision). */
  readonly record = (record: DecisionRecord): void => {
    if (this.closed) return;
    this.records++;
    this.push(hasNonFinite(record) ? JSON.stringify(record, replacer) : JSON.stringify(record));
  };

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  private push(line: string): void {
    this.buffer.push(line);
    this.bytes += line.length + 1;
    if (this.bytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join("\n") + "\n");
    this.buffer = [];
    this.bytes = 0;
  }
}
