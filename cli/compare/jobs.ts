/** The runs of a comparison: one job per (rate, policy combination, seed). A job is plain JSON
 *  data, so that it can be posted to a worker thread. Pure: no I/O. */
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import type { PolicyChoice } from "../../src/policies/registry.ts";
import type { Workload } from "../../run/workload.ts";
import { policyFolderNames, rateLabel, type PolicyCombo } from "./policy-list.ts";

export interface CompareJob {
  /** Position in the comparison: results are ordered by it, whatever order the runs finish in. */
  index: number;
  /** The combination's label (`fcfs+round-robin`). */
  policy: string;
  scheduling: PolicyChoice;
  dispatch: PolicyChoice;
  /** Arrival rate per second; null = the workload's own arrival times. */
  rate: number | null;
  seed: number;
  workload: Workload;
  cluster?: ClusterConfig;
  clusterFile?: string;
  observability?: { mode?: "scraped" | "oracle"; interval_s?: number };
  /** Run folder relative to the comparison's output folder: `runs/<policy>__r<rate>__s<seed>`. */
  dir: string;
  /** The report's `run.inputs_sha256` to be (job-inputs.ts); resume reuses a report that has it. */
  inputs_sha256?: string;
}

/** What a job's run is made of: the options `runSimulation` and `setupRun` (its inputs hash) share. */
export function jobRunInputs(job: CompareJob) {
  return {
    cluster: job.cluster,
    clusterFile: job.clusterFile,
    workload: job.workload,
    scheduling: job.scheduling,
    dispatch: job.dispatch,
    seed: job.seed,
    observability: job.observability,
  };
}

export interface JobPlan {
  combos: readonly PolicyCombo[];
  /** Rates in the order given; [null] when the workload keeps its own arrival times. */
  rates: readonly (number | null)[];
  seeds: readonly number[];
  /** The workload at a rate and seed (the caller applies the rate through the workload flags). */
  workloadAt: (rate: number | null, seed: number) => Workload;
  cluster?: ClusterConfig;
  clusterFile?: string;
  observability?: { mode?: "scraped" | "oracle"; interval_s?: number };
}

/** Seeds `base`, `base + 1`, … `base + count − 1`. */
export function seedRange(base: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => base + i);
}

/** Every (rate, combination, seed), rate-major, then combinations in the order given, then seeds. */
export function buildJobs(plan: JobPlan): CompareJob[] {
  const folders = policyFolderNames(plan.combos);
  const jobs: CompareJob[] = [];
  for (const rate of plan.rates) {
    plan.combos.forEach((combo, c) => {
      for (const seed of plan.seeds) {
        jobs.push({
          index: jobs.length,
          policy: combo.label,
          scheduling: combo.scheduling,
          dispatch: combo.dispatch,
          rate,
          seed,
          workload: plan.workloadAt(rate, seed),
          cluster: plan.cluster,
          clusterFile: plan.clusterFile,
          observability: plan.observability,
          dir: `runs/${folders[c]}__r${rateLabel(rate)}__s${seed}`,
        });
      }
    });
  }
  return jobs;
}

/** The built-in synthetic workload draws its requests from its own seed: give each run's seed to it
 *  too, so that seeds vary the workload as they do for traces re-timed and generated workflows. */
export function withWorkloadSeed(workload: Workload, seed: number): Workload {
  return workload.kind === "generated" ? { ...workload, options: { ...workload.options, seed } } : workload;
}
