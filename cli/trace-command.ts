import { Command, Option } from "commander";
import { InputError } from "../src/core/errors.ts";
import { ARRIVAL_PROCESSES, DEFAULT_WORKLOAD, generateRequests, readTrace, TRACE_FORMATS, writeTandemTrace, type ArrivalProcess } from "../traces/index.ts";
import { APP_NAMES } from "../traces/apps/registry.ts";
import { formatTraceStats, requestTraceStats, workflowTraceStats } from "../traces/stats/trace-stats.ts";
import { importAppWorldFolder, readWorkflowTrace, writeWorkflowTrace } from "../traces/workflows/index.ts";
import { RngStreams } from "../src/core/rng.ts";
import { workloadArrivals } from "../run/workload.ts";
import { emptyStats } from "../traces/rows.ts";
import type { WorkflowSpec } from "../src/workflow/types.ts";
import { nonNegativeInteger, nonNegativeNumber, oneOf, positiveInteger, positiveNumber, runAction } from "./errors.ts";
import { workloadFromFlags, type WorkloadFlags } from "./workload-options.ts";
import { commandDescription } from "./command-list.ts";

interface GenFlags {
  app?: string;
  appworld?: string;
  param: string[];
  arrivals?: string;
  sampleInterval?: number;
  scaleFactor?: number;
  interval?: number;
  tenant?: string;
  priorityClass?: "high" | "medium" | "low";
  slo?: number;
  count?: number;
  rate?: number;
  arrival: ArrivalProcess;
  cv?: number;
  prompt: string;
  output: string;
  promptMin?: number;
  promptMax?: number;
  outputMin?: number;
  outputMax?: number;
  prefixGroups?: number;
  prefixTokens?: number;
  prefixZipf?: number;
  seed: number;
  out: string;
}

