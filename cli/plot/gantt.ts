/** A Gantt chart of one workflow: each step a row, from its release to its end, coloured by where
 *  it ran (an instance, or a tool); an LLM step's time queued at the controller is grey and its
 *  first token is marked. Times count from the workflow's arrival. */
import type { TopLevelSpec } from "vega-lite";
import type { SelectedWorkflow } from "./load.ts";
import { CHART_WIDTH, CONFIG, VEGA_LITE_SCHEMA } from "./style.ts";

export interface GanttBar {
  row: string;
  step: string;
  kind: "llm" | "tool";
  /** Instance id, or `tool`. */
  resource: string;
  phase: "queued" | "running";
  start_s: number;
  end_s: number;
}

/** Rows label steps; above this many the step names are hidden (the bars still show). */
const LABELLED_ROWS = 60;

export function ganttBars(workflow: SelectedWorkflow): { bars: GanttBar[]; firstTokens: { row: string; t_s: number }[] } {
  const origin = workflow.arrival_s;
  const bars: GanttBar[] = [];
  const firstTokens: { row: string; t_s: number }[] = [];
  for (const step of workflow.steps) {
    const row = step.step_id;
    const resource = step.kind === "tool" ? "tool" : (step.instance ?? "(none)");
    const serviceStart = step.dispatched_s ?? step.start_s;
    if (step.kind === "llm" && serviceStart > step.start_s) {
      bars.push({ row, step: step.step_id, kind: step.kind, resource, phase: "queued", start_s: step.start_s - origin, end_s: serviceStart - origin });
    }
    bars.push({ row, step: step.step_id, kind: step.kind, resource, phase: "running", start_s: serviceStart - origin, end_s: step.end_s - origin });
    if (step.first_token_s !== null) firstTokens.push({ row, t_s: step.first_token_s - origin });
  }
  return { bars, firstTokens };
}

export interface GanttChartOptions {
  run: string;
  workflow: SelectedWorkflow;
}

export function ganttSpec(options: GanttChartOptions): TopLevelSpec {
  const { workflow } = options;
  const { bars, firstTokens } = ganttBars(workflow);
  const rows = [...new Set(workflow.steps.map((s) => s.step_id))];
  const resources = [...new Set(bars.map((b) => b.resource))].sort((a, b) => (a === "tool" ? 1 : b === "tool" ? -1 : a < b ? -1 : a > b ? 1 : 0));
  const labelled = rows.length <= LABELLED_ROWS;
  const y = {
    field: "row",
    type: "nominal" as const,
    sort: rows,
    title: `step (${rows.length}, in order of release)`,
    axis: labelled ? { labelLimit: 200 } : { labels: false, ticks: false },
  };
  const x = { field: "start_s", type: "quantitative" as const, title: "time since the workflow arrived (s)" };
  const makespan = workflow.makespan_s ?? workflow.finished_s - workflow.arrival_s;
  const shown = workflow.source === "report" ? "LLM calls and tool steps" : "LLM calls (from calls.csv; tool steps not recorded)";
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `Workflow ${workflow.id}: steps over time`,
      subtitle: [`${options.run} · makespan ${makespan.toFixed(3)} s · ${shown}`, "grey: queued at the controller · black tick: first token"],
    },
    config: CONFIG,
    width: CHART_WIDTH,
    height: labelled ? { step: 16 } : 720,
    layer: [
      {
        data: { values: bars },
        mark: { type: "bar" as const, height: labelled ? 11 : { band: 0.9 } },
        encoding: {
          y,
          x,
          x2: { field: "end_s" },
          color: {
            condition: { test: "datum.phase === 'queued'", value: "#d0d0d0" },
            field: "resource",
            type: "nominal" as const,
            title: "ran on",
            sort: resources,
          },
          tooltip: [
            { field: "step", type: "nominal" as const },
            { field: "kind", type: "nominal" as const },
            { field: "resource", type: "nominal" as const, title: "ran on" },
            { field: "phase", type: "nominal" as const },
            { field: "start_s", type: "quantitative" as const, title: "from (s)", format: ".3f" },
            { field: "end_s", type: "quantitative" as const, title: "to (s)", format: ".3f" },
          ],
        },
      },
      {
        data: { values: firstTokens },
        mark: { type: "tick" as const, color: "black", thickness: 1.5 },
        encoding: { y: { field: "row", type: "nominal" as const, sort: rows }, x: { field: "t_s", type: "quantitative" as const } },
      },
    ],
  };
}
