/** The decision timeline of one run (from its `--decisions` trace): a lane per instance with a dot
 *  per call dispatched there, coloured by agent; above them the controller's lane with each hold
 *  (a triangle, coloured by its reason), how long held calls waited (grey bars, to their dispatch)
 *  and policy errors (red crosses). Below, when the policy scores candidates, the score the chosen
 *  instance had. */
import type { TopLevelSpec } from "vega-lite";
import type { DecisionTimeline } from "./decisions-load.ts";
import { CHART_WIDTH, CONFIG, VEGA_LITE_SCHEMA } from "./style.ts";

export const CONTROLLER_LANE = "controller";

export interface DecisionChartOptions {
  run: string;
  timeline: DecisionTimeline;
}

/** The lanes, top to bottom: the controller, then the instances in config order (and any the
 *  trace dispatched to that its header did not list). */
export function decisionLanes(timeline: DecisionTimeline): string[] {
  const lanes = [CONTROLLER_LANE, ...timeline.instances];
  for (const d of timeline.dispatches) if (!lanes.includes(d.instance)) lanes.push(d.instance);
  return lanes;
}

/** Colour dispatches by agent when calls have agents, else by the policy that chose (a policy
 *  file's fallback shows apart), else by workflow. */
export function dispatchColour(timeline: DecisionTimeline): "agent" | "policy" | "workflow" {
  if (timeline.dispatches.some((d) => d.agent !== null)) return "agent";
  if (new Set(timeline.dispatches.map((d) => d.policy)).size > 1 || timeline.dispatches.every((d) => d.workflow === null)) return "policy";
  return "workflow";
}

export function decisionSpec(options: DecisionChartOptions): TopLevelSpec {
  const { timeline } = options;
  const lanes = decisionLanes(timeline);
  const colourBy = dispatchColour(timeline);
  const x = { field: "t_s", type: "quantitative" as const, title: "time (s)" };
  const lane = (field: string) => ({ field, type: "nominal" as const, sort: lanes, title: null, scale: { domain: lanes } });
  const time = (field: string, title: string) => ({ field, type: "quantitative" as const, title, format: ".3f" });

  // Calls dispatched at nearly the same time spread over the lane's height (golden-ratio steps:
  // deterministic, and neighbours in time land far apart).
  const dispatches = timeline.dispatches.map((d, i) => ({ ...d, lane: d.instance, colour: d[colourBy] ?? "(none)", jitter: (i * 0.6180339887) % 1 }));
  const held = timeline.dispatches
    .filter((d) => d.held_s !== null && d.held_s > 0)
    .map((d) => ({ lane: CONTROLLER_LANE, from_s: d.t_s - d.held_s!, t_s: d.t_s, call: d.call, held_s: d.held_s, instance: d.instance }));
  const holds = timeline.holds.map((h) => ({ ...h, lane: CONTROLLER_LANE }));
  const errors = timeline.errors.map((e) => ({ ...e, lane: CONTROLLER_LANE }));

  // Empty layers are left out: vega-lite would still draw their legends' titles.
  const layers: object[] = [];
  if (held.length > 0)
    layers.push({
      data: { values: held },
      mark: { type: "bar" as const, color: "#bbbbbb", opacity: 0.5, height: 8 },
      encoding: {
        y: lane("lane"),
        x: { ...x, field: "from_s" },
        x2: { field: "t_s" },
        tooltip: [
          { field: "call", type: "nominal" as const },
          time("from_s", "held from (s)"),
          time("t_s", "dispatched at (s)"),
          { field: "instance", type: "nominal" as const, title: "to" },
        ],
      },
    });
  if (dispatches.length > 0)
    layers.push({
      data: { values: dispatches },
      mark: { type: "point" as const, filled: true, size: 22, opacity: 0.75 },
      encoding: {
        y: lane("lane"),
        x,
        yOffset: { field: "jitter", type: "quantitative" as const, scale: { domain: [0, 1], range: [-8, 8] } },
        color: { field: "colour", type: "nominal" as const, title: `dispatched (${colourBy})` },
        tooltip: [
          { field: "call", type: "nominal" as const },
          { field: "instance", type: "nominal" as const, title: "to" },
          { field: "policy", type: "nominal" as const },
          time("t_s", "at (s)"),
          time("waited_s", "waited at the controller (s)"),
          { field: "score", type: "quantitative" as const, title: "score of the chosen" },
          { field: "reason", type: "nominal" as const },
        ],
      },
    });
  if (holds.length > 0)
    layers.push({
      data: { values: holds },
      mark: { type: "point" as const, shape: "triangle-down", filled: true, size: 50 },
      encoding: {
        y: lane("lane"),
        x,
        color: { field: "reason", type: "nominal" as const, title: "held (reason)", scale: { scheme: "dark2" } },
        tooltip: [{ field: "call", type: "nominal" as const }, time("t_s", "held at (s)"), { field: "policy", type: "nominal" as const }, { field: "reason", type: "nominal" as const }],
      },
    });
  if (errors.length > 0)
    layers.push({
      data: { values: errors },
      mark: { type: "point" as const, shape: "cross", filled: true, size: 80, color: "#d62728" },
      encoding: {
        y: lane("lane"),
        x,
        tooltip: [
          { field: "call", type: "nominal" as const },
          time("t_s", "at (s)"),
          { field: "hook", type: "nominal" as const },
          { field: "fallback", type: "nominal" as const },
          { field: "error", type: "nominal" as const },
        ],
      },
    });
  const lanesChart = {
    width: CHART_WIDTH,
    height: { step: 34 },
    layer: layers,
    resolve: { scale: { color: "independent" as const }, legend: { color: "independent" as const } },
  };

  const scored = timeline.dispatches.filter((d) => d.score !== null && Number.isFinite(d.score));
  const panels: object[] = [lanesChart];
  if (scored.length > 0) {
    panels.push({
      width: CHART_WIDTH,
      height: 140,
      data: { values: scored.map((d) => ({ t_s: d.t_s, score: d.score, instance: d.instance, call: d.call, policy: d.policy })) },
      mark: { type: "point" as const, filled: true, size: 16, opacity: 0.7 },
      encoding: {
        x,
        y: { field: "score", type: "quantitative" as const, title: "score of the chosen instance" },
        color: { field: "instance", type: "nominal" as const, title: "chosen instance", sort: lanes.slice(1), scale: { scheme: "set2" } },
        tooltip: [{ field: "call", type: "nominal" as const }, { field: "instance", type: "nominal" as const }, time("t_s", "at (s)"), { field: "score", type: "quantitative" as const }],
      },
    });
  }

  const { totals } = timeline;
  const shown = (kept: number, total: number, what: string) => (kept < total ? `${kept} of ${total} ${what} (evenly thinned)` : `${total} ${what}`);
  const policies = `${timeline.scheduling}+${timeline.dispatch}`;
  const subtitle = [
    `${options.run.startsWith(policies) ? options.run : `${options.run} · ${policies}`} · ${shown(timeline.dispatches.length, totals.dispatches, "dispatches")}, ${shown(timeline.holds.length, totals.holds, "holds")}${totals.errors > 0 ? `, ${totals.errors} policy errors` : ""}`,
    "controller lane: ▼ hold begins (colour: reason) · grey: held until dispatched · red ✕: policy error (fallback decided)",
  ];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: `Decisions over time: ${options.run}`, subtitle },
    config: CONFIG,
    vconcat: panels,
    resolve: { scale: { x: "shared", color: "independent" }, legend: { color: "independent" } },
  } as TopLevelSpec;
}