export function traceCommand(): Command {
  const trace = new Command("trace").description(commandDescription("trace"));
  trace
    .command("gen")
    .description(
      "Write a synthetic trace, deterministic by seed: requests in tandem's JSONL request format, or — with --app or " +
        "--appworld — workflows in tandem's workflow JSONL (docs/workflows.md)",
    )
    .requiredOption("--out <file>", "where to write the JSONL trace")
    .option("--app <name>", `generate workflows of an agent app: ${APP_NAMES.join(", ")} (docs/apps.md)`)
    .option("--appworld <dir>", "instantiate AppWorld DAG templates from this folder")
    .option("--param <key=value>", "an app parameter, repeatable", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--arrivals <file>", "workflow arrival times from an Azure-format CSV's TIMESTAMP column")
    .option("--sample-interval <k>", "with --arrivals: keep every k-th row", positiveInteger)
    .option("--scale-factor <s>", "with --arrivals: arrivals per kept row", positiveInteger)
    .option("--interval <s>", "workflows every S seconds", nonNegativeNumber)
    .option("--tenant <name>", "tenant of every workflow")
    .addOption(new Option("--priority-class <class>", "priority class of every workflow").choices(["high", "medium", "low"]))
    .option("--slo <s>", "makespan SLO of every workflow, seconds", positiveNumber)
    .option("--count <n>", `number of requests (default ${DEFAULT_WORKLOAD.count}) or workflows (default 100)`, positiveInteger)
    .option("--rate <r>", `mean arrival rate per second (requests: default ${DEFAULT_WORKLOAD.rate}; workflows: required unless --interval or --arrivals)`, positiveNumber)
    .option("--arrival <process>", `arrival process: ${ARRIVAL_PROCESSES.join(", ")} (default poisson; workflows: poisson or gamma)`, oneOf(ARRIVAL_PROCESSES))
    .option("--cv <c>", "coefficient of variation of gamma inter-arrival gaps", positiveNumber)
    .option("--prompt <dist>", "prompt length: fixed:N, uniform:A,B or lognormal:MEAN,CV", DEFAULT_WORKLOAD.prompt)
    .option("--output <dist>", "output length, same syntax", DEFAULT_WORKLOAD.output)
    .option("--prompt-min <n>", "clamp prompt lengths from below", positiveInteger)
    .option("--prompt-max <n>", "clamp prompt lengths from above", positiveInteger)
    .option("--output-min <n>", "clamp output lengths from below", positiveInteger)
    .option("--output-max <n>", "clamp output lengths from above", positiveInteger)
    .option("--prefix-groups <g>", "number of shared system prompts (0 = none)", nonNegativeInteger)
    .option("--prefix-tokens <t>", "tokens of each shared system prompt", positiveInteger)
    .option("--prefix-zipf <s>", "Zipf skew of the system-prompt choice (0 = uniform)", nonNegativeNumber)
    .option("--seed <n>", "random seed", nonNegativeInteger, DEFAULT_WORKLOAD.seed)
    .action((flags: GenFlags) =>
      runAction(async () => {
        if (flags.app !== undefined || flags.appworld !== undefined) return generateWorkflows(flags);
        const requests = generateRequests({
          count: flags.count ?? DEFAULT_WORKLOAD.count,
          rate: flags.rate ?? DEFAULT_WORKLOAD.rate,
          arrival: flags.arrival ?? "poisson",
          cv: flags.cv,
          prompt: flags.prompt,
          output: flags.output,
          prompt_min_tokens: flags.promptMin,
          prompt_max_tokens: flags.promptMax,
          output_min_tokens: flags.outputMin,
          output_max_tokens: flags.outputMax,
          prefix_groups: flags.prefixGroups,
          prefix_tokens: flags.prefixTokens,
          prefix_zipf: flags.prefixZipf,
          seed: flags.seed,
        });
        const written = await writeTandemTrace(flags.out, requests);
        process.stdout.write(`wrote ${written} requests to ${flags.out}\n`);
      }),
    );
  trace
    .command("stats")
    .description("Describe a trace: counts, arrival rate, length distributions, DAG width and depth, prefix sharing")
    .argument("<path>", "trace file (or AppWorld folder)")
    .addOption(new Option("--trace-format <format>", "format of the trace").choices([...TRACE_FORMATS, "workflows", "appworld"]).makeOptionMandatory())
    .option("--limit <n>", "only the first N requests or workflows", positiveInteger)
    .option("--seed <n>", "seed for drawn tool durations", nonNegativeInteger, 42)
    .option("--json", "print the statistics as JSON")
    .action((path: string, flags: { traceFormat: string; limit?: number; seed: number; json?: boolean }) =>
      runAction(async () => {
        let stats;
        if (flags.traceFormat === "workflows") stats = await workflowTraceStats(readWorkflowTrace(path, { seed: flags.seed, limit: flags.limit }));
        else if (flags.traceFormat === "appworld") {
          const templates = await importAppWorldFolder(path, { seed: flags.seed });
          stats = await workflowTraceStats(oneBatch(templates.slice(0, flags.limit ?? templates.length)));
        } else stats = await requestTraceStats(readTrace(path, flags.traceFormat, { limit: flags.limit }));
        process.stdout.write(flags.json ? JSON.stringify(stats, null, 2) + "\n" : formatTraceStats(stats));
      }),
    );
  return trace;
}

async function* oneBatch(workflows: WorkflowSpec[]): AsyncGenerator<WorkflowSpec[]> {
  yield workflows;
}

/** `trace gen --app/--appworld`: the same workload `sim` would run, written as workflow JSONL. */
async function generateWorkflows(flags: GenFlags): Promise<void> {
  const requestOnly: [string, unknown][] = [
    ["--prompt", flags.prompt !== DEFAULT_WORKLOAD.prompt ? flags.prompt : undefined],
    ["--output", flags.output !== DEFAULT_WORKLOAD.output ? flags.output : undefined],
    ["--prompt-min", flags.promptMin],
    ["--prompt-max", flags.promptMax],
    ["--output-min", flags.outputMin],
    ["--output-max", flags.outputMax],
    ["--prefix-groups", flags.prefixGroups],
    ["--prefix-tokens", flags.prefixTokens],
    ["--prefix-zipf", flags.prefixZipf],
  ];
  for (const [flag, value] of requestOnly) {
    if (value !== undefined) throw new InputError(`${flag} applies to request traces; with --app use --param (docs/apps.md)`);
  }
  if (flags.arrival === "constant") throw new InputError("--arrival constant: for evenly spaced workflows use --interval S");
  const workloadFlags: WorkloadFlags = {
    app: flags.app,
    appworld: flags.appworld,
    param: flags.param,
    arrivals: flags.arrivals,
    sampleInterval: flags.sampleInterval,
    scaleFactor: flags.scaleFactor,
    interval: flags.interval,
    count: flags.count,
    rate: flags.rate,
    arrival: flags.arrival === "gamma" ? "gamma" : undefined,
    cv: flags.cv,
    tenant: flags.tenant,
    priorityClass: flags.priorityClass,
    slo: flags.slo,
    seed: flags.seed,
  };
  const workload = workloadFromFlags(workloadFlags);
  if (workload.kind !== "app" && workload.kind !== "appworld") throw new InputError("--app or --appworld expected");
  const arrivals = await workloadArrivals(workload, flags.seed, new RngStreams(flags.seed), emptyStats());
  const written = await writeWorkflowTrace(flags.out, arrivals as AsyncIterable<WorkflowSpec[]>);
  process.stdout.write(`wrote ${written} workflows to ${flags.out}\n`);
}
