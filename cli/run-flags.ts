import type { Command } from "commander";
import { dirname, relative, resolve } from "node:path";
import { DEFAULT_CLUSTER, type ClusterConfig } from "../src/model/cluster-schema.ts";
import { InputError } from "../src/core/errors.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { formatSummaryTable } from "../src/metrics/summary-table.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES, parsePolicyParams, type PolicyChoice } from "../src/policies/registry.ts";
import { DEFAULT_SEED, type RunHooks } from "../run/setup.ts";
import type { Workload } from "../run/workload.ts";
import { loadLatencyModelFile } from "../run/latency-file.ts";
import { normaliseModelName } from "../src/model/models.ts";
import type { TraceStats } from "../traces/index.ts";
import { nonNegativeInteger, positiveNumber } from "./errors.ts";
import { progressReporter } from "./progress.ts";
import { RunOutput } from "./run-output.ts";
import { addWorkloadOptions, workloadFromFlags, type WorkloadFlags } from "./workload-options.ts";

const collectPair = (value: string, previous: string[]) => [...previous, value];

/** Flags `tandem sim` and `tandem live` share: the workload, the cluster, the policies, the output. */
export interface RunFlags extends WorkloadFlags {
  config?: string;
  dispatch?: string;
  scheduling?: string;
  schedulingParam: string[];
  dispatchParam: string[];
  seed?: number;
  observeInterval?: number;
  out: string;
  progress: boolean;
  quiet?: boolean;
  latency?: string;
  events?: string;
  decisions?: string;
}

export function addRunOptions(command: Command, defaultOut: string): Command {
  addWorkloadOptions(command);
  command.option("--config <file>", "cluster config, YAML or JSON (see docs/config.md)");
  return addPolicyOptions(command)
    .option("--seed <n>", `random seed (default: config, else ${DEFAULT_SEED})`, nonNegativeInteger)
    .option("--observe-interval <s>", "seconds between scraped snapshots (default 0.1)", positiveNumber)
    .option("--out <dir>", "output directory for report.json, calls.csv and workflows.csv", defaultOut)
    .option("--no-progress", "never show a progress bar")
    .option("--quiet", "do not print the summary table")
    .option("--latency <file>", "latency model JSON (tandem.latency/v1, e.g. from tandem calibrate) for every instance group, replacing the config's")
    .option("--events <file>", "write every event the controller receives to FILE (JSONL; `tandem replay FILE` rebuilds the report from it)")
    .option("--decisions <file>", "write every scheduling and dispatch decision to FILE (JSONL; docs/decisions.md, `tandem explain`)");
}

/** --dispatch, --scheduling and their --…-param pairs (read back with `policyChoice`). */
export function addPolicyOptions(command: Command): Command {
  return command
    .option("--dispatch <name>", `dispatch policy: ${Object.keys(DISPATCH_POLICIES).join(", ")}, or a policy file ./FILE.ts|.mjs (default: config, else least-outstanding)`)
    .option("--scheduling <name>", `scheduling policy: ${Object.keys(SCHEDULING_POLICIES).join(", ")}, or a policy file ./FILE.ts|.mjs (default: config, else fcfs)`)
    .option("--scheduling-param <key=value>", "a scheduling-policy parameter (repeatable; docs/policies.md)", collectPair, [] as string[])
    .option("--dispatch-param <key=value>", "a dispatch-policy parameter (repeatable; docs/policies.md)", collectPair, [] as string[]);
}

/** What a run needs from the flags, resolved: the workload, the cluster and the policy choices. */
export interface ResolvedRun extends RunHooks {
  workload: Workload;
  cluster: ClusterConfig;
  clusterFile: string | undefined;
  scheduling: PolicyChoice | undefined;
  dispatch: PolicyChoice | undefined;
  events: string | undefined;
  decisions: string | undefined;
}

