/** The spec builders are pure: data in, vega-lite spec out. These check what lands on each axis. */
import { describe, expect, it } from "vitest";
import { cdfPoints, cdfSpec, paritySpec, percentilePoints, type CdfSeries } from "../../cli/plot/cdf.ts";
import { ganttBars, ganttSpec } from "../../cli/plot/gantt.ts";
import { htmlPage } from "../../cli/plot/html.ts";
import type { SelectedWorkflow } from "../../cli/plot/load.ts";
import { summarySpec } from "../../cli/plot/summary.ts";
import { sweepSpec, type SweepPoint } from "../../cli/plot/sweep.ts";
import { timelineSpec } from "../../cli/plot/timeline.ts";
import { slug, uniqueSlugs } from "../../cli/plot/style.ts";

// Specs are plain JSON; read them without fighting vega-lite's union types.
type Json = any;
const json = (spec: unknown): Json => JSON.parse(JSON.stringify(spec));

const series = (run: string, mode: "sim" | "live", source: "csv" | "percentiles" = "csv"): CdfSeries => ({
  run,
  mode,
  source,
  points: [
    { value: 0.1, p: 0 },
    { value: 0.1, p: 0.5 },
    { value: 0.3, p: 1 },
  ],
});

describe("cdfPoints", () => {
  it("keeps every value of a small sample, starting at (min, 0) and ending at (max, 1)", () => {
    const points = cdfPoints(Float64Array.from([1, 2, 3, 4]));
    expect(points).toEqual([
      { value: 1, p: 0 },
      { value: 1, p: 0.25 },
      { value: 2, p: 0.5 },
      { value: 3, p: 0.75 },
      { value: 4, p: 1 },
    ]);
  });

  it("downsamples a large sample to at most maxPoints evenly spaced ranks, monotone, max included", () => {
    const sorted = Float64Array.from({ length: 100_000 }, (_, i) => Math.sqrt(i));
    const points = cdfPoints(sorted, 200);
    expect(points.length).toBeLessThanOrEqual(201);
    expect(points.at(-1)).toEqual({ value: sorted[99_999], p: 1 });
    for (let i = 1; i < points.length; i++) {
      expect(points[i].value).toBeGreaterThanOrEqual(points[i - 1].value);
      expect(points[i].p).toBeGreaterThan(points[i - 1].p);
    }
  });

  it("is empty for no values; percentile fallback gives p50/p90/p99/max", () => {
    expect(cdfPoints(new Float64Array(0))).toEqual([]);
    expect(percentilePoints({ count: 3, mean: 1, p50: 1, p90: 2, p99: 3, max: 4 }).map((p) => p.p)).toEqual([0.5, 0.9, 0.99, 1]);
    expect(percentilePoints({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 })).toEqual([]);
  });
});

describe("CDF specs", () => {
  it("put the metric with its unit on x, the fraction on y, one colour per run", () => {
    const spec = json(cdfSpec({ metric: "ttft_s", series: [series("a", "sim"), series("b", "sim")] }));
    expect(spec.title.text).toBe("TTFT CDF");
    const line = spec.layer[0];
    expect(line.mark.type).toBe("line");
    expect(line.encoding.x).toMatchObject({ field: "value", type: "quantitative", title: "time to first token (s)" });
    expect(line.encoding.y).toMatchObject({ field: "p", title: "fraction of calls", scale: { domain: [0, 1] } });
    expect(line.encoding.color).toMatchObject({ field: "run", sort: ["a", "b"] });
    expect(line.encoding.strokeDash).toBeUndefined();
    expect(spec.layer).toHaveLength(1); // no percentile-only series, no dots
    expect(new Set(spec.data.values.map((v: Json) => v.run))).toEqual(new Set(["a", "b"]));
  });

  it("dash by mode when sim and live are mixed, and dot percentile-only series", () => {
    const spec = json(cdfSpec({ metric: "makespan_s", series: [series("a (sim)", "sim"), series("a (live)", "live", "percentiles")] }));
    expect(spec.layer[0].encoding.strokeDash).toMatchObject({ field: "mode", sort: ["sim", "live"] });
    expect(spec.layer[0].encoding.x.title).toBe("workflow makespan (s)");
    expect(spec.layer[0].encoding.y.title).toBe("fraction of workflows");
    expect(spec.layer[1].mark.type).toBe("point");
  });

  it("the sim-vs-live overlay has one panel per metric, colour = run, dash = mode", () => {
    const spec = json(
      paritySpec([
        { metric: "ttft_s", series: [series("x (sim)", "sim"), series("x (live)", "live")] },
        { metric: "e2e_s", series: [series("x (sim)", "sim"), series("x (live)", "live")] },
      ]),
    );
    expect(spec.hconcat).toHaveLength(2);
    expect(spec.hconcat.map((p: Json) => p.layer[0].encoding.x.title)).toEqual(["time to first token (s)", "end-to-end latency (s)"]);
    for (const panel of spec.hconcat) {
      expect(panel.layer[0].encoding.strokeDash.field).toBe("mode");
      expect(panel.layer[0].encoding.color.field).toBe("run");
    }
  });
});

