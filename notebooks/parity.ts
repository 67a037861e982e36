/** Sim vs live parity against the vLLM emulator.
 *
 *  Studies whether the live host, driving real HTTP servers, reproduces the simulator: the same
 *  workload (100 qa-router workflows, router → expert → writer, Poisson 6 workflows/s: about 300
 *  calls) and the same policies (FCFS + least-outstanding) on the same cluster (2 × Llama-2-13B /
 *  A100-80GB; live/parity.ts's PARITY_CLUSTER and PARITY_WORKLOAD, which the parity test uses), run
 *  once in the simulator and once live against two emulators (`runLive` with `emulate: true`, the
 *  emulators on worker threads, in real time: speedup 1). The sim half is deterministic; the
 *  live half varies by a few milliseconds per call from run to run (timers, HTTP, a shared machine).
 *
 *  Run:     npx tsx notebooks/parity.ts      (about 30 s: the live half runs in wall-clock time)
 *  Writes:  docs/figures/parity-cdf.png (TTFT, E2E and makespan CDFs, sim solid, live dashed),
 *           notebooks/results/parity.md (formatParityTable's table). */
import { availableParallelism, loadavg } from "node:os";
import { runLive } from "../live/run.ts";
import { PARITY_CLUSTER, PARITY_WORKLOAD, formatParityTable, parityRows } from "../cli/parity.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import type { CallRow } from "../src/metrics/calls-csv.ts";
import type { WorkflowRow } from "../src/metrics/workflow-recorder.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { paritySpec, type CdfSeries } from "../cli/plot/cdf.ts";
import type { PlotMetric } from "../cli/plot/style.ts";
import { runSimulation } from "../sim/run.ts";
import { valuesCdf } from "./lib/charts.ts";
import { elapsed_s, isMain, repoRelative, writeFigure, writeResults, type Figure } from "./lib/output.ts";

export const NAME = "parity";
export const DISPATCH: PolicyChoice = "least-outstanding";

/** One half of the comparison: its report and the rows its recorder closed. */
export interface Half {
  label: string;
  report: Report;
  calls: CallRow[];
  workflows: WorkflowRow[];
}

export async function runSim(): Promise<Half> {
  const calls: CallRow[] = [];
  const workflows: WorkflowRow[] = [];
  const { report } = await runSimulation({
    cluster: PARITY_CLUSTER,
    workload: PARITY_WORKLOAD,
    dispatch: DISPATCH,
    onCallClosed: (r) => calls.push(r),
    onWorkflowClosed: (r) => workflows.push(r),
  });
  return { label: "sim", report, calls, workflows };
}

export async function runLiveHalf(): Promise<Half> {
  const calls: CallRow[] = [];
  const workflows: WorkflowRow[] = [];
  const { report } = await runLive({
    cluster: PARITY_CLUSTER,
    workload: PARITY_WORKLOAD,
    dispatch: DISPATCH,
    emulate: true,
    speedup: 1,
    onCallClosed: (r) => calls.push(r),
    onWorkflowClosed: (r) => workflows.push(r),
  });
  return { label: "live (emulators)", report, calls, workflows };
}

/** The CDF series of one metric for one half, labelled with the half and its report's mode. */
export function halfSeries(half: Half, metric: PlotMetric): CdfSeries | undefined {
  const values =
    metric === "makespan_s" ? half.workflows.filter((w) => w.status === "completed").map((w) => w.makespan_s) : half.calls.filter((c) => c.status === "finished").map((c) => c[metric]);
  return valuesCdf(half.label, values, half.report.mode);
}

export function figures(sim: Half, live: Half): Figure[] {
  const panels = (["ttft_s", "e2e_s", "makespan_s"] as const).map((metric) => ({
    metric,
    series: [halfSeries(sim, metric), halfSeries(live, metric)].filter((s): s is CdfSeries => s !== undefined),
  }));
  const s = sim.report.summary;
  return [
    {
      name: `${NAME}-cdf`,
      spec: paritySpec(
        panels,
        `${s.workflows.arrived} qa-router workflows (${s.calls.arrived} calls), 2 × Llama-2-13B / A100-80GB, FCFS + least-outstanding; solid: sim · dashed: live against 2 emulators`,
      ),
    },
  ];
}

export async function main(): Promise<void> {
  const start = performance.now();
  const sim = await runSim();
  process.stderr.write(`  sim: ${sim.report.summary.calls.completed} calls completed in ${elapsed_s(start).toFixed(1)} s; the live run takes about 25 s of wall-clock time\n`);
  const load = loadavg()[0];
  const live = await runLiveHalf();
  const loadAfter = loadavg()[0];
  const table = formatParityTable(parityRows(sim.report, live.report));
  const written: string[] = [];
  for (const figure of figures(sim, live)) written.push(await writeFigure(figure.name, figure.spec));
  const markdown = [
    "# Sim vs live parity against the vLLM emulator",
    "",
    "One workload run twice with the same policies (FCFS + least-outstanding) on the same cluster",
    `(\`live/parity.ts\`: \`PARITY_CLUSTER\`, 2 × Llama-2-13B / A100-80GB with \`engine.api_latency_s\` ${PARITY_CLUSTER.instances[0].engine?.api_latency_s}, and`,
    "`PARITY_WORKLOAD`, 100 qa-router workflows with `expert_tokens=lognormal:120,0.5` and",
    "`reply_tokens=lognormal:80,0.5` arriving as a Poisson process at 6 workflows/s): once in the",
    "simulator and once live, the live host driving two vLLM emulators (real HTTP servers whose engine",
    "is the simulator's engine model in wall-clock time) at speedup 1. Times are model seconds;",
    '"live vs sim" is (live − sim) / sim. The sim column is deterministic; the live column moves by a',
    "few milliseconds per call between runs (timer and HTTP jitter on a shared 2-core machine), so its",
    "last digits differ from run to run. A busy machine delays the emulators' timers and the HTTP",
    "path, which shows first in TTFT (tens of milliseconds), so the run records the load it saw:",
    `this one ran with a 1-minute load average of ${load.toFixed(1)} before and ${loadAfter.toFixed(1)} after the live half, on ${availableParallelism()} cores.`,
    "",
    "Regenerate: `npx tsx notebooks/parity.ts`.",
    "",
    "```",
    table,
    "```",
    "",
    "Figures: " + written.map((p) => `\`${repoRelative(p)}\``).join(", ") + ".",
  ].join("\n");
  const results = writeResults(NAME, markdown);
  process.stdout.write(table + "\n\n");
  process.stdout.write(`wrote ${[...written, results].map(repoRelative).join(", ")} in ${elapsed_s(start).toFixed(0)} s\n`);
}

if (isMain(import.meta.url)) await main();
