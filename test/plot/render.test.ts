/** Every chart kind, built from small simulated runs, renders to SVG (vega's headless View) and to a
 *  PNG of the expected size (resvg), and the same inputs give the same bytes. */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCharts, type ChartSet } from "../../cli/plot/charts.ts";
import { loadPlotInputs } from "../../cli/plot/load.ts";
import { pngSize, renderSvg, svgSize, svgToPng } from "../../cli/plot/render.ts";
import type { Chart } from "../../cli/plot/style.ts";
import { asLiveRun, compareRun, requestWorkload, scratchDir, simRun, workflowWorkload } from "./fixtures.ts";

const dir = scratchDir();
const runA = join(dir, "wf-lo");
const runB = join(dir, "wf-rr");
const live = join(dir, "wf-live");
const requests = join(dir, "requests");
const bare = join(dir, "bare");
const compare = join(dir, "cmp");
let set: ChartSet;

beforeAll(async () => {
  await simRun(runA, workflowWorkload(), "least-outstanding");
  await simRun(runB, workflowWorkload(), "round-robin");
  asLiveRun(runA, live, runB);
  await simRun(requests, requestWorkload());
  mkdirSync(bare);
  copyFileSync(join(requests, "report.json"), join(bare, "report.json")); // no CSVs: percentiles only
  await compareRun(compare);
  set = buildCharts(await loadPlotInputs([runA, runB, live, requests, bare, compare]));
});

function chart(name: string): Chart {
  const found = set.charts.find((c) => c.name === name);
  if (!found) throw new Error(`no chart ${name}; have ${set.charts.map((c) => c.name).join(", ")}`);
  return found;
}

/** The spec's title text (what the rendered SVG must show). */
function titleOf(c: Chart): string {
  const title = (c.spec as { title?: { text: string } }).title;
  return title!.text;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Marks that carry data: vega writes each mark group with its type in the class. */
function marksOf(svg: string, type: string): number {
  return (svg.match(new RegExp(`class="mark-${type} role-mark`, "g")) ?? []).length;
}

describe("charts from simulated runs", () => {
  it("every kind is built: CDFs, bars, sim vs live, timelines, Gantt charts, sweeps", () => {
    const names = set.charts.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "cdf-ttft",
        "cdf-tpot",
        "cdf-e2e",
        "cdf-makespan",
        "summary",
        "sim-vs-live",
        "timeline-fcfs-least-outstanding-sim-wf-lo",
        "gantt-fcfs-least-outstanding-sim-wf-lo",
        "gantt-fcfs-round-robin-sim",
        "timeline-fcfs-least-outstanding-sim-requests",
        "sweep-ttft",
        "sweep-makespan",
        "compare-summary",
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
    // The report-only run falls back to percentiles, and says so.
    expect(set.notes.some((n) => n.includes("bare") && n.includes("no calls.csv"))).toBe(true);
    const ttft = chart("cdf-ttft").spec as { layer: unknown[]; data: { values: { run: string; source: string }[] } };
    expect(ttft.layer).toHaveLength(2);
    expect(ttft.data.values.filter((v) => v.source === "report percentiles").length).toBe(4);
  });

  const expectations: [string, string[]][] = [
    ["cdf-ttft", ["line"]],
    ["cdf-tpot", ["line"]],
    ["cdf-e2e", ["line"]],
    ["cdf-makespan", ["line"]],
    ["summary", ["rect"]],
    ["sim-vs-live", ["line"]],
    ["timeline-fcfs-least-outstanding-sim-wf-lo", ["line"]],
    ["gantt-fcfs-least-outstanding-sim-wf-lo", ["rect", "rect"]], // bars and first-token ticks: two rect marks
    ["sweep-ttft", ["line", "symbol"]],
    ["sweep-makespan", ["line", "symbol"]],
    ["compare-summary", ["rect"]],
  ];

  for (const [name, marks] of expectations) {
    it(`${name} renders to SVG and to a PNG twice its size`, async () => {
      const c = chart(name);
      const svg = await renderSvg(c.spec);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
      expect(svg).toContain(xmlEscape(titleOf(c)));
      for (const mark of new Set(marks)) {
        expect(marksOf(svg, mark), `${name}: mark-${mark}`).toBeGreaterThanOrEqual(marks.filter((m) => m === mark).length);
      }
      const { width, height } = svgSize(svg);
      expect(width).toBeGreaterThan(100);
      expect(height).toBeGreaterThan(100);
      const png = svgToPng(svg, 2);
      expect(pngSize(png)).toEqual({ width: Math.round(width * 2), height: Math.round(height * 2) });
    });
  }

  it("the Gantt chart shows the tool steps of the longest workflow (from report.json)", async () => {
    const spec = chart("gantt-fcfs-least-outstanding-sim-wf-lo").spec as { layer: { data: { values: { resource: string }[] } }[] };
    const resources = new Set(spec.layer[0].data.values.map((b) => b.resource));
    expect(resources.has("tool")).toBe(true);
    expect([...resources].some((r) => r.startsWith("llama-3-8b-"))).toBe(true);
  });

  it("the same inputs give byte-identical SVG and PNG", async () => {
    const again = buildCharts(await loadPlotInputs([runA, runB, live, requests, bare, compare]));
    expect(JSON.stringify(again.charts)).toBe(JSON.stringify(set.charts));
    for (const name of ["cdf-ttft", "gantt-fcfs-least-outstanding-sim-wf-lo"]) {
      const a = await renderSvg(chart(name).spec);
      const b = await renderSvg(again.charts.find((c) => c.name === name)!.spec);
      expect(b).toBe(a);
      expect(Buffer.compare(svgToPng(a), svgToPng(b))).toBe(0);
    }
  });

  it("--workflow picks another workflow: LLM steps from calls.csv, with a note about tools", async () => {
    const inputs = await loadPlotInputs([runA], { workflow: "supervisor-0" });
    const wf = inputs.runs[0].workflow!;
    expect(wf.id).toBe("supervisor-0");
    if (wf.source === "calls.csv") {
      expect(wf.steps.every((s) => s.kind === "llm")).toBe(true);
      expect(inputs.notes.some((n) => n.includes("supervisor-0") && n.includes("tool-step timings"))).toBe(true);
    } else {
      expect(wf.steps.some((s) => s.kind === "tool")).toBe(true); // it was the longest one
    }
    const svg = await renderSvg(buildCharts(inputs).charts.find((c) => c.name.startsWith("gantt-"))!.spec);
    expect(svg).toContain("Workflow supervisor-0");
  });
});