describe("summary bars", () => {
  it("group per run, p50 and p99 side by side, one panel per metric with its own y scale", () => {
    const spec = json(
      summarySpec({
        title: "Latency",
        bars: [
          { group: "a", panel: "TTFT", stat: "p50", value: 1 },
          { group: "a", panel: "TTFT", stat: "p99", value: 2 },
          { group: "b", panel: "E2E", stat: "p50", value: 3 },
        ],
        groupTitle: "run",
        valueTitle: "seconds",
        panelTitle: null,
      }),
    );
    expect(spec.facet.column).toMatchObject({ field: "panel", sort: ["TTFT", "E2E"] });
    expect(spec.resolve.scale.y).toBe("independent");
    expect(spec.spec.mark.type).toBe("bar");
    expect(spec.spec.encoding.x).toMatchObject({ field: "group", title: "run", sort: ["a", "b"] });
    expect(spec.spec.encoding.xOffset.field).toBe("stat");
    expect(spec.spec.encoding.y).toMatchObject({ field: "value", title: "seconds" });
    expect(spec.spec.encoding.color.field).toBe("stat");
  });
});

describe("sweep curves", () => {
  const points: SweepPoint[] = [
    { series: "p1", rate: 1, throughput: 0.9, ttft_p99_s: 0.1, makespan_mean_s: 5 },
    { series: "p1", rate: 2, throughput: 1.8, ttft_p99_s: 0.2, makespan_mean_s: 6 },
    { series: "p2", rate: 1, throughput: 0.95, ttft_p99_s: 0.05, makespan_mean_s: null },
  ];

  it("plot the latency against the offered rate and against throughput, one line per policy", () => {
    const spec = json(sweepSpec({ points, y: "ttft_p99_s", rateUnit: "workflows/s" }));
    expect(spec.hconcat).toHaveLength(2);
    const [byRate, byThroughput] = spec.hconcat;
    expect(byRate.layer[0].encoding.x).toMatchObject({ field: "rate", title: "offered rate (workflows/s)" });
    expect(byThroughput.layer[0].encoding.x).toMatchObject({ field: "throughput", title: "throughput (completed calls/s)" });
    for (const panel of spec.hconcat) {
      expect(panel.layer[0].encoding.y).toMatchObject({ field: "ttft_p99_s", title: "p99 TTFT (s)" });
      expect(panel.layer[0].encoding.color).toMatchObject({ field: "series", sort: ["p1", "p2"] });
      expect(panel.layer[0].encoding.order.field).toBe("rate");
    }
  });

  it("makespan curves drop policies without workflows; no rate panel without rates", () => {
    const spec = json(sweepSpec({ points, y: "makespan_mean_s", rateUnit: "req/s" }));
    expect(spec.hconcat[0].layer[0].encoding.y.field).toBe("makespan_mean_s");
    expect(spec.data.values).toHaveLength(2);
    const own = json(sweepSpec({ points: points.map((p) => ({ ...p, rate: null })), y: "ttft_p99_s", rateUnit: "req/s" }));
    expect(own.hconcat).toHaveLength(1);
    expect(own.hconcat[0].layer[0].encoding.x.field).toBe("throughput");
  });
});

