/** Throughput-vs-latency curves from a `tandem compare` sweep: one line per policy combination,
 *  one point per rate (the mean over seeds). */
import type { TopLevelSpec } from "vega-lite";
import type { CompareData } from "./load.ts";
import type { SummaryBar } from "./summary.ts";
import { CONFIG, VEGA_LITE_SCHEMA } from "./style.ts";

export interface SweepPoint {
  series: string;
  /** Offered arrival rate (null: the workload's own arrival times). */
  rate: number | null;
  throughput: number;
  ttft_p99_s: number;
  makespan_mean_s: number | null;
}

/** One series name per policy; prefixed by the compare folder when several are plotted. */
export function sweepPoints(compares: CompareData[]): SweepPoint[] {
  return compares.flatMap((c) =>
    c.means.map((m) => ({
      series: compares.length > 1 ? `${c.label}: ${m.policy}` : m.policy,
      rate: m.rate,
      throughput: m.throughput_requests_per_s,
      ttft_p99_s: m.ttft_p99_s,
      makespan_mean_s: m.makespan_mean_s,
    })),
  );
}

/** `workflows/s` for workloads of generated workflows, else `req/s`. */
export function rateUnit(compares: CompareData[]): string {
  return compares.every((c) => c.format === "app" || c.format === "appworld") ? "workflows/s" : "req/s";
}

export interface SweepChartOptions {
  points: SweepPoint[];
  /** The latency on the y axis. */
  y: "ttft_p99_s" | "makespan_mean_s";
  rateUnit: string;
  subtitle?: string;
}

const Y_TITLES = { ttft_p99_s: "p99 TTFT (s)", makespan_mean_s: "mean workflow makespan (s)" } as const;
const TITLES = { ttft_p99_s: "p99 TTFT vs load", makespan_mean_s: "Mean workflow makespan vs load" } as const;

/** Two panels: latency against the offered rate (when the sweep has rates) and against the
 *  measured throughput. */
export function sweepSpec(options: SweepChartOptions): TopLevelSpec {
  const series = [...new Set(options.points.map((p) => p.series))];
  const values = options.points.filter((p) => p[options.y] !== null);
  const y = { field: options.y, type: "quantitative" as const, title: Y_TITLES[options.y] };
  const color = { field: "series", type: "nominal" as const, title: "policy", sort: series };
  const tooltip = [
    { field: "series", type: "nominal" as const, title: "policy" },
    { field: "rate", type: "quantitative" as const, title: `offered rate (${options.rateUnit})` },
    { field: "throughput", type: "quantitative" as const, title: "throughput (req/s)", format: ".3f" },
    { field: options.y, type: "quantitative" as const, title: Y_TITLES[options.y], format: ".4f" },
  ];
  const panel = (x: { field: string; title: string }) => ({
    width: 360,
    height: 300,
    layer: [
      { mark: { type: "line" as const, strokeWidth: 2 }, encoding: { x: { ...x, type: "quantitative" as const }, y, color, order: { field: "rate", type: "quantitative" as const } } },
      { mark: { type: "point" as const, filled: true, size: 50 }, encoding: { x: { ...x, type: "quantitative" as const }, y, color, tooltip } },
    ],
  });
  const panels = [];
  if (values.some((p) => p.rate !== null)) panels.push(panel({ field: "rate", title: `offered rate (${options.rateUnit})` }));
  panels.push(panel({ field: "throughput", title: "throughput (completed calls/s)" }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: TITLES[options.y], ...(options.subtitle ? { subtitle: options.subtitle } : {}) },
    config: CONFIG,
    data: { values },
    hconcat: panels,
  };
}

/** TTFT p50 and p99 bars per policy, one panel per rate (means over seeds). */
export function compareBars(compares: CompareData[], rateUnit: string): SummaryBar[] {
  return compares.flatMap((c) =>
    c.means.flatMap((m) => {
      const group = compares.length > 1 ? `${c.label}: ${m.policy}` : m.policy;
      const panel = m.rate === null ? "own arrival times" : `${m.rate} ${rateUnit}`;
      return [
        { group, panel, stat: "p50" as const, value: m.ttft_p50_s },
        { group, panel, stat: "p99" as const, value: m.ttft_p99_s },
      ];
    }),
  );
}
