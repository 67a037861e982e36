/** The decision timeline (`tandem plot` of a run with a decision trace): found beside the report or
 *  named with --decisions, its data is the trace's dispatches, holds and chosen scores, the spec
 *  compiles and renders, long traces are thinned evenly, and bad traces are one-line errors. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCharts } from "../../cli/plot/charts.ts";
import { CONTROLLER_LANE } from "../../cli/plot/decisions.ts";
import { loadDecisionTimeline } from "../../cli/plot/decisions-load.ts";
import { loadPlotInputs } from "../../cli/plot/load.ts";
import { renderSvg, toVega } from "../../cli/plot/render.ts";
import type { Chart } from "../../cli/plot/style.ts";
import { RunOutput } from "../../cli/run-output.ts";
import type { DecisionRecord } from "../../src/core/decisions.ts";
import { InputError } from "../../src/core/errors.ts";
import type { PolicyChoice } from "../../src/policies/registry.ts";
import { runSimulation } from "../../sim/run.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";
import { scratchDir, TINY_CLUSTER } from "./fixtures.ts";

type Json = any;
const json = (spec: unknown): Json => JSON.parse(JSON.stringify(spec));
const EXAMPLE = resolve(REPO_ROOT, "examples/policies/least-work.ts");
const BIN = join(REPO_ROOT, "bin/tandem.mjs");

const dir = scratchDir("tandem-plot-decisions-");
const scored = join(dir, "least-work");
const held = join(dir, "capacity");

/** A qa-router run written as `tandem sim --out DIR --decisions DIR/decisions.jsonl` writes it. */
async function tracedRun(out: string, dispatch: PolicyChoice, rate: number, count: number): Promise<void> {
  const output = new RunOutput(out, true);
  const { report } = await runSimulation({
    cluster: TINY_CLUSTER,
    workload: { kind: "app", name: "qa-router", params: {}, timing: { kind: "poisson", rate, count } },
    dispatch,
    seed: 5,
    decisions: join(out, "decisions.jsonl"),
    onCallClosed: output.onCallClosed,
    onWorkflowClosed: output.onWorkflowClosed,
  });
  output.commit(report);
}

function records(path: string): DecisionRecord[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => JSON.parse(line) as DecisionRecord);
}

function decisionChart(charts: Chart[]): Json {
  const found = charts.find((c) => c.name.startsWith("decisions-"));
  if (!found) throw new Error(`no decision timeline; have ${charts.map((c) => c.name).join(", ")}`);
  return json(found.spec);
}

/** The lane panel's layer whose mark is `shape` (or a plain point / bar). */
function layer(spec: Json, pick: (l: Json) => boolean): Json {
  const found = spec.vconcat[0].layer.find(pick);
  if (!found) throw new Error("no such layer");
  return found;
}
const dispatchLayer = (spec: Json) => layer(spec, (l) => l.mark.type === "point" && l.mark.shape === undefined);
const holdLayer = (spec: Json) => layer(spec, (l) => l.mark.shape === "triangle-down");
const heldBars = (spec: Json) => layer(spec, (l) => l.mark.type === "bar");

beforeAll(async () => {
  await tracedRun(scored, { name: EXAMPLE, params: {} }, 8, 12);
  await tracedRun(held, { name: "capacity", params: { max_concurrency: 2 } }, 20, 20);
}, 120_000);

