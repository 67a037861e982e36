import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Controller, type ControllerState } from "../src/core/controller.ts";
import { InputError } from "../src/core/errors.ts";
import type { ControllerEvent } from "../src/core/events.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { decodeLine, EVENT_LOG_SCHEMA, type EventLogEnd, type EventLogHeader } from "./event-log.ts";
import { runReport } from "./report.ts";
import { controllerOptions, setupRun, type RunHooks, type RunSetup } from "./setup.ts";

export interface ReplayOptions extends RunHooks {
  /** Stop before the first event after this time and return the controller's state instead. */
  until_s?: number;
  /** Write the replayed run's decision trace here (the same as the run's own `--decisions`). */
  decisions?: string;
}

export type ReplayResult = { kind: "report"; report: Report; events: number; header: EventLogHeader } | { kind: "state"; state: ControllerState; events: number; header: EventLogHeader };

/** Drives a fresh controller — built from the log's header exactly as the run built its own — with
 *  every event of a run's event log, and builds the run's report (byte-identical to the run's own),
 *  or, with `until_s`, stops there and returns what the controller knew at that moment. */
export async function replayEventLog(path: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const lines = readLines(path);
  const first = await lines.next();
  if (first.done) throw new InputError(`${path}: empty; expected an event log written with --events`);
  const header = parseHeader(path, first.value.text);
  const setup = await setupRun(
    {
      cluster: header.cluster,
      clusterFile: header.cluster_file,
      workload: { kind: "recorded", trace: header.trace },
      scheduling: header.scheduling,
      dispatch: header.dispatch,
      seed: header.seed,
      observability: header.observability,
      inputs_sha256: header.inputs_sha256,
      onCallClosed: options.onCallClosed,
      onWorkflowClosed: options.onWorkflowClosed,
      ...(options.decisions !== undefined ? { decisions: options.decisions } : {}),
    },
    header.mode,
  );
  const controller = new Controller(controllerOptions(setup));
  try {
    return await drive(path, header, lines, controller, options, setup);
  } finally {
    setup.decisionLog?.close();
    await lines.return(undefined); // closes the file when --until stopped early
  }
}

async function drive(
  path: string,
  header: EventLogHeader,
  lines: AsyncGenerator<{ text: string; line: number }>,
  controller: Controller,
  options: ReplayOptions,
  setup: RunSetup,
): Promise<ReplayResult> {
  let events = 0;
  let end: EventLogEnd | undefined;
  for await (const { text, line } of lines) {
    const record = parseRecord(path, line, text);
    if (record.kind === "end") {
      end = record;
      break;
    }
    const event = record.event;
    if (options.until_s !== undefined && event.at_s > options.until_s) {
      return { kind: "state", state: controller.state(), events, header };
    }
    try {
      controller.handle(event);
    } catch (error) {
      throw new InputError(
        `${path}:${line}: the controller refused this ${event.kind} event (${(error as Error).message}); was the log written by another tandem version (${header.tandem_version})?`,
      );
    }
    controller.drain(); // the run's host carried these out; their effects are the events that follow
    events++;
  }
  if (options.until_s !== undefined) return { kind: "state", state: controller.state(), events, header };
  if (end === undefined) throw new InputError(`${path}: no end line: the run did not finish (replay with --until T to inspect it)`);
  const report = runReport({
    mode: header.mode,
    setup,
    arrived: end.arrived,
    agents: controller.agentSummaries(),
    models: controller.trafficSnapshot(end.at_s),
    ...(end.api_latency_s !== undefined ? { api_latency_s: new Map(Object.entries(end.api_latency_s)) } : {}),
  });
  return { kind: "report", report, events, header };
}

/** The header of an event log (what run it records), read without replaying it. */
export async function readEventLogHeader(path: string): Promise<EventLogHeader> {
  const lines = readLines(path);
  try {
    const first = await lines.next();
    if (first.done) throw new InputError(`${path}: empty; expected an event log written with --events`);
    return parseHeader(path, first.value.text);
  } finally {
    await lines.return(undefined);
  }
}

async function* readLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", (error: NodeJS.ErrnoException) => reject(new InputError(`${path}: cannot read the event log (${error.code ?? error.message})`)));
  });
  await opened;
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (text.trim() !== "") yield { text, line };
  }
}

function parse(path: string, line: number, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decodeLine(text);
  } catch (error) {
    throw new InputError(`${path}:${line}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InputError(`${path}:${line}: expected a JSON object`);
  return value as Record<string, unknown>;
}

function parseHeader(path: string, text: string): EventLogHeader {
  const value = parse(path, 1, text);
  if (value.kind !== "run" || value.schema !== EVENT_LOG_SCHEMA) {
    throw new InputError(`${path}:1: expected the header of an event log (kind "run", schema "${EVENT_LOG_SCHEMA}"), got kind ${JSON.stringify(value.kind)}`);
  }
  if (value.inputs_sha256 !== undefined && (typeof value.inputs_sha256 !== "string" || !/^[0-9a-f]{64}$/.test(value.inputs_sha256))) {
    throw new InputError(`${path}:1: header: "inputs_sha256" must be 64 lowercase hex digits`);
  }
  return value as unknown as EventLogHeader;
}

function parseRecord(path: string, line: number, text: string): { kind: "event"; event: ControllerEvent } | EventLogEnd {
  const value = parse(path, line, text);
  if (value.kind === "end" && typeof value.at_s === "number" && typeof value.arrived === "number") {
    const latency = value.api_latency_s;
    const validLatency =
      latency === undefined || (latency !== null && typeof latency === "object" && !Array.isArray(latency) && Object.values(latency).every((v) => typeof v === "number" && v >= 0));
    if (!validLatency) throw new InputError(`${path}:${line}: end line: "api_latency_s" must map instance ids to seconds ≥ 0`);
    return value as unknown as EventLogEnd;
  }
  const event = value.event as ControllerEvent | undefined;
  if (value.kind !== "event" || typeof event !== "object" || event === null || typeof event.kind !== "string" || typeof event.at_s !== "number") {
    throw new InputError(`${path}:${line}: expected {"kind":"event","event":{kind, at_s, …}} or the end line`);
  }
  return { kind: "event", event };
}
