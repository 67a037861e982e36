/** `tandem plot` as a library: load reports, build vega-lite specs, render them. */
export { loadPlotInputs, type PlotInputs, type RunData, type CompareData, type SelectedWorkflow, type GanttStep } from "./load.ts";
export { buildCharts, runCdfSeries, type ChartSet } from "./charts.ts";
export { cdfPoints, cdfSpec, paritySpec, percentilePoints, type CdfSeries } from "./cdf.ts";
export { summarySpec, reportBars } from "./summary.ts";
export { sweepSpec, sweepPoints, compareBars } from "./sweep.ts";
export { timelineSpec, timelineRows } from "./timeline.ts";
export { ganttSpec, ganttBars } from "./gantt.ts";
export { decisionSpec, decisionLanes, dispatchColour, CONTROLLER_LANE } from "./decisions.ts";
export { loadDecisionTimeline, DECISIONS_FILE, type DecisionTimeline } from "./decisions-load.ts";
export { htmlPage, type HtmlPageOptions } from "./html.ts";
export { renderSvg, svgToPng, svgSize, pngSize, toVega } from "./render.ts";
export { writeCharts, PLOT_FORMATS, HTML_FILE, type PlotFormat } from "./write.ts";
export type { Chart } from "./style.ts";
