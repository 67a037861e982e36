/** Policy comparison on the agent apps.
 *
 *  Studies how scheduling + dispatch combinations change workflow makespan on three agent apps
 *  (guessing-game with 20 players × 3 rounds, supervisor, qa-router) on 2 × Llama-3-8B / H100 with
 *  engine priority scheduling (so the scheduling policy's rank also orders each engine's waiting
 *  queue), at two loads: about 70% and 90% of the steady-state throughput FCFS + round-robin reaches
 *  on each app. One seed; the simulator is deterministic, so a rerun gives the same table and the
 *  same figures, byte for byte.
 *
 *  Run:     npx tsx notebooks/policy-comparison.ts      (about 2 minutes on 2 cores)
 *  Writes:  docs/figures/policy-comparison-summary-70.png, …-summary-90.png (p50/p99 makespan bars
 *           per combination, one panel per app), docs/figures/policy-comparison-cdf-APP.png (makespan
 *           CDF per combination at 90% load), notebooks/results/policy-comparison.md (the table). */
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { cdfSpec, type CdfSeries } from "../cli/plot/cdf.ts";
import { reportBars, summarySpec } from "../cli/plot/summary.ts";
import { runSimulation } from "../sim/run.ts";
import type { Workload } from "../run/workload.ts";
import { valuesCdf } from "./lib/charts.ts";
import { change, fixed, markdownTable } from "./lib/markdown.ts";
import { elapsed_s, isMain, repoRelative, writeFigure, writeResults, type Figure } from "./lib/output.ts";

export const NAME = "policy-comparison";

export const CLUSTER: ClusterConfig = {
  instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2, engine: { scheduling_policy: "priority" } }],
};

export interface Combo {
  label: string;
  scheduling: PolicyChoice;
  dispatch: PolicyChoice;
}

/** The baseline first. */
export const COMBOS: Combo[] = [
  { label: "fcfs+round-robin", scheduling: "fcfs", dispatch: "round-robin" },
  { label: "fcfs+least-outstanding", scheduling: "fcfs", dispatch: "least-outstanding" },
  { label: "kairos+least-outstanding", scheduling: "kairos", dispatch: "least-outstanding" },
  { label: "kairos+kairos-timeslot", scheduling: "kairos", dispatch: "kairos-timeslot" },
  { label: "kairos+capacity(64)", scheduling: "kairos", dispatch: { name: "capacity", params: { max_concurrency: 64 } } },
  { label: "plas+least-outstanding", scheduling: "plas", dispatch: "least-outstanding" },
  { label: "atlas+least-outstanding", scheduling: "atlas", dispatch: "least-outstanding" },
  { label: "critical-path+least-outstanding", scheduling: "critical-path", dispatch: "least-outstanding" },
  { label: "sjf+least-outstanding", scheduling: "sjf", dispatch: "least-outstanding" },
];

export interface App {
  name: string;
  params: Record<string, string>;
  /** Workflows per run. */
  count: number;
  /** Steady-state workflow completion rate (workflows/s) of FCFS + round-robin on CLUSTER: the best
   *  rate of completions between a quarter of the arrival window and its end, over a sweep of
   *  offered rates (measured once with this cluster and these counts; loads are fractions of it). */
  saturation: number;
}

export const APPS: App[] = [
  { name: "guessing-game", params: { participants: "20", steps: "3" }, count: 200, saturation: 1.02 },
  { name: "supervisor", params: {}, count: 400, saturation: 2.56 },
  { name: "qa-router", params: {}, count: 800, saturation: 13.5 },
];

export const LOADS = [0.7, 0.9];

export interface Cell {
  app: string;
  load: number;
  rate: number;
  combo: string;
  report: Report;
  makespans: number[];
}

export function appWorkload(app: App, rate: number): Workload {
  return { kind: "app", name: app.name, params: app.params, timing: { kind: "poisson", rate, count: app.count } };
}

/** Every (app, load, combination) run, in that order. */
export async function runStudy(apps = APPS, loads = LOADS, combos = COMBOS, onRun?: (cell: Cell) => void): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const app of apps) {
    for (const load of loads) {
      const rate = Number((load * app.saturation).toFixed(3));
      for (const combo of combos) {
        const makespans: number[] = [];
        const { report } = await runSimulation({
          cluster: CLUSTER,
          workload: appWorkload(app, rate),
          scheduling: combo.scheduling,
          dispatch: combo.dispatch,
          onWorkflowClosed: (row) => {
            if (row.status === "completed" && row.makespan_s !== null) makespans.push(row.makespan_s);
          },
        });
        const cell = { app: app.name, load, rate, combo: combo.label, report, makespans };
        cells.push(cell);
        onRun?.(cell);
      }
    }
  }
  return cells;
}

/** One Markdown table per app: a row per combination, mean / p50 / p99 makespan at each load and
 *  the mean's change against the first combination (the baseline). */
