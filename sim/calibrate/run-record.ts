import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError, inputError } from "../../src/core/errors.ts";
import type { PromptSegment } from "../../src/core/types.ts";
import { ClusterConfigSchema, type ClusterConfig } from "../../src/model/cluster-schema.ts";
import { decodeLine } from "../../run/event-log.ts";
import { parseCsvTable, rowObject } from "../../traces/csv-table.ts";

/** One finished call of a recorded run, as its instance served it. */
export interface RunCall {
  id: string;
  instance: string;
  /** When the router sent it (model seconds); the engine got it one API latency later. */
  dispatched_s: number;
  first_token_s: number;
  finished_s: number;
  prompt_tokens: number;
  output_tokens: number;
  /** The prompt's segments from the event log (shared prefixes); absent: one unique segment. */
  segments?: PromptSegment[];
  /** calls.csv row order, for the holdout (every k-th call). */
  row: number;
}

/** What `tandem calibrate --from-run DIR` reads of a run's output folder. */
export interface RecordedRun {
  dir: string;
  cluster: ClusterConfig;
  /** Per instance: the one-way API latency measured before the run (model seconds; 0 if unknown). */
  api_latency_s: Map<string, number>;
  calls: RunCall[];
  /** Rows of calls.csv that were not finished (failed, rejected): not fitted. */
  skipped: number;
  /** Where the prompts' segments came from. */
  segments_from: "events" | "calls.csv";
}

const NEEDED = ["call_id", "status", "instance", "dispatched_s", "first_token_s", "finished_s", "prompt_tokens", "output_tokens"] as const;

/** Reads DIR/report.json (the cluster config and API latencies), DIR/calls.csv (each call's
 *  instance, dispatch, first-token and finish times, token counts) and, when given or present as
 *  DIR/events.jsonl, the run's event log (the prompts' segments, so prefix-cache hits replay). */
export function readRecordedRun(dir: string, eventsFile?: string): RecordedRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--from-run ${dir}: not a folder; expected the --out folder of a tandem live (or sim) run`);
  const reportPath = join(dir, "report.json");
  const callsPath = join(dir, "calls.csv");
  for (const p of [reportPath, callsPath]) if (!existsSync(p)) throw new InputError(`--from-run ${dir}: no ${p.slice(dir.length + 1)}; expected a run's report.json and calls.csv`);
  let report: { run?: { config?: unknown }; instances?: { id?: string; api_latency_s?: number }[] };
  try {
    report = JSON.parse(readFileSync(reportPath, "utf8"));
  } catch (error) {
    throw inputError(reportPath, `not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ClusterConfigSchema.safeParse(report.run?.config);
  if (!parsed.success) throw inputError(`${reportPath}: run.config`, "missing or not a cluster config; expected a tandem.report/v1 written by tandem live or sim");
  const api_latency_s = new Map<string, number>();
  for (const i of report.instances ?? []) if (typeof i.id === "string") api_latency_s.set(i.id, i.api_latency_s ?? 0);

  const table = parseCsvTable(readFileSync(callsPath, "utf8"), callsPath);
  for (const name of NEEDED) if (!table.header.includes(name)) throw inputError(`${callsPath}:1`, `header has no column "${name}"; expected tandem's calls.csv (docs/report.md)`);
  const calls: RunCall[] = [];
  let skipped = 0;
  for (const [row, r] of table.rows.entries()) {
    const o = rowObject(table, r);
    if (o.status !== "finished" || o.first_token_s === "" || o.dispatched_s === "" || o.instance === "") {
      skipped++;
      continue;
    }
    const num = (name: string): number => {
      const v = Number(o[name]);
      if (o[name] === "" || !Number.isFinite(v) || v < 0) throw inputError(`${callsPath}:${r.line}`, `column "${name}": "${o[name]}"; expected a number ≥ 0`);
      return v;
    };
    calls.push({
      id: o.call_id,
      instance: o.instance,
      dispatched_s: num("dispatched_s"),
      first_token_s: num("first_token_s"),
      finished_s: num("finished_s"),
      prompt_tokens: num("prompt_tokens"),
      output_tokens: num("output_tokens"),
      row,
    });
  }
  if (calls.length === 0) throw inputError(callsPath, "no finished calls; expected a run whose calls completed");

  const events = eventsFile ?? (existsSync(join(dir, "events.jsonl")) ? join(dir, "events.jsonl") : undefined);
  if (events !== undefined) attachSegments(events, calls);
  return { dir, cluster: parsed.data, api_latency_s, calls, skipped, segments_from: events !== undefined ? "events" : "calls.csv" };
}

/** Takes each call's segments from the event log's callArrived events. */
function attachSegments(path: string, calls: RunCall[]): void {
  if (!existsSync(path)) throw new InputError(`--events ${path}: file not found`);
  const byId = new Map(calls.map((c) => [c.id, c]));
  const lines = readFileSync(path, "utf8").split("\n");
  for (const [i, text] of lines.entries()) {
    if (text.trim() === "") continue;
    let record: { kind?: string; event?: { kind?: string; call?: { id: string; segments?: PromptSegment[]; prompt_tokens: number } } };
    try {
      record = decodeLine(text) as typeof record;
    } catch (error) {
      throw inputError(`${path}:${i + 1}`, `not valid JSON: ${(error as Error).message}; expected an event log written with --events`);
    }
    const call = record.kind === "event" && record.event?.kind === "callArrived" ? record.event.call : undefined;
    const c = call !== undefined ? byId.get(call.id) : undefined;
    if (c !== undefined && call?.segments !== undefined && call.prompt_tokens === c.prompt_tokens) c.segments = call.segments;
  }
}
