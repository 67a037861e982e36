/** `--events FILE` and `tandem replay`: a fresh controller driven by a run's event log rebuilds the
 *  run's report byte for byte — for a sim run, a live run against emulators and a gateway run — and
 *  `--until T` shows what the controller knew at T. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startGateway } from "../../live/gateway/index.ts";
import { runLive } from "../../live/run.ts";
import { replayEventLog } from "../../run/replay.ts";
import { runSimulation } from "../../sim/run.ts";
import { DEFAULT_WORKLOAD } from "../../traces/index.ts";
import { callRowToCsv, type CallRow } from "../../src/metrics/calls-csv.ts";
import { reportToJson } from "../../src/metrics/report-schema.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";

const scratch = () => mkdtempSync(join(tmpdir(), "tandem-replay-"));
const twoH100: ClusterConfig = { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2 }] };

/** Replays `log` and returns its report and calls.csv rows, as text. */
async function replayed(log: string): Promise<{ json: string; calls: string }> {
  const rows: CallRow[] = [];
  const result = await replayEventLog(log, { onCallClosed: (row) => rows.push(row) });
  if (result.kind !== "report") throw new Error("expected a report");
  return { json: reportToJson(result.report), calls: rows.map(callRowToCsv).join("\n") };
}

describe("event log and replay", () => {
  it("replaying a sim run's event log gives the run's report and calls byte for byte", async () => {
    const log = join(scratch(), "events.jsonl");
    const rows: CallRow[] = [];
    const { report } = await runSimulation({
      workload: { kind: "app", name: "supervisor", params: {}, timing: { kind: "poisson", rate: 2, count: 12 } },
      scheduling: "kairos",
      dispatch: "prefix-affinity",
      seed: 5,
      events: log,
      onCallClosed: (row) => rows.push(row),
    });
    const again = await replayed(log);
    expect(again.json).toBe(reportToJson(report));
    expect(again.calls).toBe(rows.map(callRowToCsv).join("\n"));
    // The log holds what happened, not what was decided: dispatches are not in it.
    const kinds = new Set(
      readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .slice(1, -1)
        .map((line) => JSON.parse(line).event.kind),
    );
    expect(kinds).toContain("workflowArrived");
    expect(kinds).toContain("toolFinished");
    expect(kinds).not.toContain("dispatch");
  });

  it("replaying a live run's event log (emulators) gives the live report byte for byte", async () => {
    const log = join(scratch(), "live.jsonl");
    const { report } = await runLive({
      cluster: twoH100,
      workload: { kind: "app", name: "qa-router", params: {}, timing: { kind: "poisson", rate: 4, count: 6 } },
      emulate: true,
      speedup: 10,
      events: log,
    });
    expect(report.summary.calls.completed).toBe(18);
    // The round trip measured before the run is in the report, so the log's end line carries it.
    for (const instance of report.instances) expect(instance.api_latency_s).toBeGreaterThan(0);
    expect((await replayed(log)).json).toBe(reportToJson(report));
  });

  it("replaying a gateway run's event log gives the gateway's report byte for byte, rejections included", async () => {
    const log = join(scratch(), "gateway.jsonl");
    const gw = await startGateway({ cluster: twoH100, emulate: true, speedup: 20, port: 0, events: log, max_queue: 1 });
    const ask = (workflow: string, end: boolean) =>
      fetch(`${gw.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tandem-workflow": workflow, ...(end ? { "x-tandem-workflow-end": "1" } : {}) },
        body: JSON.stringify({ model: "llama-3-8b", prompt: "hello there", max_tokens: 8 }),
      }).then((r) => r.status);
    const statuses = [await ask("w1", false), await ask("w1", true), ...(await Promise.all([ask("w2", true), ask("w3", true)]))];
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    const { report } = await gw.shutdown();
    expect(report.summary.workflows.arrived).toBeGreaterThanOrEqual(2);
    // The gateway measured each instance's round trip before serving, as tandem live does.
    for (const instance of report.instances) expect(instance.api_latency_s).toBeGreaterThan(0);
    expect((await replayed(log)).json).toBe(reportToJson(report));
  });

  it("--until T shows the controller's queues and calls in flight at T, as the run's calls.csv has them", async () => {
    const log = join(scratch(), "events.jsonl");
    const rows: CallRow[] = [];
    // One instance that holds at most 4 calls: the rest wait at the controller.
    await runSimulation({
      cluster: { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1 }] },
      workload: { kind: "generated", options: { ...DEFAULT_WORKLOAD, count: 60, rate: 40, seed: 3 } },
      dispatch: { name: "capacity", params: { max_concurrency: 4 } },
      events: log,
      onCallClosed: (row) => rows.push(row),
    });
    const T = 1.0;
    const result = await replayEventLog(log, { until_s: T });
    if (result.kind !== "state") throw new Error("expected a state");
    const { state } = result;
    expect(state.now_s).toBeLessThanOrEqual(T);
    const inFlight = rows.filter((r) => r.dispatched_s !== null && r.dispatched_s <= state.now_s && r.finished_s > state.now_s);
    expect(state.in_flight.map((c) => c.id).sort()).toEqual(inFlight.map((r) => r.call_id).sort());
    expect(state.in_flight.length).toBeLessThanOrEqual(4);
    const waiting = rows.filter((r) => r.arrival_s <= state.now_s && (r.dispatched_s === null || r.dispatched_s > state.now_s));
    expect(state.waiting.flatMap((q) => q.calls.map((c) => c.id)).sort()).toEqual(waiting.map((r) => r.call_id).sort());
    expect(waiting.length).toBeGreaterThan(0);
  });

  it("tandem replay writes the same files as the run; bad logs are one-line errors", () => {
    const cli = cliSandbox("tandem-replay-cli-");
    const run = cli.tandem("sim", "--app", "qa-router", "--rate", "2", "--count", "8", "--out", "run", "--events", "run.jsonl", "--quiet", "--no-progress");
    expect(run.code).toBe(0);
    const again = cli.tandem("replay", "run.jsonl", "--out", "again", "--quiet");
    expect(again.code).toBe(0);
    for (const file of ["report.json", "calls.csv", "workflows.csv"]) {
      expect(readFileSync(join(cli.scratch, "again", file), "utf8")).toBe(readFileSync(join(cli.scratch, "run", file), "utf8"));
    }
    const state = cli.tandem("replay", "run.jsonl", "--until", "1.5", "--json");
    expect(state.code).toBe(0);
    expect(JSON.parse(state.stdout).now_s).toBeLessThanOrEqual(1.5);

    const lines = readFileSync(join(cli.scratch, "run.jsonl"), "utf8").trim().split("\n");
    cli.file("truncated.jsonl", lines.slice(0, -1).join("\n") + "\n");
    expectInputError(cli.tandem("replay", "truncated.jsonl"), /truncated\.jsonl: no end line/);
    cli.file("broken.jsonl", [lines[0], lines[1], "{not json", ...lines.slice(3)].join("\n"));
    expectInputError(cli.tandem("replay", "broken.jsonl"), /broken\.jsonl:3: not valid JSON/);
    cli.file("other.jsonl", '{"kind":"calls"}\n');
    expectInputError(cli.tandem("replay", "other.jsonl"), /other\.jsonl:1: expected the header of an event log/);
    expectInputError(cli.tandem("replay", "missing.jsonl"), /missing\.jsonl: cannot read the event log/);
  });

  it("a run that fails keeps its log without an end line", async () => {
    const dir = scratch();
    const log = join(dir, "events.jsonl");
    const trace = join(dir, "dup.jsonl");
    writeFileSync(trace, ['{"id":"r1","arrival_s":0,"prompt_tokens":100,"output_tokens":500}', '{"id":"r1","arrival_s":0.01,"prompt_tokens":100,"output_tokens":5}'].join("\n") + "\n");
    await expect(runSimulation({ workload: { kind: "trace", path: trace, format: "tandem", arrival: "trace" }, events: log })).rejects.toThrow(/appears twice/);
    await expect(replayEventLog(log)).rejects.toThrow(/no end line/);
  });
});
