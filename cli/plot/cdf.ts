/** CDF charts: one line per run, overlaid; sim and live runs told apart by the line's dash. */
import type { TopLevelSpec } from "vega-lite";
import type { Distribution } from "../../src/metrics/report-schema.ts";
import { CHART_HEIGHT, CHART_WIDTH, CONFIG, METRIC_LABELS, VEGA_LITE_SCHEMA, type PlotMetric } from "./style.ts";

/** Points of one run's CDF. `source` says where they came from: every value of a CSV (downsampled
 *  to at most maxPoints), or only the report's percentiles. */
export interface CdfSeries {
  run: string;
  mode: "sim" | "live";
  source: "csv" | "percentiles";
  points: { value: number; p: number }[];
}

/** Most points per CDF line by default: enough for a smooth curve, small enough for any run. */
export const DEFAULT_CDF_POINTS = 400;

/** The empirical CDF of sorted values: (v_i, (i+1)/n), downsampled to at most maxPoints by taking
 *  evenly spaced ranks (the first and the last always), with a (min, 0) point first. */
export function cdfPoints(sorted: Float64Array, maxPoints = DEFAULT_CDF_POINTS): { value: number; p: number }[] {
  const n = sorted.length;
  if (n === 0) return [];
  const points = [{ value: sorted[0], p: 0 }];
  const k = Math.max(2, Math.min(n, maxPoints));
  let previous = -1;
  for (let j = 0; j < k; j++) {
    const i = n === 1 ? 0 : Math.round((j * (n - 1)) / (k - 1));
    if (i === previous) continue;
    previous = i;
    points.push({ value: sorted[i], p: (i + 1) / n });
  }
  return points;
}

/** A CDF from a report's percentiles alone (no CSV): p50, p90, p99 and the max. */
export function percentilePoints(d: Distribution): { value: number; p: number }[] {
  if (d.count === 0) return [];
  return [
    { value: d.p50, p: 0.5 },
    { value: d.p90, p: 0.9 },
    { value: d.p99, p: 0.99 },
    { value: d.max, p: 1 },
  ];
}

function rows(series: CdfSeries[], panel?: string) {
  return series.flatMap((s) =>
    s.points.map((pt) => ({
      ...(panel === undefined ? {} : { panel }),
      run: s.run,
      mode: s.mode,
      source: s.source === "csv" ? "every call" : "report percentiles",
      value: pt.value,
      p: pt.p,
    })),
  );
}

/** The layers of one CDF panel: a step line per run (dashed for live when modes are mixed), with
 *  dots on the lines drawn from percentiles only. */
function cdfLayers(metric: PlotMetric, runs: string[], dashByMode: boolean, withDots: boolean) {
  const label = METRIC_LABELS[metric];
  const encoding = {
    x: { field: "value", type: "quantitative" as const, title: label.axis },
    y: { field: "p", type: "quantitative" as const, title: `fraction of ${label.what}`, scale: { domain: [0, 1] } },
    color: { field: "run", type: "nominal" as const, title: "run", sort: runs, legend: { symbolType: "stroke" } },
    ...(dashByMode ? { strokeDash: { field: "mode", type: "nominal" as const, title: "mode", sort: ["sim", "live"] } } : {}),
    order: { field: "p", type: "quantitative" as const },
    tooltip: [
      { field: "run", type: "nominal" as const },
      { field: "value", type: "quantitative" as const, title: label.axis, format: ".4f" },
      { field: "p", type: "quantitative" as const, title: "fraction", format: ".3f" },
      { field: "source", type: "nominal" as const },
    ],
  };
  const line = { mark: { type: "line" as const, interpolate: "step-after" as const, strokeWidth: 2 }, encoding };
  if (!withDots) return [line];
  return [
    line,
    {
      transform: [{ filter: "datum.source === 'report percentiles'" }],
      mark: { type: "point" as const, filled: true, size: 40 },
      encoding: { x: encoding.x, y: encoding.y, color: encoding.color },
    },
  ];
}

export interface CdfChartOptions {
  metric: PlotMetric;
  series: CdfSeries[];
  title?: string;
  subtitle?: string;
}

/** One CDF, one line per run. */
export function cdfSpec(options: CdfChartOptions): TopLevelSpec {
  const { metric, series } = options;
  const dashByMode = new Set(series.map((s) => s.mode)).size > 1;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: options.title ?? `${METRIC_LABELS[metric].name} CDF`, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    config: CONFIG,
    data: { values: rows(series) },
    layer: cdfLayers(
      metric,
      series.map((s) => s.run),
      dashByMode,
      series.some((s) => s.source === "percentiles"),
    ),
  };
}

/** Sim against live: the CDFs of several metrics side by side, colour = run, dash = mode. */
export function paritySpec(panels: { metric: PlotMetric; series: CdfSeries[] }[], subtitle?: string): TopLevelSpec {
  const runs = [...new Set(panels.flatMap((p) => p.series.map((s) => s.run)))];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "Sim vs live: latency CDFs", ...(subtitle ? { subtitle } : {}) },
    config: CONFIG,
    hconcat: panels.map((panel) => ({
      title: METRIC_LABELS[panel.metric].name,
      width: Math.round(CHART_WIDTH / 2),
      height: CHART_HEIGHT,
      data: { values: rows(panel.series, panel.metric) },
      layer: cdfLayers(
        panel.metric,
        runs,
        true,
        panel.series.some((s) => s.source === "percentiles"),
      ),
    })),
  };
}
