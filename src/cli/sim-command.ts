import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import { DEFAULT_CLUSTER } from "../config/cluster-schema.ts";
import { loadClusterConfig } from "../config/load.ts";
import { InputError } from "../core/errors.ts";
import { CALLS_CSV_HEADER, callRowToCsv } from "../metrics/calls-csv.ts";
import { reportToJson } from "../metrics/report-schema.ts";
import { formatSummaryTable } from "../metrics/summary-table.ts";
import { DISPATCH_POLICIES, SCHEDULING_POLICIES } from "../policies/registry.ts";
import { DEFAULT_SEED, runSimulation, type Workload } from "../../sim/run.ts";
import { DEFAULT_WORKLOAD, RETIME_ARRIVALS, TRACE_FORMATS, type RetimeArrival } from "../../traces/index.ts";
import { nonNegativeInteger, oneOf, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { BufferedFileWriter } from "./file-sink.ts";
import { progressReporter } from "./progress.ts";

interface SimFlags {
  trace?: string;
  traceFormat?: string;
  config?: string;
  dispatch?: string;
  scheduling?: string;
  seed?: number;
  limit?: number;
  rate?: number;
  arrival?: RetimeArrival;
  cv?: number;
  timeScale?: number;
  observe?: "scraped" | "oracle";
  observeInterval?: number;
  out: string;
  progress: boolean;
  quiet?: boolean;
}

export function simCommand(): Command {
  return new Command("sim")
    .description(
      "Simulate a cluster of vLLM-like instances under a scheduling and a dispatch policy. Without --trace it runs " +
        `the built-in workload (${DEFAULT_WORKLOAD.count} synthetic requests, Poisson ${DEFAULT_WORKLOAD.rate} req/s); ` +
        "without --config the built-in cluster (4 × llama-3-8b on h100-80gb).",
    )
    .option("--trace <file>", "request trace to replay")
    .addOption(new Option("--trace-format <format>", "format of --trace").choices(TRACE_FORMATS))
    .option("--config <file>", "cluster config, YAML or JSON (see docs/config.md)")
    .option("--dispatch <name>", `dispatch policy: ${Object.keys(DISPATCH_POLICIES).join(", ")} (default: config, else least-outstanding)`)
    .option("--scheduling <name>", `scheduling policy: ${Object.keys(SCHEDULING_POLICIES).join(", ")} (default: config, else fcfs)`)
    .option("--seed <n>", `random seed (default: config, else ${DEFAULT_SEED})`, nonNegativeInteger)
    .option("--limit <n>", "use only the first N requests", positiveInteger)
    .option("--rate <r>", "re-time arrivals as a Poisson process at R requests/s (or gamma with --arrival gamma)", positiveNumber)
    .option("--arrival <process>", `arrival times: ${RETIME_ARRIVALS.join(", ")} (default: trace, or poisson when --rate is given)`, oneOf(RETIME_ARRIVALS))
    .option("--cv <c>", "coefficient of variation of gamma inter-arrival gaps (burstiness; 1 = Poisson)", positiveNumber)
    .option("--time-scale <f>", "multiply the trace's arrival times by F (0.5 = twice as fast)", positiveNumber)
    .option("--observe <mode>", "what policies see: scraped (periodic /metrics-like snapshots) or oracle (exact state)", oneOf(["scraped", "oracle"] as const))
    .option("--observe-interval <s>", "seconds between scraped snapshots (default 0.1)", positiveNumber)
    .option("--out <dir>", "output directory for report.json and calls.csv", "out/sim")
    .option("--no-progress", "never show a progress bar")
    .option("--quiet", "do not print the summary table")
    .action((flags: SimFlags) => runAction(() => runSim(flags)));
}

function workloadFrom(flags: SimFlags): Workload {
  if (!flags.trace) {
    for (const [flag, value] of [["--trace-format", flags.traceFormat], ["--arrival", flags.arrival], ["--cv", flags.cv], ["--time-scale", flags.timeScale]] as const) {
      if (value !== undefined) throw new InputError(`${flag} applies to --trace replays; the built-in workload takes --rate, --limit and --seed`);
    }
    return {
      kind: "generated",
      options: {
        ...DEFAULT_WORKLOAD,
        count: flags.limit ?? DEFAULT_WORKLOAD.count,
        rate: flags.rate ?? DEFAULT_WORKLOAD.rate,
        seed: flags.seed ?? DEFAULT_WORKLOAD.seed,
      },
    };
  }
  if (!flags.traceFormat) throw new InputError(`--trace-format is required with --trace; expected one of ${TRACE_FORMATS.join(", ")}`);
  const arrival = flags.arrival ?? (flags.rate !== undefined ? "poisson" : "trace");
  return {
    kind: "trace",
    path: flags.trace,
    format: flags.traceFormat,
    limit: flags.limit,
    arrival,
    rate: flags.rate,
    cv: flags.cv,
    time_scale: flags.timeScale,
  };
}

async function runSim(flags: SimFlags): Promise<void> {
  const workload = workloadFrom(flags);
  const cluster = flags.config ? await loadClusterConfig(flags.config) : DEFAULT_CLUSTER;
  mkdirSync(flags.out, { recursive: true });
  const csv = new BufferedFileWriter(join(flags.out, "calls.csv"));
  csv.write(CALLS_CSV_HEADER + "\n");
  const total = workload.kind === "generated" ? workload.options.count : workload.limit;
  const progress = progressReporter(total, flags.progress);
  try {
    const { report, trace_stats } = await runSimulation({
      cluster,
      clusterFile: flags.config,
      workload,
      scheduling: flags.scheduling,
      dispatch: flags.dispatch,
      seed: flags.seed,
      observability: { mode: flags.observe, interval_s: flags.observeInterval },
      onCallClosed: (row) => csv.write(callRowToCsv(row) + "\n"),
      onProgress: (p) => progress.update(p),
    });
    progress.stop();
    csv.close();
    const reportPath = join(flags.out, "report.json");
    writeFileSync(reportPath, reportToJson(report));
    if (report.summary.calls.arrived === 0) throw new InputError(`${workload.kind === "trace" ? workload.path : "workload"}: no requests to simulate`);
    if (!flags.quiet) {
      process.stdout.write(formatSummaryTable(report.summary, report.instances) + "\n");
    }
    const clamped = trace_stats.clamped_prompt_rows + trace_stats.clamped_output_rows;
    if (clamped > 0) {
      process.stderr.write(
        `tandem: note: ${trace_stats.clamped_prompt_rows} rows with 0 prompt tokens and ${trace_stats.clamped_output_rows} with 0 output tokens were counted as 1 token (docs/traces.md)\n`,
      );
    }
    process.stdout.write(`wrote ${reportPath} and ${join(flags.out, "calls.csv")}\n`);
  } finally {
    progress.stop();
  }
}
