import { Command } from "commander";
import { DEFAULT_CLUSTER } from "../config/cluster-schema.ts";
import { loadClusterConfig } from "../config/load.ts";
import { InputError } from "../core/errors.ts";
import { formatSummaryTable } from "../metrics/summary-table.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES, parsePolicyParams, type PolicyChoice } from "../policies/registry.ts";
import { DEFAULT_SEED, runSimulation, type Workload } from "../../sim/run.ts";
import { DEFAULT_WORKLOAD } from "../../traces/index.ts";
import { nonNegativeInteger, oneOf, positiveNumber, runAction } from "./errors.ts";
import { addWorkloadOptions, workloadFromFlags, type WorkloadFlags } from "./workload-options.ts";
import { RunOutput } from "./run-output.ts";
import { progressReporter } from "./progress.ts";

const collectPair = (value: string, previous: string[]) => [...previous, value];

interface SimFlags extends WorkloadFlags {
  config?: string;
  dispatch?: string;
  scheduling?: string;
  schedulingParam: string[];
  dispatchParam: string[];
  seed?: number;
  observe?: "scraped" | "oracle";
  observeInterval?: number;
  out: string;
  progress: boolean;
  quiet?: boolean;
}

export function simCommand(): Command {
  const command = new Command("sim").description(
    "Simulate a cluster of vLLM-like instances under a scheduling and a dispatch policy, on a request trace, a " +
      "workflow trace, AppWorld DAGs or a generated agent app. Without a workload it runs the built-in one " +
      `(${DEFAULT_WORKLOAD.count} synthetic requests, Poisson ${DEFAULT_WORKLOAD.rate} req/s); without --config the ` +
      "built-in cluster (4 × llama-3-8b on h100-80gb).",
  );
  addWorkloadOptions(command);
  return command
    .option("--config <file>", "cluster config, YAML or JSON (see docs/config.md)")
    .option("--dispatch <name>", `dispatch policy: ${Object.keys(DISPATCH_POLICIES).join(", ")} (default: config, else least-outstanding)`)
    .option("--scheduling <name>", `scheduling policy: ${Object.keys(SCHEDULING_POLICIES).join(", ")} (default: config, else fcfs)`)
    .option("--scheduling-param <key=value>", "a scheduling-policy parameter (repeatable; docs/policies.md)", collectPair, [] as string[])
    .option("--dispatch-param <key=value>", "a dispatch-policy parameter (repeatable; docs/policies.md)", collectPair, [] as string[])
    .option("--seed <n>", `random seed (default: config, else ${DEFAULT_SEED})`, nonNegativeInteger)
    .option("--observe <mode>", "what policies see: scraped (periodic /metrics-like snapshots) or oracle (exact state)", oneOf(["scraped", "oracle"] as const))
    .option("--observe-interval <s>", "seconds between scraped snapshots (default 0.1)", positiveNumber)
    .option("--out <dir>", "output directory for report.json, calls.csv and workflows.csv", "out/sim")
    .option("--no-progress", "never show a progress bar")
    .option("--quiet", "do not print the summary table")
    .action((flags: SimFlags) => runAction(() => runSim(flags)));
}

/** The policy a flag names, with its `--…-param` pairs; params without a name apply to the
 *  config's policy. Undefined: the config decides. */
function policyChoice(name: string | undefined, pairs: string[], flag: string, fromConfig: PolicyChoice | undefined): PolicyChoice | undefined {
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
  return workload.limit;
}

async function runSim(flags: SimFlags): Promise<void> {
  const workload = workloadFromFlags(flags);
  const cluster = flags.config ? await loadClusterConfig(flags.config) : DEFAULT_CLUSTER;
  if (workload.kind === "generated" && flags.seed === undefined && cluster.seed !== undefined) {
    workload.options = { ...workload.options, seed: cluster.seed };
  }
  const hasWorkflows = workload.kind === "workflows" || workload.kind === "appworld" || workload.kind === "app";
  const output = new RunOutput(flags.out, hasWorkflows);
  const progress = progressReporter(expectedArrivals(workload), flags.progress);
  try {
    const { report, trace_stats } = await runSimulation({
      cluster,
      clusterFile: flags.config,
      workload,
      scheduling: policyChoice(flags.scheduling, flags.schedulingParam, "--scheduling", cluster.policies?.scheduling),
      dispatch: policyChoice(flags.dispatch, flags.dispatchParam, "--dispatch", cluster.policies?.dispatch),
      seed: flags.seed,
      observability: { mode: flags.observe, interval_s: flags.observeInterval },
      onCallClosed: output.onCallClosed,
      onWorkflowClosed: output.onWorkflowClosed,
      onProgress: (p) => progress.update(p),
    });
    progress.stop();
    if (report.summary.calls.arrived === 0 && report.summary.workflows.arrived === 0) throw new InputError("workload: nothing to simulate");
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
