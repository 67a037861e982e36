/** The recorder's per-instance timelines: time-ordered, bounded, evenly decimated, the final
 *  snapshot last; and in a simulation, samples that are the engine's state at their times. Also the
 *  report's longest_workflow and determinism with both sections. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { InstanceSnapshot } from "../../src/core/types.ts";
import { DEFAULT_ENGINE_CONFIG } from "../../src/model/engine-config.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { reportToJson } from "../../src/metrics/report-schema.ts";
import { InstanceTimeline, timelinePointsPerInstance } from "../../src/metrics/timeline.ts";
import { runSimulation } from "../../sim/run.ts";
import { CsvFile } from "../../cli/plot/csv.ts";
import { requestWorkload, scratchDir, simRun, TINY_CLUSTER, workflowWorkload } from "./fixtures.ts";

function snapshot(at_s: number, running = 0, waiting = 0, kv_usage = 0, awake = true): InstanceSnapshot {
  return { instance: "i0", at_s, running, waiting, kv_usage, prefix_queried_tokens: 0, prefix_hit_tokens: 0, preemptions: 0, awake };
}

describe("InstanceTimeline", () => {
  it("keeps every scrape while it has room", () => {
    const t = new InstanceTimeline("i0", { interval_s: 0.1, max_points: 16 });
    for (let k = 0; k < 10; k++) t.observe(snapshot(k * 0.1, k, 10 - k, k / 10));
    const d = t.data();
    expect(d.t_s).toEqual(Array.from({ length: 10 }, (_, k) => k * 0.1));
    expect(d.running).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(d.sample_interval_s).toBe(0.1);
  });

  it("halves evenly when full: kept samples are every stride-th scrape, the last scrape last", () => {
    const t = new InstanceTimeline("i0", { interval_s: 1, max_points: 8 });
    for (let k = 0; k <= 100; k++) t.observe(snapshot(k, k));
    const d = t.data();
    expect(d.t_s.length).toBeLessThanOrEqual(8);
    // 101 scrapes into 8 slots: the stride grows to 16, the kept ones are k = 0, 16, 32, … and 100 last
    expect(d.sample_interval_s).toBe(16);
    expect(d.t_s).toEqual([0, 16, 32, 48, 64, 80, 96, 100]);
    expect(d.running).toEqual(d.t_s);
  });

  it("takes one snapshot per interval when they come more often (oracle), and none out of order", () => {
    const t = new InstanceTimeline("i0", { interval_s: 1, max_points: 64 });
    for (const at of [0, 0.2, 0.9, 1.0, 1.5, 0.5, 2.2, 2.3, 3.1]) t.observe(snapshot(at, Math.round(at * 10)));
    expect(t.data().t_s).toEqual([0, 1, 2.2, 3.1]);
  });

  it("property: bounded, strictly time-ordered, every point one of the snapshots, the latest last", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ dt: fc.double({ min: 0, max: 2, noNaN: true }), running: fc.nat(50), waiting: fc.nat(50), kv: fc.double({ min: 0, max: 1, noNaN: true }), awake: fc.boolean() }),
          { maxLength: 400 },
        ),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.integer({ min: 2, max: 40 }).map((n) => 2 * n),
        (steps, interval_s, max_points) => {
          const t = new InstanceTimeline("i0", { interval_s, max_points });
          const seen: InstanceSnapshot[] = [];
          let at = 0;
          for (const s of steps) {
            at += s.dt;
            const snap = snapshot(at, s.running, s.waiting, s.kv, s.awake);
            seen.push(snap);
            t.observe(snap);
          }
          const d = t.data();
          expect(d.t_s.length).toBeLessThanOrEqual(max_points);
          for (const column of [d.running, d.waiting, d.kv_usage, d.awake]) expect(column.length).toBe(d.t_s.length);
          for (let i = 1; i < d.t_s.length; i++) expect(d.t_s[i]).toBeGreaterThan(d.t_s[i - 1]);
          for (let i = 0; i < d.t_s.length; i++) {
            const match = seen.some((s) => s.at_s === d.t_s[i] && s.running === d.running[i] && s.waiting === d.waiting[i] && s.kv_usage === d.kv_usage[i] && s.awake === d.awake[i]);
            expect(match).toBe(true);
          }
          if (seen.length > 0) {
            const last = seen.at(-1)!;
            expect(d.t_s.at(-1)).toBe(last.at_s);
            if (d.t_s.filter((x) => x === last.at_s).length === 1 && seen.filter((s) => s.at_s === last.at_s).length === 1) {
              expect(d.running.at(-1)).toBe(last.running);
            }
          } else expect(d.t_s).toEqual([]);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it("the per-instance budget keeps a report's timelines to about 4,096 points", () => {
    expect(timelinePointsPerInstance(1)).toBe(512);
    expect(timelinePointsPerInstance(4)).toBe(512);
    expect(timelinePointsPerInstance(64)).toBe(64);
    expect(timelinePointsPerInstance(1000)).toBe(32);
    for (const n of [1, 3, 7, 64, 100, 1000]) expect(timelinePointsPerInstance(n) % 2).toBe(0);
  });
});

const API_LATENCY_S = DEFAULT_ENGINE_CONFIG.api_latency_s;

describe("timelines in a simulated run", () => {
  afterEach(() => vi.restoreAllMocks());

  it("are the engine's snapshots at the sample times, and agree with calls.csv on calls in each engine", async () => {
    const observed: InstanceSnapshot[] = [];
    const original = Recorder.prototype.instanceObserved;
    vi.spyOn(Recorder.prototype, "instanceObserved").mockImplementation(function (this: Recorder, s: InstanceSnapshot) {
      observed.push({ ...s });
      original.call(this, s);
    });
    const dir = scratchDir();
    const report = await simRun(dir, requestWorkload(150));
    const timelines = report.timelines!;
    expect(timelines.map((t) => t.instance)).toEqual(report.instances.map((i) => i.id));
    const budget = timelinePointsPerInstance(report.instances.length);

    // Calls inside each engine from calls.csv: dispatched and not yet finished.
    const csv = await CsvFile.open(join(dir, "calls.csv"), ["instance", "dispatched_s", "finished_s", "status"]);
    const spans: { instance: string; from: number; to: number }[] = [];
    for await (const r of csv) {
      expect(r.cells[csv.index("status")]).toBe("finished");
      spans.push({ instance: r.cells[csv.index("instance")], from: csv.number(r, csv.index("dispatched_s"))!, to: csv.number(r, csv.index("finished_s"))! });
    }

    let checked = 0;
    for (const t of timelines) {
      expect(t.t_s.length).toBeGreaterThan(10);
      expect(t.t_s.length).toBeLessThanOrEqual(budget);
      for (let i = 0; i < t.t_s.length; i++) {
        if (i > 0) expect(t.t_s[i]).toBeGreaterThan(t.t_s[i - 1]);
        const at = t.t_s[i];
        const snaps = observed.filter((s) => s.instance === t.instance && s.at_s === at);
        expect(snaps.some((s) => s.running === t.running[i] && s.waiting === t.waiting[i] && s.kv_usage === t.kv_usage[i] && s.awake === t.awake[i])).toBe(true);
        const mine = spans.filter((s) => s.instance === t.instance);
        // A call is inside the engine from one API latency after its dispatch until one before the
        // router saw it finish (engine.api_latency_s each way).
        const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
        if (mine.some((s) => near(s.from + API_LATENCY_S, at) || near(s.to - API_LATENCY_S, at))) continue; // a call entered or left at this very instant
        const inEngine = mine.filter((s) => s.from + API_LATENCY_S < at && at < s.to - API_LATENCY_S).length;
        expect(t.running[i] + t.waiting[i]).toBe(inEngine);
        expect(t.kv_usage[i] > 0).toBe(inEngine > 0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    // Scraped every 0.1 s: the samples of a short run are every scrape.
    expect(timelines[0].sample_interval_s).toBe(0.1);
  });

  it("the report with timelines and longest_workflow is byte-identical run to run", async () => {
    const run = () => runSimulation({ cluster: TINY_CLUSTER, workload: workflowWorkload(), seed: 5 });
    const [a, b] = [await run(), await run()];
    expect(a.report.timelines!.length).toBe(2);
    expect(a.report.longest_workflow).toBeDefined();
    expect(reportToJson(b.report)).toBe(reportToJson(a.report));
  });

  it("longest_workflow is workflows.csv's longest, with its LLM steps as in calls.csv and its tool steps", async () => {
    const dir = scratchDir();
    const report = await simRun(dir, workflowWorkload(1, 6));
    const lw = report.longest_workflow!;
    const rows = readFileSync(join(dir, "workflows.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    const longest = rows.reduce((best, r) => (Number(r[8]) > Number(best[8]) ? r : best));
    expect(lw.workflow_id).toBe(longest[0]);
    expect(lw.makespan_s).toBeCloseTo(Number(longest[8]), 6);
    expect(lw.steps_total).toBe(Number(longest[11]) + Number(longest[12]));
    expect(lw.steps.length).toBe(lw.steps_total);
    expect(lw.steps.filter((s) => s.kind === "tool").length).toBe(Number(longest[12]));
    for (let i = 1; i < lw.steps.length; i++) expect(lw.steps[i].start_s).toBeGreaterThanOrEqual(lw.steps[i - 1].start_s);
    for (const s of lw.steps) {
      expect(s.start_s).toBeGreaterThanOrEqual(lw.arrival_s);
      expect(s.end_s).toBeLessThanOrEqual(lw.finished_s);
      expect(s.end_s).toBeGreaterThanOrEqual(s.start_s);
    }
    const calls = readFileSync(join(dir, "calls.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    for (const s of lw.steps.filter((x) => x.kind === "llm")) {
      const row = calls.find((r) => r[0] === `${lw.workflow_id}/${s.step_id}`)!;
      expect(row[3]).toBe(s.instance);
      expect(Number(row[6])).toBeCloseTo(s.start_s, 8);
      expect(Number(row[7])).toBeCloseTo(s.dispatched_s!, 8);
      expect(Number(row[8])).toBeCloseTo(s.first_token_s!, 8);
      expect(Number(row[9])).toBeCloseTo(s.end_s, 8);
    }
  });
});