/** Resolves the flags, runs `run`, writes report.json and the CSVs to --out, prints the summary. */
export async function runAndWrite(flags: RunFlags, run: (resolved: ResolvedRun) => Promise<{ report: Report; trace_stats: TraceStats }>): Promise<void> {
  const workload = workloadFromFlags(flags);
  // The config reader (and its YAML parser) is loaded only when there is a config to read.
  const loaded = flags.config ? await (await import("../run/config-file.ts")).loadClusterConfig(flags.config) : DEFAULT_CLUSTER;
  const cluster = flags.latency ? await withLatencyFile(loaded, flags.latency, flags.config) : loaded;
  if (workload.kind === "generated" && flags.seed === undefined && cluster.seed !== undefined) {
    workload.options = { ...workload.options, seed: cluster.seed };
  }
  const hasWorkflows = workload.kind === "workflows" || workload.kind === "appworld" || workload.kind === "app";
  const output = new RunOutput(flags.out, hasWorkflows);
  const progress = await progressReporter(expectedArrivals(workload), flags.progress);
  try {
    const { report, trace_stats } = await run({
      workload,
      cluster,
      clusterFile: flags.config,
      scheduling: policyChoice(flags.scheduling, flags.schedulingParam, "--scheduling", cluster.policies?.scheduling),
      dispatch: policyChoice(flags.dispatch, flags.dispatchParam, "--dispatch", cluster.policies?.dispatch),
      onCallClosed: output.onCallClosed,
      onWorkflowClosed: output.onWorkflowClosed,
      onProgress: (p) => progress.update(p),
      events: flags.events,
      decisions: flags.decisions,
    });
    progress.stop();
    if (report.summary.calls.arrived === 0 && report.summary.workflows.arrived === 0) throw new InputError("workload: nothing to run");
    const files = output.commit(report);
    if (!flags.quiet) {
      process.stdout.write(formatSummaryTable(report.summary, report.instances, report.agents) + "\n");
    }
    const clamped = trace_stats.clamped_prompt_rows + trace_stats.clamped_output_rows;
    if (clamped > 0) {
      process.stderr.write(
        `tandem: note: ${trace_stats.clamped_prompt_rows} rows with 0 prompt tokens and ${trace_stats.clamped_output_rows} with 0 output tokens were counted as 1 token (docs/traces.md)\n`,
      );
    }
    process.stdout.write(`wrote ${files.join(", ")}\n`);
  } catch (error) {
    output.abort();
    throw error;
  } finally {
    progress.stop();
  }
}

/** The policy a flag names, with its `--…-param` pairs; params without a name apply to the
 *  config's policy. Undefined: the config decides. */
export function policyChoice(name: string | undefined, pairs: string[], flag: string, fromConfig: PolicyChoice | undefined): PolicyChoice | undefined {
  if (pairs.length === 0) return name;
  const params = parsePolicyParams(pairs, `${flag}-param`);
  const base = name ?? (typeof fromConfig === "string" ? fromConfig : fromConfig?.name);
  if (base === undefined) throw new InputError(`${flag}-param needs a policy: give ${flag} NAME`);
  const configParams = name === undefined && typeof fromConfig === "object" ? fromConfig.params : undefined;
  return { name: base, params: { ...configParams, ...params } };
}

/** Requests or workflows the run will see, when known up front (for the progress bar). */
function expectedArrivals(workload: Workload): number | undefined {
  if (workload.kind === "generated") return workload.options.count;
  if (workload.kind === "requests") return workload.requests.length;
  if ((workload.kind === "app" || workload.kind === "appworld") && workload.timing.kind !== "timestamps") {
    return Math.min(workload.timing.count, workload.limit ?? Infinity);
  }
  return "limit" in workload ? workload.limit : undefined;
}

/** The cluster with `--latency FILE` as every group's latency model. The file is loaded once here so
 *  that a bad one fails before the run; its path is stored relative to the config's folder, where
 *  the cluster builder resolves it. A model fitted for another model than a group serves is noted. */
async function withLatencyFile(cluster: ClusterConfig, file: string, configFile: string | undefined): Promise<ClusterConfig> {
  const { info } = await loadLatencyModelFile(file);
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  for (const group of cluster.instances) {
    if (normaliseModelName(group.model) !== normaliseModelName(info.model)) {
      process.stderr.write(`tandem: note: --latency ${file} was fitted for ${info.model} on ${info.gpu}; instances of ${group.model} run with it\n`);
    }
  }
  return {
    ...cluster,
    latency: { kind: "fitted", file: relative(base, resolve(file)) },
    instances: cluster.instances.map((group) => ({ ...group, latency: undefined })),
  };
}
