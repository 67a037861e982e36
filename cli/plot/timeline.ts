/** Per-instance timelines of one run: running and waiting calls and KV-cache usage over time
 *  (report.json `timelines`), plus awake/asleep when any instance slept. */
import type { TopLevelSpec } from "vega-lite";
import type { InstanceTimeline } from "../../src/metrics/report-schema.ts";
import { CHART_WIDTH, CONFIG, VEGA_LITE_SCHEMA } from "./style.ts";

export interface TimelineRow {
  instance: string;
  t_s: number;
  running: number;
  waiting: number;
  kv_usage: number;
  awake: number;
}

/** Long-form rows (one per instance and sample) from the report's columns. */
export function timelineRows(timelines: InstanceTimeline[]): TimelineRow[] {
  return timelines.flatMap((t) => t.t_s.map((t_s, i) => ({ instance: t.instance, t_s, running: t.running[i], waiting: t.waiting[i], kv_usage: t.kv_usage[i], awake: t.awake[i] ? 1 : 0 })));
}

export interface TimelineChartOptions {
  run: string;
  timelines: InstanceTimeline[];
  subtitle?: string;
}

/** Stacked panels sharing the time axis; one line per instance. */
export function timelineSpec(options: TimelineChartOptions): TopLevelSpec {
  const instances = options.timelines.map((t) => t.instance);
  const values = timelineRows(options.timelines);
  const anyAsleep = values.some((r) => r.awake === 0);
  const x = { field: "t_s", type: "quantitative" as const, title: "time (s)" };
  const color = { field: "instance", type: "nominal" as const, title: "instance", sort: instances };
  const panel = (field: keyof TimelineRow, title: string, extra: object = {}) => ({
    width: CHART_WIDTH,
    height: 150,
    mark: { type: "line" as const, interpolate: "step-after" as const, strokeWidth: 1.5 },
    encoding: {
      x,
      y: { field, type: "quantitative" as const, title, ...extra },
      color,
      tooltip: [
        { field: "instance", type: "nominal" as const },
        { field: "t_s", type: "quantitative" as const, title: "time (s)", format: ".3f" },
        { field, type: "quantitative" as const, title },
      ],
    },
  });
  const interval = Math.max(...options.timelines.map((t) => t.sample_interval_s), 0);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `Instances over time: ${options.run}`,
      subtitle: options.subtitle ?? `sampled every ${formatSeconds(interval)} (report.json timelines)`,
    },
    config: CONFIG,
    data: { values },
    vconcat: [
      panel("running", "running (calls)", { axis: { tickMinStep: 1, format: "d" } }),
      panel("waiting", "waiting (calls)", { axis: { tickMinStep: 1, format: "d" } }),
      panel("kv_usage", "KV-cache usage (fraction)", { scale: { zero: true } }),
      ...(anyAsleep ? [panel("awake", "awake (1) / asleep (0)", { scale: { domain: [0, 1] }, axis: { tickCount: 1, values: [0, 1] } })] : []),
    ],
    resolve: { scale: { x: "shared" } },
  };
}

function formatSeconds(s: number): string {
  return s >= 1 ? `${Number(s.toPrecision(4))} s` : `${Number((s * 1000).toPrecision(4))} ms`;
}
