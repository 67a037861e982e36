import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { DEFAULT_CLUSTER } from "../src/model/cluster-schema.ts";
import { loadClusterConfig } from "../run/config-file.ts";
import { InputError } from "../src/core/errors.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES } from "../src/policies/registry.ts";
import { buildJobs, seedRange, withWorkloadSeed } from "./compare/jobs.ts";
import { parsePolicyList, parseRateList, validatePolicyCombos, type PolicyCombo } from "./compare/policy-list.ts";
import { isPolicyFile } from "../run/policy-file.ts";
import { policyFromFile } from "../run/setup.ts";
import { runJobsInWorkers } from "./compare/pool.ts";
import { rowFromReport } from "./compare/results.ts";
import { writeCompareOutputs } from "./compare/outputs.ts";
import { prepareSweep } from "./compare/sweep.ts";
import { splitReusable } from "./compare/resume.ts";
import { emitSweep, type EmitFlags } from "./compare/emit.ts";
import { sweepProgress } from "./compare/sweep-progress.ts";
import { compareMergeCommand } from "./compare-merge-command.ts";
import { formatCompareTable } from "./compare/table.ts";
import { appByName } from "../traces/apps/registry.ts";
import { resolveAppParams } from "../traces/apps/params.ts";
import { checkTiming } from "../traces/workflows/arrival-times.ts";
import type { Workload } from "../run/workload.ts";
import { nonNegativeInteger, oneOf, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { addWorkloadOptions, workloadFromFlags, type WorkloadFlags } from "./workload-options.ts";
import { commandDescription } from "./command-list.ts";

interface CompareFlags extends WorkloadFlags, Omit<EmitFlags, "emit" | "out" | "jobs"> {
  policies?: string;
  rates?: string;
  seeds: number;
  config?: string;
  observe?: "scraped" | "oracle";
  observeInterval?: number;
  out: string;
  jobs?: number;
  runCsv?: boolean;
  progress: boolean;
  quiet?: boolean;
  resume: boolean;
  shard?: string;
  dryRun?: boolean;
  emit?: "slurm" | "k8s";
}

/** Seeds start here unless --seed gives the first one. */
export const DEFAULT_FIRST_SEED = 1;

export function compareCommand(): Command {
  const command = new Command("compare").description(commandDescription("compare"));
  addWorkloadOptions(command);
  return command
    .option(
      "--policies <list>",
      "comma-separated SCHEDULING+DISPATCH combinations, params in braces: fcfs+round-robin,plas{levels=3}+least-kv " +
        `(scheduling: ${Object.keys(SCHEDULING_POLICIES).join(", ")}; dispatch: ${Object.keys(DISPATCH_POLICIES).join(", ")})`,
    )
    .option(
      "--rates <list>",
      "comma-separated arrival rates: requests/s for --trace and the built-in workload (Poisson re-timing), " +
        "workflows/s for --app and --appworld (with --count); omit to keep the workload's own arrival times",
    )
    .option("--seeds <n>", "runs per (policy, rate), with seeds S, S+1, … S+N−1", positiveInteger, 1)
    .option("--seed <s>", `first seed S (default ${DEFAULT_FIRST_SEED})`, nonNegativeInteger)
    .option("--config <file>", "cluster config, YAML or JSON (docs/config.md); default 4 × llama-3.1-8b on h100-80gb")
    .option("--observe <mode>", "what policies see: scraped (periodic /metrics-like snapshots) or oracle (exact state)", oneOf(["scraped", "oracle"] as const))
    .option("--observe-interval <s>", "seconds between scraped snapshots (default 0.1)", positiveNumber)
    .option("--out <dir>", "output directory", "out/compare")
    .option("--jobs <n>", "runs in parallel (worker threads; default: the number of CPUs)", positiveInteger)
    .option("--run-csv", "also write each run's calls.csv (and workflows.csv)")
    .option("--no-progress", "never show the progress bar over runs")
    .option("--quiet", "do not print the table")
    .option("--no-resume", "run every run again, even where OUT/runs/… holds a report of the same inputs")
    .option("--shard <I/N>", "run only shard I (0 … N−1) of N: the grid's runs I, I+N, I+2N, …; `compare merge` joins the shards")
    .option("--dry-run", "list the grid (or the shard's share) and which runs would run or be reused; run nothing")
    .option(
      "--emit <scheduler>",
      "write the files that run this comparison as --shards N shards plus a merge on a scheduler, instead of running it: slurm (sbatch array) or k8s (Indexed Job)",
      oneOf(["slurm", "k8s"] as const),
    )
    .option("--shards <n>", "with --emit: the number of shards", positiveInteger)
    .option("--cpus-per-shard <n>", "with --emit: CPUs each shard gets (and its --jobs, unless --jobs is given; default: --jobs, else 1)", positiveInteger)
    .option("--tandem-command <cmd>", "with --emit: how a node starts tandem (default for slurm: this node and tandem's path; for k8s: tandem)")
    .option("--slurm-partition <name>", "with --emit slurm: #SBATCH --partition")
    .option("--slurm-time <limit>", "with --emit slurm: #SBATCH --time per shard, e.g. 1:00:00")
    .option("--slurm-account <name>", "with --emit slurm: #SBATCH --account")
    .option("--k8s-image <image>", "with --emit k8s: container image with tandem (required)")
    .option("--k8s-pvc <name>", "with --emit k8s: PersistentVolumeClaim the results go to (required); --out is relative to its mount")
    .option("--k8s-mount <path>", "with --emit k8s: where the volume is mounted (also the working directory)", "/results")
    .option("--k8s-namespace <ns>", "with --emit k8s: namespace of the Jobs", "default")
    .option("--k8s-name <name>", "with --emit k8s: name prefix of the Jobs", "tandem-compare")
    .option("--k8s-parallelism <n>", "with --emit k8s: shard pods running at once (default: all)", positiveInteger)
    .option("--k8s-backoff-limit <n>", "with --emit k8s: retries of failed pods before a Job fails", nonNegativeInteger, 3)
    .enablePositionalOptions()
    .addCommand(compareMergeCommand())
    .action((flags: CompareFlags, command: Command) => runAction(() => runCompare(flags, command)));
}

/** The workload flags at one rate: the rate goes where `sim --rate` would put it. */
function workloadPlanner(flags: CompareFlags, rates: (number | null)[]): (rate: number | null, seed: number) => Workload {
  const source = (["trace", "workflows", "appworld", "app"] as const).find((k) => flags[k] !== undefined);
  if (flags.rate !== undefined) throw new InputError("--rate: compare takes a list, --rates R1,R2,…");
  const hasRates = rates[0] !== null;
  if (hasRates && source === "workflows") {
    throw new InputError("--rates does not apply to --workflows (the file gives the arrival times); omit --rates");
  }
  if (hasRates && flags.arrivals !== undefined) throw new InputError("--rates and --arrivals both set workflow arrival times; expected one");
  if (hasRates && flags.interval !== undefined) throw new InputError("--rates and --interval both set workflow arrival times; expected one");
  if (hasRates && flags.arrival === "trace") throw new InputError("--arrival trace keeps the trace's own times; with --rates give poisson or gamma, or omit --rates");
  if (hasRates && flags.users !== undefined) throw new InputError("--rates and --users both set workflow arrivals; expected one (closed-loop users start workflows as they finish)");
  if (!hasRates && (source === "app" || source === "appworld") && flags.arrivals === undefined && flags.interval === undefined && flags.users === undefined) {
    throw new InputError(`--${source}: generated workflows need arrival times: give --rates R1,R2,… (with --count N), --interval S or --arrivals FILE`);
  }
  if (!hasRates && source === undefined) {
    throw new InputError("--rates is required with the built-in workload (or give --trace, --workflows, --appworld or --app)");
  }
  // One workload per rate, built (and checked) once, before anything runs.
  const byRate = new Map<number | null, Workload>();
  for (const rate of rates) {
    const workload = workloadFromFlags({ ...flags, rate: rate ?? undefined });
    if (workload.kind === "app") resolveAppParams(appByName(workload.name), workload.params);
    if (workload.kind === "app" || workload.kind === "appworld") checkTiming(workload.timing);
    byRate.set(rate, workload);
  }
  return (rate, seed) => withWorkloadSeed(byRate.get(rate)!, seed);
}

/** Loads each policy file once here, before any worker starts, so a bad file or bad params fail
 *  with one line; every worker thread then loads the file itself. */
async function checkPolicyFiles(combos: readonly PolicyCombo[]): Promise<void> {
  for (const combo of combos) {
    const where = `--policies: ${combo.label}`;
    for (const kind of ["scheduling", "dispatch"] as const) {
      const choice = combo[kind];
      if (!isPolicyFile(typeof choice === "string" ? choice : choice.name)) continue;
      try {
        if (kind === "scheduling") await policyFromFile("scheduling", choice, `--${kind}`, undefined);
        else await policyFromFile("dispatch", choice, `--${kind}`, undefined);
      } catch (error) {
        if (error instanceof InputError) throw new InputError(`${where}: ${error.message}`);
        throw error;
      }
    }
  }
}

async function runCompare(flags: CompareFlags, command: Command): Promise<void> {
  if (flags.policies === undefined) {
    throw new InputError("--policies is required: comma-separated SCHEDULING+DISPATCH combinations, e.g. fcfs+round-robin,fcfs+least-kv");
  }
  const combos = parsePolicyList(flags.policies);
  const rates: (number | null)[] = flags.rates === undefined ? [null] : parseRateList(flags.rates);
  const seeds = seedRange(flags.seed ?? DEFAULT_FIRST_SEED, flags.seeds);
  const workloadAt = workloadPlanner(flags, rates);
  const cluster = flags.config ? await loadClusterConfig(flags.config) : DEFAULT_CLUSTER;
  validatePolicyCombos(combos);
  await checkPolicyFiles(combos);

  const grid = buildJobs({
    combos,
    rates,
    seeds,
    workloadAt,
    cluster,
    clusterFile: flags.config,
    observability: { mode: flags.observe, interval_s: flags.observeInterval },
  });
  if (flags.emit !== undefined) {
    process.stdout.write(emitSweep({ ...flags, emit: flags.emit }, command) + "\n");
    return;
  }
  const sweep = await prepareSweep(flags, grid, { policies: combos.map((c) => c.label), rates, seeds });
  if (sweep === undefined) return;
  const { jobs } = sweep;

  const { reused: earlier, toRun } = flags.resume ? splitReusable(jobs, flags.out, flags.runCsv === true) : { reused: [], toRun: jobs };
  const progress = sweepProgress(jobs.length, flags.progress);
  for (let i = 0; i < earlier.length; i++) progress.done(true);
  let ran;
  try {
    ran = await runJobsInWorkers(toRun, {
      concurrency: flags.jobs ?? Math.max(1, availableParallelism()),
      out: flags.out,
      runCsv: flags.runCsv === true,
      onDone: () => progress.done(false),
    });
  } finally {
    progress.stop();
  }
  // Back in grid order, whichever runs were reused.
  const results = [...earlier, ...ran].sort((a, b) => a.index - b.index);
  const first = results[0];
  if (first && first.clamped_prompt_rows + first.clamped_output_rows > 0) {
    process.stderr.write(
      `tandem: note: ${first.clamped_prompt_rows} rows with 0 prompt tokens and ${first.clamped_output_rows} with 0 output tokens were counted as 1 token (docs/traces.md)\n`,
    );
  }
  const reused = results.filter((r) => r.reused).length;
  const reusedNote = reused > 0 ? ` (${reused} reused from an earlier sweep)` : "";
  if (sweep.finish) {
    process.stdout.write(sweep.finish(results) + reusedNote + "\n");
    return;
  }

  const runs = results.map((r, i) => rowFromReport(jobs[i], r.report));
  const { means, paths } = writeCompareOutputs(flags.out, { policies: combos.map((c) => c.label), rates, seeds, runs, first: results[0].report });
  const csvPath = paths.csv;
  const meansPath = paths.means;
  const jsonPath = paths.json;
  if (!flags.quiet) process.stdout.write(formatCompareTable(means, seeds.length) + "\n");
  process.stdout.write(`wrote ${jobs.length} run${jobs.length === 1 ? "" : "s"}${reusedNote} under ${join(flags.out, "runs")}, ${csvPath}, ${meansPath}, ${jsonPath}\n`);
}
