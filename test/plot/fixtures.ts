/** Small runs for the plot tests, simulated in-process and written as `tandem sim` and
 *  `tandem compare` write them: report.json, calls.csv, workflows.csv, compare.json. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunOutput } from "../../cli/run-output.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { COMPARE_SCHEMA_ID, compareJson, meanRows, rowFromReport } from "../../cli/compare/results.ts";
import type { Report } from "../../src/metrics/report-schema.ts";
import type { PolicyChoice } from "../../src/policies/registry.ts";
import { TANDEM_VERSION } from "../../src/version.ts";
import { runSimulation } from "../../sim/run.ts";
import type { Workload } from "../../run/workload.ts";
import { DEFAULT_WORKLOAD } from "../../traces/generate.ts";

export const TINY_CLUSTER: ClusterConfig = {
  instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2 }],
};

/** Four supervisor workflows (LLM calls and tool steps) at 1 workflow/s. */
export function workflowWorkload(rate = 1, count = 4): Workload {
  return { kind: "app", name: "supervisor", params: {}, timing: { kind: "poisson", rate, count } };
}

/** 120 synthetic requests at 20 req/s. */
export function requestWorkload(count = 120): Workload {
  return { kind: "generated", options: { ...DEFAULT_WORKLOAD, count, seed: 3 } };
}

export function scratchDir(prefix = "tandem-plot-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** One run written to `dir` exactly as `tandem sim --out dir` writes it. */
export async function simRun(dir: string, workload: Workload, dispatch: PolicyChoice = "least-outstanding", seed = 7): Promise<Report> {
  const out = new RunOutput(dir, workload.kind === "app" || workload.kind === "appworld" || workload.kind === "workflows");
  try {
    const { report } = await runSimulation({ cluster: TINY_CLUSTER, workload, dispatch, seed, onCallClosed: out.onCallClosed, onWorkflowClosed: out.onWorkflowClosed });
    out.commit(report);
    return report;
  } catch (error) {
    out.abort();
    throw error;
  }
}

/** The same run presented as a live run (mode "live"): what `tandem parity` will pair with a sim run. */
export function asLiveRun(simDir: string, liveDir: string, otherCallsFrom?: string): void {
  mkdirSync(liveDir, { recursive: true });
  const report = JSON.parse(readFileSync(join(simDir, "report.json"), "utf8"));
  report.mode = "live";
  writeFileSync(join(liveDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
  writeFileSync(join(liveDir, "calls.csv"), readFileSync(join(otherCallsFrom ?? simDir, "calls.csv")));
}

/** A compare folder: 2 policies × 2 rates × 1 seed of the workflow workload. */
export async function compareRun(dir: string): Promise<void> {
  const policies: [string, PolicyChoice][] = [
    ["fcfs+round-robin", "round-robin"],
    ["fcfs+least-outstanding", "least-outstanding"],
  ];
  const rates = [0.5, 1];
  const runs = [];
  let workloadInfo: Report["run"]["trace"] | undefined;
  for (const rate of rates) {
    for (const [policy, dispatch] of policies) {
      const runDir = join("runs", `${policy}__r${rate}__s1`);
      const report = await simRun(join(dir, runDir), workflowWorkload(rate), dispatch, 1);
      workloadInfo ??= report.run.trace;
      runs.push(rowFromReport({ policy, rate, seed: 1, dir: runDir }, report));
    }
  }
  writeFileSync(
    join(dir, "compare.json"),
    compareJson({
      schema: COMPARE_SCHEMA_ID,
      tandem_version: TANDEM_VERSION,
      workload: { ...workloadInfo!, rate: undefined },
      policies: policies.map(([p]) => p),
      rates,
      seeds: [1],
      runs,
      means: meanRows(runs),
    }),
  );
}
