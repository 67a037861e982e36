/** The notebooks (notebooks/*.ts) are too slow to run in CI; these tests check their shared lib
 *  (Markdown tables, the two chart kinds the plot module lacks, PNG writing), that every notebook
 *  imports without running its study and names only policies that exist, and each study's pieces
 *  on a tiny workload: runs, tables and figures that render. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import { pngSize, renderSvg, svgSize, toVega } from "../../cli/plot/render.ts";
import { barsSpec, scatterSpec, valuesCdf } from "../../notebooks/lib/charts.ts";
import { change, markdownTable, percent } from "../../notebooks/lib/markdown.ts";
import { isMain, writeFigure, writeResults } from "../../notebooks/lib/output.ts";
import * as policyComparison from "../../notebooks/policy-comparison.ts";
import * as prefixDispatch from "../../notebooks/prefix-dispatch.ts";
import * as calibrationFit from "../../notebooks/calibration-fit.ts";
import * as parity from "../../notebooks/parity.ts";
import { crossValidate } from "../../sim/calibrate/index.ts";
import type { RequestSpec } from "../../src/core/types.ts";
import { sharedData } from "../helpers/requirements.ts";

const scratch = () => mkdtempSync(join(tmpdir(), "tandem-notebooks-"));

function titleOf(spec: unknown): string {
  return (spec as { title: { text: string } }).title.text;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

describe("notebooks/lib/markdown", () => {
  it("pads cells to their column, right-aligns all but the first, escapes pipes", () => {
    const table = markdownTable(
      ["policy", "mean s"],
      [
        ["fcfs+round-robin", "18.04"],
        ["a|b", "7.5"],
      ],
    );
    expect(table.split("\n")).toEqual(["| policy           | mean s |", "| ---------------- | -----: |", "| fcfs+round-robin |  18.04 |", "| a\\|b             |    7.5 |"]);
    expect(markdownTable(["a", "b"], [["x", "y"]], ["right", "left"]).split("\n")[1]).toBe("| --: | --- |");
  });

  it("refuses a row whose length is not the header's", () => {
    expect(() => markdownTable(["a", "b"], [["only one"]])).toThrow(/row 0 has 1 cells, the header 2/);
  });

  it("formats percentages and signed changes", () => {
    expect(percent(0.2463)).toBe("24.6%");
    expect(change(-0.093)).toBe("−9.3%");
    expect(change(0.312)).toBe("+31.2%");
    expect(change(-0.0001)).toBe("0.0%");
    expect(change(NaN)).toBe("–");
  });
});

describe("notebooks/lib/charts", () => {
  it("valuesCdf drops missing values, sorts, and ends at 1; nothing left gives undefined", () => {
    const s = valuesCdf("run", [3, null, 1, undefined, 2, NaN])!;
    expect(s.points.map((p) => p.value)).toEqual([1, 1, 2, 3]);
    expect(s.points.at(-1)!.p).toBe(1);
    expect(s.mode).toBe("sim");
    expect(valuesCdf("live", [0.5], "live")!.mode).toBe("live");
    expect(valuesCdf("run", [null, NaN])).toBeUndefined();
  });

  it("barsSpec renders one labelled bar per group, and a PNG written from it is twice the SVG", async () => {
    const spec = barsSpec({
      title: "Hit rate per policy",
      bars: [
        { group: "round-robin", value: 0.113 },
        { group: "prefix-affinity (prefill_weight 16)", value: 0.246 },
        { group: "session-affinity", value: 0.114 },
      ],
      groupTitle: "dispatch",
      valueTitle: "hit rate",
      format: ".1%",
    });
    const svg = await renderSvg(spec);
    expect(svg).toContain("Hit rate per policy");
    for (const label of ["11.3%", "24.6%", "11.4%", "prefix-affinity (prefill_weight 16)"]) expect(svg).toContain(label);
    expect(svg.match(/class="mark-rect role-mark/g)?.length).toBe(1);
    expect(() =>
      barsSpec({
        title: "t",
        bars: [
          { group: "a", value: 1 },
          { group: "a", value: 2 },
        ],
        groupTitle: "g",
        valueTitle: "v",
      }),
    ).toThrow(/exactly one bar/);

    const dir = scratch();
    const path = await writeFigure("bars", spec, dir);
    expect(path).toBe(join(dir, "bars.png"));
    const png = readFileSync(path);
    const { width, height } = svgSize(svg);
    expect(pngSize(png)).toEqual({ width: Math.round(2 * width), height: Math.round(2 * height) });
    await writeFigure("bars-again", spec, dir);
    expect(readFileSync(join(dir, "bars-again.png")).equals(png)).toBe(true);
  });

  it("scatterSpec: log-log panels with a y = x line spanning each panel's values; non-positive points dropped", async () => {
    const spec = scatterSpec({
      title: "Predicted vs measured",
      points: [
        { panel: "ttft", group: "g1", measured: 10, predicted: 12 },
        { panel: "ttft", group: "g2", measured: 1000, predicted: 900 },
        { panel: "tpot", group: "g1", measured: 30, predicted: 31 },
        { panel: "tpot", group: "g1", measured: 0, predicted: 31 },
      ],
      measuredTitle: "measured (ms)",
      predictedTitle: "predicted (ms)",
      groupTitle: "group",
    });
    const rows = (spec as { data: { values: { kind: string; panel: string; measured: number; predicted: number }[] } }).data.values;
    expect(rows.filter((r) => r.kind === "point")).toHaveLength(3);
    const diagonal = rows.filter((r) => r.kind === "diagonal" && r.panel === "ttft");
    expect(diagonal).toHaveLength(2);
    for (const d of diagonal) expect(d.measured).toBe(d.predicted);
    expect(diagonal[0].measured).toBeLessThan(10);
    expect(diagonal[1].measured).toBeGreaterThan(1000);
    const scales = JSON.stringify(toVega(spec));
    expect(scales).toContain('"type":"log"');
    const svg = await renderSvg(spec);
    expect(svg).toContain("Predicted vs measured");
    expect(svg).toContain("measured (ms)");
    expect(svg.match(/class="mark-symbol role-mark/g)?.length).toBeGreaterThanOrEqual(2); // a point mark per panel
    expect(svg.match(/class="mark-line role-mark/g)?.length).toBeGreaterThanOrEqual(2); // a y = x line per panel
  });
});

describe("notebooks/lib/output", () => {
  it("isMain is true only for the script node was started with", () => {
    expect(isMain(import.meta.url)).toBe(false);
    expect(isMain(pathToFileURL(process.argv[1]).href)).toBe(true);
  });

  it("writeResults adds the final newline", () => {
    const dir = scratch();
    expect(readFileSync(writeResults("x", "# t", dir), "utf8")).toBe("# t\n");
  });
});

describe("the notebooks import without running, and name existing policies", () => {
  it("each exports its study and main, and the figures go to docs/figures under its name", () => {
    for (const nb of [policyComparison, prefixDispatch, calibrationFit, parity]) {
      expect(typeof nb.main).toBe("function");
      expect(typeof nb.figures).toBe("function");
    }
    expect([policyComparison.NAME, prefixDispatch.NAME, calibrationFit.NAME, parity.NAME]).toEqual(["policy-comparison", "prefix-dispatch", "calibration-fit", "parity"]);
  });

  it("every policy choice they list is created by the registries", () => {
    for (const combo of policyComparison.COMBOS) {
      expect(createSchedulingPolicy(combo.scheduling, combo.label).name).toBe(typeof combo.scheduling === "string" ? combo.scheduling : combo.scheduling.name);
      createDispatchPolicy(combo.dispatch, combo.label);
    }
    expect(policyComparison.COMBOS[0].label).toBe("fcfs+round-robin");
    for (const p of prefixDispatch.POLICIES) createDispatchPolicy(p.dispatch, p.label);
    createDispatchPolicy(parity.DISPATCH, "parity");
  });
});

describe("the studies on tiny workloads", () => {
  it("policy-comparison: runs, a table per app with the baseline, p50/p99 bars and makespan CDFs that render", async () => {
    const apps = [{ name: "qa-router", params: {}, count: 4, saturation: 10 }];
    const combos = policyComparison.COMBOS.slice(0, 3);
    const cells = await policyComparison.runStudy(apps, [0.5], combos);
    expect(cells.map((c) => c.combo)).toEqual(combos.map((c) => c.label));
    for (const c of cells) {
      expect(c.rate).toBe(5);
      expect(c.makespans).toHaveLength(4);
      expect(c.report.summary.workflows.completed).toBe(4);
    }
    const tables = policyComparison.resultTables(cells);
    expect(tables).toContain("### qa-router");
    expect(tables).toContain("50% (5/s) mean s");
    expect(tables).toMatch(/\| fcfs\+round-robin +\| +[\d.]+ \| +[\d.]+ \| +[\d.]+ \| baseline \|/);
    const figures = policyComparison.figures(cells);
    expect(figures.map((f) => f.name)).toEqual(["policy-comparison-summary-50", "policy-comparison-cdf-qa-router"]);
    for (const f of figures) {
      const svg = await renderSvg(f.spec);
      expect(svg).toContain(xmlEscape(titleOf(f.spec)));
    }
    const cdf = figures[1].spec as { data: { values: { run: string }[] } };
    expect(new Set(cdf.data.values.map((v) => v.run))).toEqual(new Set(combos.map((c) => c.label)));
  });

  it("prefix-dispatch: shared prefixes give prefix-affinity a higher hit rate than round-robin; table and figures render", async () => {
    // 3 system prompts of 1,024 tokens, interleaved: round-robin over 4 instances sends each to all four.
    const requests: RequestSpec[] = [];
    for (let i = 0; i < 32; i++) {
      requests.push({ id: `r${i}`, arrival_s: i * 0.05, prompt_tokens: 1124, output_tokens: 8, segments: [{ key: `sys${i % 3}`, tokens: 1024 }, { tokens: 100 }] });
    }
    const policies = prefixDispatch.POLICIES.filter((p) => p.label === "round-robin" || p.label === "prefix-affinity (prefill_weight 16)");
    const runs = await prefixDispatch.runStudy({ kind: "requests", requests }, policies);
    const [rr, pa] = runs.map((r) => r.report.summary.prefix_cache.hit_rate);
    expect(pa).toBeGreaterThan(rr);
    for (const r of runs) expect(r.ttfts).toHaveLength(32);
    const table = prefixDispatch.resultTable(runs);
    expect(table).toContain("| round-robin ");
    expect(table).toContain("1.00×");
    const figures = prefixDispatch.figures(runs);
    expect(figures.map((f) => f.name)).toEqual(["prefix-dispatch-ttft-cdf", "prefix-dispatch-hit-rate"]);
    const bars = await renderSvg(figures[1].spec);
    expect(bars).toContain(`${(100 * pa).toFixed(1)}%`);
    expect(await renderSvg(figures[0].spec)).toContain(xmlEscape(titleOf(figures[0].spec)));
  });

  const splitwise = sharedData(calibrationFit.PROFILE);
  splitwise.it("calibration-fit: per-row cross-validated predictions give the library's cross-validation errors", async () => {
    const groups = calibrationFit.sortGroups(calibrationFit.splitwiseGroups(readFileSync(splitwise.path, "utf8"), "splitwise.csv"));
    expect(groups).toHaveLength(12);
    expect(calibrationFit.groupLabel(groups[0])).toBe("llama-2-70b a100-80gb TP2");
    const group = groups.find((g) => g.gpu === "h100-80gb" && g.tensor_parallel === 2)!;
    const result = calibrationFit.crossValidatedPredictions(group);
    expect(result.predictions).toHaveLength(group.measurements.length);
    const library = crossValidate(group.measurements, { folds: 5, seed: 1, fit: calibrationFit.FIT });
    for (const q of ["ttft", "tpot", "e2e"] as const) {
      expect(result.errors[q]!.count).toBe(library.errors[q]!.count);
      expect(result.errors[q]!.mape).toBeCloseTo(library.errors[q]!.mape, 12);
      expect(result.errors[q]!.max_ape).toBeCloseTo(library.errors[q]!.max_ape, 12);
    }
    expect(result.unit).toBe("shape");
    expect(calibrationFit.resultTable([result])).toContain("| llama-2-70b | h100-80gb |   2 |   100/105 |      18 |     12 |");
    const [figure] = calibrationFit.figures([result]);
    const svg = await renderSvg(figure.spec);
    expect(svg).toContain("prompt_time (TTFT)");
    expect(svg).toContain("llama-2-70b h100-80gb TP2");
  });

  it("parity: the sim half and its CDF panels (a relabelled copy stands in for live)", async () => {
    const sim = await parity.runSim();
    expect(sim.report.summary.calls.arrived).toBe(300);
    expect(sim.calls).toHaveLength(300);
    expect(sim.workflows).toHaveLength(100);
    const live = { ...sim, label: "live (emulators)", report: { ...sim.report, mode: "live" as const } };
    expect(parity.halfSeries(live, "ttft_s")!.mode).toBe("live");
    const [figure] = parity.figures(sim, live);
    expect(figure.name).toBe("parity-cdf");
    const svg = await renderSvg(figure.spec);
    for (const text of ["TTFT", "E2E", "Workflow makespan", "live (emulators)"]) expect(svg).toContain(text);
    expect(svg).toContain("stroke-dasharray"); // the live lines are dashed
  });
});
