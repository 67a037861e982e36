/** What every chart shares: the vega-lite schema id, sizes, fonts and labels with units. */
import type { TopLevelSpec } from "vega-lite";

export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
export const CHART_WIDTH = 560;
export const CHART_HEIGHT = 320;
/** DejaVu Sans is what PNGs are rendered with (the font ships in node_modules/dejavu-fonts-ttf). */
export const CHART_FONT = "DejaVu Sans, Verdana, sans-serif";

/** A chart as tandem writes it: a file stem, its title and its vega-lite spec. */
export interface Chart {
  /** File stem: `cdf-ttft`, `gantt-fcfs-least-outstanding`, … */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

export const CONFIG = {
  font: CHART_FONT,
  background: "white",
  title: { fontSize: 15, anchor: "start" as const, subtitleFontSize: 11, subtitleColor: "#555" },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320, symbolLimit: 24 },
  view: { stroke: "#ddd" },
};

/** Human names and units of the metrics. */
export const METRIC_LABELS = {
  ttft_s: { name: "TTFT", axis: "time to first token (s)", what: "calls" },
  tpot_s: { name: "TPOT", axis: "time per output token (s)", what: "calls" },
  e2e_s: { name: "E2E", axis: "end-to-end latency (s)", what: "calls" },
  makespan_s: { name: "Workflow makespan", axis: "workflow makespan (s)", what: "workflows" },
} as const;
export type PlotMetric = keyof typeof METRIC_LABELS;

/** A file-name-safe stem from a label. */
export function slug(label: string): string {
  const s = label
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s === "" ? "run" : s;
}

/** Stems made unique by a numeric suffix, in order. */
export function uniqueSlugs(labels: string[]): string[] {
  const used = new Set<string>();
  return labels.map((label) => {
    const base = slug(label);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  });
}