export function resultTables(cells: readonly Cell[]): string {
  const apps = [...new Set(cells.map((c) => c.app))];
  return apps
    .map((app) => {
      const mine = cells.filter((c) => c.app === app);
      const loads = [...new Set(mine.map((c) => c.load))];
      const combos = [...new Set(mine.map((c) => c.combo))];
      const header = ["policy (scheduling+dispatch)"];
      for (const load of loads) {
        const rate = mine.find((c) => c.load === load)!.rate;
        const at = `${Math.round(100 * load)}% (${rate}/s)`;
        header.push(`${at} mean s`, "p50 s", "p99 s", "Δ mean");
      }
      const rows = combos.map((combo) => {
        const row = [combo];
        for (const load of loads) {
          const cell = mine.find((c) => c.load === load && c.combo === combo)!;
          const base = mine.find((c) => c.load === load && c.combo === combos[0])!;
          const m = cell.report.summary.workflow_makespan_s;
          const b = base.report.summary.workflow_makespan_s;
          row.push(fixed(m.mean, 2), fixed(m.p50, 2), fixed(m.p99, 2), combo === combos[0] ? "baseline" : change((m.mean - b.mean) / b.mean));
        }
        return row;
      });
      const best = loads.map((load) => {
        const at = mine.filter((c) => c.load === load);
        const base = at[0].report.summary.workflow_makespan_s.mean;
        const top = at.reduce((a, b) => (b.report.summary.workflow_makespan_s.mean < a.report.summary.workflow_makespan_s.mean ? b : a));
        const delta = (top.report.summary.workflow_makespan_s.mean - base) / base;
        return `${Math.round(100 * load)}%: ${top === at[0] ? "the baseline itself" : `${top.combo} (${change(delta)})`}`;
      });
      const lowest = `Lowest mean makespan — ${best.join("; ")}.`;
      const done = mine.every((c) => c.report.summary.workflows.completed === c.report.summary.workflows.arrived);
      const note = done ? "" : "\n\nSome workflows did not complete; the makespans are over completed ones.";
      return `### ${app}\n\n${markdownTable(header, rows)}\n\n${lowest}${note}`;
    })
    .join("\n\n");
}

/** The figures: p50/p99 makespan bars per combination for each load (a panel per app), and the
 *  makespan CDFs of every combination at the highest load, one chart per app. */
export function figures(cells: readonly Cell[]): Figure[] {
  const out: Figure[] = [];
  const loads = [...new Set(cells.map((c) => c.load))];
  for (const load of loads) {
    const bars = cells
      .filter((c) => c.load === load)
      .flatMap((c) =>
        reportBars(c.combo, c.report)
          .filter((b) => b.panel === "Workflow makespan")
          .map((b) => ({ ...b, panel: `${c.app} @ ${c.rate}/s` })),
      );
    out.push({
      name: `${NAME}-summary-${Math.round(100 * load)}`,
      spec: summarySpec({
        title: `Workflow makespan per policy at ${Math.round(100 * load)}% of FCFS + round-robin saturation`,
        subtitle: "2 × Llama-3-8B / H100, engine priority scheduling; p50 and p99 over completed workflows",
        bars,
        groupTitle: "scheduling+dispatch",
        valueTitle: "workflow makespan (s)",
        panelTitle: null,
      }),
    });
  }
  const top = Math.max(...loads);
  for (const app of [...new Set(cells.map((c) => c.app))]) {
    const mine = cells.filter((c) => c.app === app && c.load === top);
    const series = mine.map((c) => valuesCdf(c.combo, c.makespans)).filter((s): s is CdfSeries => s !== undefined);
    out.push({
      name: `${NAME}-cdf-${app}`,
      spec: cdfSpec({
        metric: "makespan_s",
        series,
        title: `${app}: workflow makespan CDF per policy`,
        subtitle: `${mine[0].rate} workflows/s (${Math.round(100 * top)}% of FCFS + round-robin saturation), 2 × Llama-3-8B / H100`,
      }),
    });
  }
  return out;
}

export async function main(): Promise<void> {
  const start = performance.now();
  const cells = await runStudy(APPS, LOADS, COMBOS, (c) => {
    const m = c.report.summary.workflow_makespan_s;
    process.stderr.write(`  ${c.app} ${c.rate}/s ${c.combo}: mean makespan ${m.mean.toFixed(2)} s, p99 ${m.p99.toFixed(2)} s\n`);
  });
  const tables = resultTables(cells);
  const written: string[] = [];
  for (const figure of figures(cells)) written.push(await writeFigure(figure.name, figure.spec));
  const markdown = [
    "# Policy comparison on the agent apps",
    "",
    "Workflow makespan (arrival of a workflow to the end of its last step) of scheduling + dispatch",
    "combinations on three agent apps (docs/apps.md): `guessing-game` (20 players × 3 rounds per game),",
    "`supervisor` and `qa-router` (defaults), on 2 × Llama-3-8B / H100 with the engines' priority",
    "scheduling on, so the scheduling policy's rank orders both the controller's queue and each engine's",
    "waiting queue. Workflows arrive as a Poisson process at about 70% and 90% of the steady-state",
    `throughput FCFS + round-robin reaches on each app (${APPS.map((a) => `${a.name} ≈ ${a.saturation}/s`).join(", ")});`,
    `${APPS.map((a) => `${a.count} ${a.name}`).join(", ")} workflows per run, seed 42. Δ mean is the`,
    "mean makespan's change against FCFS + round-robin at the same load.",
    "",
    "Regenerate: `npx tsx notebooks/policy-comparison.ts` (deterministic: same table, same figures).",
    "",
    tables,
    "",
    "Figures: " + written.map((p) => `\`${repoRelative(p)}\``).join(", ") + ".",
  ].join("\n");
  const results = writeResults(NAME, markdown);
  process.stdout.write(tables + "\n\n");
  process.stdout.write(`wrote ${[...written, results].map(repoRelative).join(", ")} in ${elapsed_s(start).toFixed(0)} s\n`);
}

if (isMain(import.meta.url)) await main();
