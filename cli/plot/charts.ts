/** Which charts the inputs allow, and their specs. Pure: loaded data in, charts and notes out. */
import { cdfPoints, cdfSpec, paritySpec, percentilePoints, DEFAULT_CDF_POINTS, type CdfSeries } from "./cdf.ts";
import { decisionSpec } from "./decisions.ts";
import { ganttSpec } from "./gantt.ts";
import type { PlotInputs, RunData } from "./load.ts";
import { reportBars, summarySpec } from "./summary.ts";
import { compareBars, rateUnit, sweepPoints, sweepSpec } from "./sweep.ts";
import { timelineSpec } from "./timeline.ts";
import { METRIC_LABELS, uniqueSlugs, type Chart, type PlotMetric } from "./style.ts";

export interface ChartOptions {
  /** Most points per CDF line. */
  maxPoints?: number;
}

export interface ChartSet {
  charts: Chart[];
  /** Charts not drawn, or drawn from less than the full data, and why. */
  notes: string[];
}

const CDF_METRICS: PlotMetric[] = ["ttft_s", "tpot_s", "e2e_s", "makespan_s"];
const CDF_NAMES: Record<PlotMetric, string> = { ttft_s: "cdf-ttft", tpot_s: "cdf-tpot", e2e_s: "cdf-e2e", makespan_s: "cdf-makespan" };

/** One run's CDF of `metric`: every value from its CSV, or the report's percentiles. */
export function runCdfSeries(run: RunData, metric: PlotMetric, maxPoints = DEFAULT_CDF_POINTS): CdfSeries | undefined {
  const summary = run.report.summary;
  const dist = metric === "makespan_s" ? summary.workflow_makespan_s : summary[metric];
  const values = metric === "makespan_s" ? run.makespans : (run.latencies?.[metric] ?? null);
  if (values !== null) {
    if (values.length === 0) return undefined;
    return { run: run.label, mode: run.report.mode, source: "csv", points: cdfPoints(values, maxPoints) };
  }
  const points = percentilePoints(dist);
  return points.length === 0 ? undefined : { run: run.label, mode: run.report.mode, source: "percentiles", points };
}

export function buildCharts(inputs: PlotInputs, options: ChartOptions = {}): ChartSet {
  const charts: Chart[] = [];
  const notes = [...inputs.notes];
  const { runs, compares } = inputs;
  const maxPoints = options.maxPoints ?? DEFAULT_CDF_POINTS;

  if (runs.length > 0) {
    for (const metric of CDF_METRICS) {
      const series = runs.map((run) => runCdfSeries(run, metric, maxPoints)).filter((s): s is CdfSeries => s !== undefined);
      const label = METRIC_LABELS[metric];
      if (series.length === 0) {
        if (metric === "makespan_s" && runs.every((r) => r.report.summary.workflows.arrived === 0)) continue; // request traces: no workflows to plot
        notes.push(`${label.name} CDF skipped: no run has completed ${label.what} with a ${label.name}`);
        continue;
      }
      const fromPercentiles = series.filter((s) => s.source === "percentiles").map((s) => s.run);
      charts.push({
        name: CDF_NAMES[metric],
        title: `${label.name} CDF`,
        spec: cdfSpec({
          metric,
          series,
          subtitle:
            fromPercentiles.length > 0 ? `dots: report percentiles only (no CSV) for ${fromPercentiles.join(", ")}` : `one line per run, every completed ${label.what.replace(/s$/, "")}`,
        }),
      });
    }

    const bars = runs.flatMap((run) => reportBars(run.label, run.report));
    if (bars.length > 0) {
      charts.push({
        name: "summary",
        title: "Latency p50 and p99 per run",
        spec: summarySpec({ title: "Latency p50 and p99 per run", subtitle: "from report.json summaries", bars, groupTitle: "run", valueTitle: "seconds", panelTitle: null }),
      });
    }

    const modes = new Set(runs.map((r) => r.report.mode));
    if (modes.has("sim") && modes.has("live")) {
      const panels = (["ttft_s", "tpot_s", "e2e_s"] as const).map((metric) => ({
        metric,
        series: runs.map((run) => runCdfSeries(run, metric, maxPoints)).filter((s): s is CdfSeries => s !== undefined),
      }));
      charts.push({ name: "sim-vs-live", title: "Sim vs live: latency CDFs", spec: paritySpec(panels, "solid: sim · dashed: live") });
    }

    const stems = uniqueSlugs(runs.map((r) => r.label));
    runs.forEach((run, i) => {
      if (run.report.timelines === undefined) {
        notes.push(`${run.file}: no timelines in the report (written before tandem sampled them); no timeline chart`);
      } else if (run.report.timelines.every((t) => t.t_s.length === 0)) {
        notes.push(`${run.file}: the timelines hold no samples; no timeline chart`);
      } else {
        charts.push({ name: `timeline-${stems[i]}`, title: `Instances over time: ${run.label}`, spec: timelineSpec({ run: run.label, timelines: run.report.timelines }) });
      }
      if (run.workflow !== null && run.workflow.steps.length > 0) {
        charts.push({ name: `gantt-${stems[i]}`, title: `Workflow ${run.workflow.id}: ${run.label}`, spec: ganttSpec({ run: run.label, workflow: run.workflow }) });
      }
      const decisions = run.decisions;
      if (decisions !== null) {
        if (decisions.totals.dispatches + decisions.totals.holds + decisions.totals.errors === 0) {
          notes.push(`${decisions.file}: no dispatch, hold or policy error recorded; no decision timeline`);
        } else {
          if (decisions.dispatches.length < decisions.totals.dispatches || decisions.holds.length < decisions.totals.holds) {
            notes.push(
              `${decisions.file}: the decision timeline shows ${decisions.dispatches.length} of ${decisions.totals.dispatches} dispatches and ${decisions.holds.length} of ${decisions.totals.holds} holds, evenly spread (--max-decisions)`,
            );
          }
          charts.push({ name: `decisions-${stems[i]}`, title: `Decisions over time: ${run.label}`, spec: decisionSpec({ run: run.label, timeline: decisions }) });
        }
      }
    });
  }

  if (compares.length > 0) {
    const points = sweepPoints(compares);
    const unit = rateUnit(compares);
    const subtitle = `tandem compare: ${compares.map((c) => c.label).join(", ")} · mean over seeds per policy and rate`;
    charts.push({ name: "sweep-ttft", title: "p99 TTFT vs load", spec: sweepSpec({ points, y: "ttft_p99_s", rateUnit: unit, subtitle }) });
    if (points.some((p) => p.makespan_mean_s !== null)) {
      charts.push({ name: "sweep-makespan", title: "Mean workflow makespan vs load", spec: sweepSpec({ points, y: "makespan_mean_s", rateUnit: unit, subtitle }) });
    }
    charts.push({
      name: "compare-summary",
      title: "TTFT p50 and p99 per policy",
      spec: summarySpec({
        title: "TTFT p50 and p99 per policy",
        subtitle,
        bars: compareBars(compares, unit),
        groupTitle: "policy",
        valueTitle: "TTFT (s)",
        panelTitle: "offered rate",
      }),
    });
  }
  return { charts, notes };
}