describe("timelines", () => {
  const timelines = [
    { instance: "i0", sample_interval_s: 0.1, t_s: [0, 0.1, 0.2], running: [0, 2, 1], waiting: [0, 1, 0], kv_usage: [0, 0.5, 0.25], awake: [true, true, true] },
    { instance: "i1", sample_interval_s: 0.1, t_s: [0, 0.1], running: [1, 0], waiting: [0, 0], kv_usage: [0.1, 0], awake: [true, false] },
  ];

  it("stack running, waiting and KV usage over a shared time axis, one line per instance", () => {
    const spec = json(timelineSpec({ run: "r", timelines }));
    expect(spec.title.text).toBe("Instances over time: r");
    const ys = spec.vconcat.map((p: Json) => [p.encoding.y.field, p.encoding.y.title]);
    expect(ys).toEqual([
      ["running", "running (calls)"],
      ["waiting", "waiting (calls)"],
      ["kv_usage", "KV-cache usage (fraction)"],
      ["awake", "awake (1) / asleep (0)"], // i1 slept
    ]);
    for (const panel of spec.vconcat) {
      expect(panel.encoding.x).toMatchObject({ field: "t_s", title: "time (s)" });
      expect(panel.encoding.color).toMatchObject({ field: "instance", sort: ["i0", "i1"] });
    }
    expect(spec.data.values).toHaveLength(5);
  });

  it("leave out the awake panel when nothing slept", () => {
    const spec = json(timelineSpec({ run: "r", timelines: [timelines[0]] }));
    expect(spec.vconcat).toHaveLength(3);
  });
});

describe("gantt", () => {
  const workflow: SelectedWorkflow = {
    id: "w1",
    arrival_s: 10,
    finished_s: 14,
    makespan_s: 4,
    source: "report",
    steps_total: 2,
    tools_missing: 0,
    steps: [
      { step_id: "plan", kind: "llm", instance: "i0", start_s: 10, dispatched_s: 10.5, first_token_s: 11, end_s: 12 },
      { step_id: "search", kind: "tool", instance: null, start_s: 12, dispatched_s: null, first_token_s: null, end_s: 14 },
    ],
  };

  it("bars run from release to end relative to the arrival, queued time apart, coloured by instance or tool", () => {
    const { bars, firstTokens } = ganttBars(workflow);
    expect(bars).toEqual([
      { row: "plan", step: "plan", kind: "llm", resource: "i0", phase: "queued", start_s: 0, end_s: 0.5 },
      { row: "plan", step: "plan", kind: "llm", resource: "i0", phase: "running", start_s: 0.5, end_s: 2 },
      { row: "search", step: "search", kind: "tool", resource: "tool", phase: "running", start_s: 2, end_s: 4 },
    ]);
    expect(firstTokens).toEqual([{ row: "plan", t_s: 1 }]);
    const spec = json(ganttSpec({ run: "r", workflow }));
    const bar = spec.layer[0];
    expect(bar.mark.type).toBe("bar");
    expect(bar.encoding.x).toMatchObject({ field: "start_s", title: "time since the workflow arrived (s)" });
    expect(bar.encoding.x2.field).toBe("end_s");
    expect(bar.encoding.y).toMatchObject({ field: "row", sort: ["plan", "search"] });
    expect(bar.encoding.color).toMatchObject({ field: "resource", sort: ["i0", "tool"] });
    expect(spec.layer[1].mark.type).toBe("tick");
    expect(spec.title.text).toBe("Workflow w1: steps over time");
  });
});

describe("html page and file names", () => {
  it("inlines the given scripts, embeds the specs and escapes </script> in both", () => {
    const page = htmlPage({
      title: "t",
      charts: [{ name: "c", title: "C", spec: { data: { values: [{ a: "</script><b>" }] }, mark: "point" } }],
      inputs: ["in"],
      notes: ["a note <x>"],
      bundles: [{ name: "fake", version: "1", code: "var s = '</script>';" }],
    });
    expect(page).toContain("var s = '<\\/script>';");
    expect(page).toContain("\\u003c/script>\\u003cb>");
    expect(page).toContain("a note &lt;x&gt;");
    expect(page).not.toMatch(/<script[^>]*\ssrc=/);
    expect(page.match(/<\/script>/g)).toHaveLength(3); // the bundle, the specs, the embedding code
  });

  it("slugs are file-name safe and unique", () => {
    expect(slug("fcfs+least-outstanding (sim)")).toBe("fcfs-least-outstanding-sim");
    expect(uniqueSlugs(["a b", "a-b", "a+b"])).toEqual(["a-b", "a-b-2", "a-b-3"]);
  });
});
