/** Summary bars: p50 and p99 of each latency per run (or per policy of a comparison). */
import type { TopLevelSpec } from "vega-lite";
import type { Report } from "../../src/metrics/report-schema.ts";
import { CONFIG, METRIC_LABELS, VEGA_LITE_SCHEMA, type PlotMetric } from "./style.ts";

export interface SummaryBar {
  /** One bar group: a run, or a policy. */
  group: string;
  /** One panel: a metric, or a rate. */
  panel: string;
  stat: "p50" | "p99";
  value: number;
}

/** The bars of one run report: TTFT, TPOT, E2E and (with workflows) makespan, p50 and p99. */
export function reportBars(group: string, report: Report): SummaryBar[] {
  const s = report.summary;
  const dists: [PlotMetric, (typeof s)["ttft_s"]][] = [
    ["ttft_s", s.ttft_s],
    ["tpot_s", s.tpot_s],
    ["e2e_s", s.e2e_s],
    ["makespan_s", s.workflow_makespan_s],
  ];
  return dists
    .filter(([, d]) => d.count > 0)
    .flatMap(([metric, d]) => [
      { group, panel: METRIC_LABELS[metric].name, stat: "p50" as const, value: d.p50 },
      { group, panel: METRIC_LABELS[metric].name, stat: "p99" as const, value: d.p99 },
    ]);
}

export interface SummaryChartOptions {
  title: string;
  subtitle?: string;
  bars: SummaryBar[];
  /** Axis title of the bar groups (`run`, `policy`). */
  groupTitle: string;
  /** Title of the y axis, with its unit. */
  valueTitle: string;
  /** Header of the panels (`metric`, `rate`); null hides it. */
  panelTitle: string | null;
}

/** Grouped bars, one panel per metric (or rate), each with its own y scale. */
export function summarySpec(options: SummaryChartOptions): TopLevelSpec {
  const groups = [...new Set(options.bars.map((b) => b.group))];
  const panels = [...new Set(options.bars.map((b) => b.panel))];
  const width = Math.max(160, Math.min(420, groups.length * 44));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    config: CONFIG,
    data: { values: options.bars },
    facet: { column: { field: "panel", type: "nominal", sort: panels, title: options.panelTitle } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width,
      height: 260,
      mark: { type: "bar", tooltip: true },
      encoding: {
        x: { field: "group", type: "nominal", sort: groups, title: options.groupTitle, axis: { labelAngle: -30, labelLimit: 280 } },
        xOffset: { field: "stat", type: "nominal", sort: ["p50", "p99"] },
        y: { field: "value", type: "quantitative", title: options.valueTitle },
        color: { field: "stat", type: "nominal", sort: ["p50", "p99"], title: "percentile", scale: { range: ["#4c78a8", "#f58518"] } },
      },
    },
  };
}
