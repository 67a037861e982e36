/** Writing charts: one self-contained HTML page, or one SVG, PNG or vega-lite JSON file per chart. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/core/errors.ts";
import { htmlPage } from "./html.ts";
import { renderSvg, svgToPng, DEFAULT_PNG_SCALE } from "./render.ts";
import type { Chart } from "./style.ts";

export const PLOT_FORMATS = ["html", "svg", "png", "json"] as const;
export type PlotFormat = (typeof PLOT_FORMATS)[number];

/** The page's file name in html format. */
export const HTML_FILE = "plots.html";

export interface WriteOptions {
  out: string;
  format: PlotFormat;
  /** PNG pixels per SVG unit. */
  scale?: number;
  /** For the HTML page: the inputs and notes it lists. */
  inputs: string[];
  notes: string[];
}

/** Writes the charts; returns the paths written, in chart order. */
export async function writeCharts(charts: Chart[], options: WriteOptions): Promise<string[]> {
  try {
    mkdirSync(options.out, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`--out ${options.out}: cannot create the output folder (${code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : code})`);
  }
  if (options.format === "html") {
    const path = join(options.out, HTML_FILE);
    writeFileSync(path, htmlPage({ title: "tandem plots", charts, inputs: options.inputs, notes: options.notes }));
    return [path];
  }
  const written: string[] = [];
  for (const chart of charts) {
    const path = join(options.out, `${chart.name}.${options.format === "json" ? "vl.json" : options.format}`);
    if (options.format === "json") writeFileSync(path, JSON.stringify(chart.spec, null, 2) + "\n");
    else {
      const svg = await renderSvg(chart.spec);
      writeFileSync(path, options.format === "svg" ? svg : svgToPng(svg, options.scale ?? DEFAULT_PNG_SCALE));
    }
    written.push(path);
  }
  return written;
}
