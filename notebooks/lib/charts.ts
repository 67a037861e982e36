/** The two chart kinds the plot module does not have (src/plot has CDFs, p50/p99 summary bars,
 *  sweeps, timelines and Gantt charts): plain value bars with labels, and a log-log scatter of
 *  predicted against measured values with the y = x line. Plus the glue from in-memory values to
 *  the plot module's CDF series. Pure: data in, vega-lite spec out. */
import type { TopLevelSpec } from "vega-lite";
import { cdfPoints, type CdfSeries } from "../../cli/plot/cdf.ts";
import { CHART_HEIGHT, CHART_WIDTH, CONFIG, VEGA_LITE_SCHEMA } from "../../cli/plot/style.ts";

/** The CDF series of one run from its values (any order; non-finite values dropped), as the plot
 *  module's cdfSpec and paritySpec take it; undefined when no value is left. */
export function valuesCdf(run: string, values: Iterable<number | null | undefined>, mode: "sim" | "live" = "sim"): CdfSeries | undefined {
  const kept: number[] = [];
  for (const v of values) if (v !== null && v !== undefined && Number.isFinite(v)) kept.push(v);
  if (kept.length === 0) return undefined;
  const sorted = Float64Array.from(kept).sort();
  return { run, mode, source: "csv", points: cdfPoints(sorted) };
}

export interface ValueBar {
  /** One bar (a category). */
  group: string;
  value: number;
}

export interface BarsChartOptions {
  title: string;
  subtitle?: string;
  bars: ValueBar[];
  groupTitle: string;
  valueTitle: string;
  /** d3 format of the value labels, axis and tooltips (default ".3~f"; ".1%" for fractions). */
  format?: string;
}

/** One horizontal bar per group, in the given order, its value printed at its end (horizontal so
 *  that long policy labels stay readable). */
export function barsSpec(options: BarsChartOptions): TopLevelSpec {
  const groups = options.bars.map((b) => b.group);
  if (new Set(groups).size !== groups.length) throw new Error("barsSpec: each group needs exactly one bar");
  const format = options.format ?? ".3~f";
  const y = { field: "group", type: "nominal" as const, sort: groups, title: options.groupTitle, axis: { labelLimit: 320 } };
  const x = { field: "value", type: "quantitative" as const, title: options.valueTitle, axis: { format } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    config: CONFIG,
    data: { values: options.bars },
    width: Math.round(CHART_WIDTH * 0.8),
    height: Math.max(80, groups.length * 36),
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x,
          y,
          color: { field: "group", type: "nominal", sort: groups, legend: null },
          tooltip: [
            { field: "group", type: "nominal", title: options.groupTitle },
            { field: "value", type: "quantitative", title: options.valueTitle, format },
          ],
        },
      },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 11 },
        encoding: { x, y, text: { field: "value", type: "quantitative", format } },
      },
    ],
  };
}

export interface ScatterPoint {
  /** A facet column (e.g. the measured quantity). */
  panel: string;
  /** The colour (e.g. the calibration group). */
  group: string;
  measured: number;
  predicted: number;
}

export interface ScatterChartOptions {
  title: string;
  subtitle?: string;
  points: ScatterPoint[];
  /** Axis titles, with units. */
  measuredTitle: string;
  predictedTitle: string;
  groupTitle: string;
}

/** Predicted against measured, log-log, one panel per `panel` with its own scales, a dashed y = x
 *  line across each panel's range (points on it are exact predictions), colour = group. */
export function scatterSpec(options: ScatterChartOptions): TopLevelSpec {
  const points = options.points.filter((p) => p.measured > 0 && p.predicted > 0);
  const panels = [...new Set(points.map((p) => p.panel))];
  const groups = [...new Set(points.map((p) => p.group))];
  // The y = x line of each panel, from a little below its smallest value to a little above its
  // largest, on either axis; the line sets the panel's square domain, so no point sits on an edge.
  const diagonal = panels.flatMap((panel) => {
    const values = points.filter((p) => p.panel === panel).flatMap((p) => [p.measured, p.predicted]);
    const margin = (Math.max(...values) / Math.min(...values)) ** 0.03;
    const lo = Math.min(...values) / margin;
    const hi = Math.max(...values) * margin;
    return [
      { kind: "diagonal", panel, group: "", measured: lo, predicted: lo },
      { kind: "diagonal", panel, group: "", measured: hi, predicted: hi },
    ];
  });
  const x = { field: "measured", type: "quantitative" as const, title: options.measuredTitle, scale: { type: "log" as const, nice: false } };
  const y = { field: "predicted", type: "quantitative" as const, title: options.predictedTitle, scale: { type: "log" as const, nice: false } };
  const size = Math.round(CHART_HEIGHT * 0.9);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: options.title, ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    config: CONFIG,
    data: { values: [...points.map((p) => ({ kind: "point", ...p })), ...diagonal] },
    facet: { column: { field: "panel", type: "nominal", sort: panels, title: null } },
    resolve: { scale: { x: "independent", y: "independent" } },
    spec: {
      width: size,
      height: size,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'diagonal'" }],
          mark: { type: "line", color: "#888", strokeDash: [5, 4], strokeWidth: 1.5 },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.kind === 'point'" }],
          mark: { type: "point", filled: true, size: 36, opacity: 0.75 },
          encoding: {
            x,
            y,
            color: { field: "group", type: "nominal", sort: groups, title: options.groupTitle, scale: { scheme: "tableau20" } },
            shape: { field: "group", type: "nominal", sort: groups, title: options.groupTitle },
            tooltip: [
              { field: "group", type: "nominal", title: options.groupTitle },
              { field: "measured", type: "quantitative", title: options.measuredTitle, format: ".4~g" },
              { field: "predicted", type: "quantitative", title: options.predictedTitle, format: ".4~g" },
            ],
          },
        },
      ],
    },
  };
}