describe("decision timeline", () => {
  it("draws every dispatch on its chosen instance's lane, coloured by agent, with the chosen instance's score", async () => {
    const { charts } = buildCharts(await loadPlotInputs([scored]));
    const spec = decisionChart(charts);
    const trace = records(join(scored, "decisions.jsonl")).filter((r) => r.kind === "dispatch");
    expect(trace.length).toBe(36); // 12 qa-router workflows × 3 LLM calls

    const points = dispatchLayer(spec);
    expect(points.data.values.map((v: Json) => [v.call, v.lane, v.t_s, v.colour])).toEqual(trace.map((r) => [r.call, r.chosen, r.at_s, r.agent]));
    expect(points.encoding.color.title).toBe("dispatched (agent)");
    expect(points.encoding.y.sort).toEqual([CONTROLLER_LANE, "llama-3-8b-0", "llama-3-8b-1"]);

    // least-work explains its choices: the score panel shows the chosen candidate's score, the lowest.
    const scores = spec.vconcat[1].data.values;
    expect(scores).toHaveLength(trace.length);
    trace.forEach((r, i) => {
      const chosen = r.candidates.find((c) => c.instance === r.chosen)!;
      expect(scores[i]).toMatchObject({ call: r.call, instance: r.chosen, score: chosen.score });
      expect(chosen.score).toBe(Math.min(...r.candidates.map((c) => c.score!)));
    });
    expect(spec.vconcat[0].layer.some((l: Json) => l.mark.shape === "triangle-down")).toBe(false); // no holds: no hold layer, no empty legend
  });

  it("puts each hold on the controller lane with its reason, and how long held calls waited", async () => {
    const { charts } = buildCharts(await loadPlotInputs([held]));
    const spec = decisionChart(charts);
    const trace = records(join(held, "decisions.jsonl"));
    const holds = trace.filter((r) => r.kind === "hold");
    expect(holds.length).toBeGreaterThan(0);
    expect(holdLayer(spec).data.values.map((v: Json) => [v.lane, v.call, v.t_s, v.reason])).toEqual(holds.map((h) => [CONTROLLER_LANE, h.call, h.at_s, h.reason]));
    const heldDispatches = trace.filter((r) => r.kind === "dispatch" && r.held_s !== undefined && r.held_s > 0);
    expect(heldBars(spec).data.values.map((v: Json) => [v.call, v.from_s, v.t_s])).toEqual(heldDispatches.map((r) => [r.call, r.at_s - (r as { held_s: number }).held_s, r.at_s]));
    expect(spec.vconcat).toHaveLength(1); // capacity does not score candidates: no score panel
  });

  it("is valid vega-lite: compiles to vega and renders to SVG with its title and marks", async () => {
    for (const run of [scored, held]) {
      const { charts } = buildCharts(await loadPlotInputs([run]));
      const chart = charts.find((c) => c.name.startsWith("decisions-"))!;
      expect(() => toVega(chart.spec)).not.toThrow();
      const svg = await renderSvg(chart.spec);
      expect(svg).toContain("Decisions over time");
      expect(svg).toMatch(/class="mark-symbol role-mark/);
    }
  });

  it("thins a long trace evenly to --max-decisions, keeping the totals, and says so", async () => {
    const full = await loadDecisionTimeline(join(held, "decisions.jsonl"));
    const thin = await loadDecisionTimeline(join(held, "decisions.jsonl"), 7);
    expect(thin.totals).toEqual(full.totals);
    expect(thin.dispatches.length).toBeLessThanOrEqual(7);
    expect(thin.dispatches.length).toBeGreaterThanOrEqual(4);
    // Every kept dispatch is one of the full list at an index that is a multiple of one stride.
    const indices = thin.dispatches.map((d) => full.dispatches.findIndex((f) => f.call === d.call && f.t_s === d.t_s));
    const stride = indices[1] - indices[0];
    expect(indices).toEqual(indices.map((_, i) => i * stride));
    const inputs = await loadPlotInputs([held], { maxDecisionPoints: 7 });
    expect(buildCharts(inputs).notes.join("\n")).toMatch(/shows \d of 60 dispatches and \d+ of \d+ holds, evenly spread/);
  });

  it("--decisions names the trace of the one run given; a bad trace is a one-line input error", async () => {
    const moved = join(dir, "elsewhere.jsonl");
    renameSync(join(held, "decisions.jsonl"), moved);
    try {
      expect((await loadPlotInputs([held])).runs[0].decisions).toBeNull();
      expect((await loadPlotInputs([held], { decisions: moved })).runs[0].decisions?.totals.dispatches).toBe(60);
      await expect(loadPlotInputs([held, scored], { decisions: moved })).rejects.toThrow(/--decisions .*elsewhere\.jsonl: give exactly one run with it \(2 given\)/);
    } finally {
      renameSync(moved, join(held, "decisions.jsonl"));
    }
    await expect(loadPlotInputs([held], { decisions: join(dir, "nope.jsonl") })).rejects.toThrow(InputError);
    const notTrace = join(dir, "not-a-trace.jsonl");
    writeFileSync(notTrace, '{"kind":"run"}\n');
    await expect(loadPlotInputs([held], { decisions: notTrace })).rejects.toThrow(/not-a-trace\.jsonl:1: expected a decision trace/);
    const broken = join(dir, "broken.jsonl");
    writeFileSync(broken, `${readFileSync(join(held, "decisions.jsonl"), "utf8").split("\n")[0]}\n{"kind":"dispatch",\n`);
    await expect(loadPlotInputs([held], { decisions: broken })).rejects.toThrow(/broken\.jsonl:2: not valid JSON/);
  });

  it("tandem plot writes the timeline from the CLI; a missing --decisions file is exit 2, one line", () => {
    const ok = spawnSync(process.execPath, [BIN, "plot", scored, "--out", join(dir, "json"), "--format", "json"], { encoding: "utf8", timeout: 120_000 });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(join(dir, "json"))).toContain(`decisions-fcfs-least-work.vl.json`);
    const bad = spawnSync(process.execPath, [BIN, "plot", scored, "--decisions", join(dir, "nope.jsonl")], { encoding: "utf8", timeout: 120_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/nope\.jsonl: no such decision trace/);
    expect(bad.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});
