import { Command } from "commander";
import { buildCharts } from "./plot/charts.ts";
import { loadPlotInputs } from "./plot/load.ts";
import { DEFAULT_CDF_POINTS } from "./plot/cdf.ts";
import { DEFAULT_DECISION_POINTS } from "./plot/decisions-load.ts";
import { DEFAULT_PNG_SCALE } from "./plot/render.ts";
import { PLOT_FORMATS, writeCharts, type PlotFormat } from "./plot/write.ts";
import { oneOf, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { commandDescription } from "./command-list.ts";

interface PlotFlags {
  out: string;
  format: PlotFormat;
  workflow?: string;
  decisions?: string;
  maxDecisions: number;
  maxPoints: number;
  scale: number;
}

export function plotCommand(): Command {
  return new Command("plot")
    .description(commandDescription("plot"))
    .argument("<inputs...>", "report.json files, run folders (report.json with calls.csv, workflows.csv) or compare folders (compare.json)")
    .option("--out <dir>", "output folder", "out/plot")
    .option("--format <format>", `html (one page), svg, png or json (vega-lite specs)`, oneOf(PLOT_FORMATS), "html")
    .option("--workflow <id>", "workflow for the Gantt chart (default: the one with the longest makespan)")
    .option("--decisions <file>", "the decision trace of the one run given, for its decision timeline (default: decisions.jsonl in each run folder)")
    .option("--max-decisions <n>", "most dispatches (and holds) per decision timeline; more are evenly thinned", positiveInteger, DEFAULT_DECISION_POINTS)
    .option("--max-points <n>", "most points per CDF line", positiveInteger, DEFAULT_CDF_POINTS)
    .option("--scale <f>", "PNG pixels per SVG unit", positiveNumber, DEFAULT_PNG_SCALE)
    .action((inputs: string[], flags: PlotFlags) => runAction(() => runPlot(inputs, flags)));
}

async function runPlot(paths: string[], flags: PlotFlags): Promise<void> {
  const inputs = await loadPlotInputs(paths, { workflow: flags.workflow, decisions: flags.decisions, maxDecisionPoints: flags.maxDecisions });
  const { charts, notes } = buildCharts(inputs, { maxPoints: flags.maxPoints });
  const described = [
    ...inputs.runs.map((r) => `${r.label}: ${r.file} (${r.report.mode})`),
    ...inputs.compares.map((c) => `${c.label}: ${c.file} (compare, ${c.means.length} policy × rate means)`),
  ];
  const written = await writeCharts(charts, { out: flags.out, format: flags.format, scale: flags.scale, inputs: described, notes });
  for (const note of notes) process.stderr.write(`tandem: note: ${note}\n`);
  process.stdout.write(`wrote ${charts.length} chart${charts.length === 1 ? "" : "s"} to ${flags.out}: ${written.map((p) => p.slice(flags.out.length).replace(/^[\\/]/, "")).join(", ")}\n`);
}
