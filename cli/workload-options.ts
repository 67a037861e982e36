import { type Command, Option } from "commander";
import { InputError } from "../src/core/errors.ts";
import { PRIORITY_CLASSES, type PriorityClass } from "../src/workflow/types.ts";
import type { ClosedLoopWorkload, Workload } from "../run/workload.ts";
import { parseDurationDistribution } from "../traces/durations.ts";
import { DEFAULT_WORKLOAD, RETIME_ARRIVALS, TRACE_FORMATS, type RetimeArrival } from "../traces/index.ts";
import { APP_NAMES } from "../traces/apps/registry.ts";
import { parseParamPairs } from "../traces/apps/params.ts";
import type { WorkflowTiming } from "../traces/workflows/arrival-times.ts";
import { nonNegativeInteger, nonNegativeNumber, oneOf, positiveInteger, positiveNumber } from "./errors.ts";

/** The workload flags shared by the commands that run one (sim today; compare and live later). */
export interface WorkloadFlags {
  trace?: string;
  traceFormat?: string;
  workflows?: string;
  appworld?: string;
  app?: string;
  param: string[];
  arrivals?: string;
  sampleInterval?: number;
  scaleFactor?: number;
  count?: number;
  interval?: number;
  limit?: number;
  rate?: number;
  arrival?: RetimeArrival;
  cv?: number;
  timeScale?: number;
  tenant?: string;
  priorityClass?: PriorityClass;
  slo?: number;
  appworldSystemTokens?: number;
  toolDuration?: string;
  users?: number;
  thinkTime?: string;
  seed?: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addWorkloadOptions(command: Command): Command {
  return command
    .option("--trace <file>", "request trace to replay")
    .addOption(new Option("--trace-format <format>", "format of --trace").choices(TRACE_FORMATS))
    .option("--workflows <file>", "workflow trace to replay (tandem workflow JSONL, docs/workflows.md)")
    .option("--appworld <dir>", "AppWorld agent-interaction DAGs (a folder of *_dag.json) as workflow templates")
    .option("--app <name>", `generate workflows of an agent app: ${APP_NAMES.join(", ")} (docs/apps.md)`)
    .option("--param <key=value>", "an app parameter, repeatable (see docs/apps.md)", collect, [] as string[])
    .option("--arrivals <file>", "workflow arrival times from the TIMESTAMP column of an Azure-format CSV (Kairos)")
    .option("--sample-interval <k>", "with --arrivals: keep every k-th row", positiveInteger)
    .option("--scale-factor <s>", "with --arrivals: each kept row becomes s workflow arrivals", positiveInteger)
    .option("--count <n>", "with --rate or --interval: number of workflows (default 100)", positiveInteger)
    .option("--interval <s>", "workflows arrive every S seconds (instead of --rate)", nonNegativeNumber)
    .option("--limit <n>", "use only the first N requests or workflows", positiveInteger)
    .option("--rate <r>", "arrival rate per second: re-times a trace as Poisson, or paces generated workflows", positiveNumber)
    .option("--arrival <process>", `arrival process: ${RETIME_ARRIVALS.join(", ")} (default: trace, or poisson with --rate)`, oneOf(RETIME_ARRIVALS))
    .option("--cv <c>", "coefficient of variation of gamma inter-arrival gaps (burstiness; 1 = Poisson)", positiveNumber)
    .option("--time-scale <f>", "multiply the trace's arrival times by F (0.5 = twice as fast)", positiveNumber)
    .option("--tenant <name>", "tenant of every generated workflow")
    .option("--priority-class <class>", `priority class of every generated workflow: ${PRIORITY_CLASSES.join(", ")}`, oneOf(PRIORITY_CLASSES))
    .option("--slo <s>", "makespan SLO of every generated workflow, seconds", positiveNumber)
    .option("--appworld-system-tokens <n>", "with --appworld: system prompt tokens of every agent (default 1024)", nonNegativeInteger)
    .option("--tool-duration <dist>", "with --appworld: tool run durations, e.g. lognormal:0.5,0.5 (seconds)")
    .option("--users <n>", "closed-loop clients: N users run the --count workflows back to back (docs/closed-loop.md)", positiveInteger)
    .option("--think-time <dist>", "with --users: pause after each workflow closes, e.g. exp:5 or lognormal:5,1 (seconds; default fixed:0)");
}

/** Which workload the flags describe; conflicting or misplaced flags are errors naming them. */
export function workloadFromFlags(flags: WorkloadFlags): Workload {
  const sources = (["trace", "workflows", "appworld", "app"] as const).filter((k) => flags[k] !== undefined);
  if (sources.length > 1) throw new InputError(`--${sources[0]} and --${sources[1]} both give a workload; expected one`);
  const source = sources[0];
  const refuse = (names: (keyof WorkloadFlags)[], why: string) => {
    for (const name of names) {
      const value = flags[name];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) throw new InputError(`${flagName(name)} ${why}`);
    }
  };
  if (source !== "app") refuse(["param"], "applies to --app only");
  if (source !== "appworld") refuse(["appworldSystemTokens", "toolDuration"], "applies to --appworld only");
  if (source !== "app" && source !== "appworld") {
    refuse(["users", "thinkTime"], "applies to generated workflows (--app or --appworld)");
    refuse(["arrivals", "sampleInterval", "scaleFactor", "count", "interval", "tenant", "priorityClass", "slo"], "applies to generated workflows (--app or --appworld)");
  }
  if (source === "trace") {
    if (!flags.traceFormat) throw new InputError(`--trace-format is required with --trace; expected one of ${TRACE_FORMATS.join(", ")}`);
    return {
      kind: "trace",
      path: flags.trace!,
      format: flags.traceFormat,
      limit: flags.limit,
      arrival: flags.arrival ?? (flags.rate !== undefined ? "poisson" : "trace"),
      rate: flags.rate,
      cv: flags.cv,
      time_scale: flags.timeScale,
    };
  }
  refuse(["traceFormat", "timeScale"], "applies to --trace replays");
  if (source === "workflows") {
    refuse(["rate", "arrival", "cv"], "does not apply to --workflows (the file gives arrival times)");
    return { kind: "workflows", path: flags.workflows!, limit: flags.limit };
  }
  if (source === undefined) {
    refuse(["arrival", "cv"], "applies to --trace replays and generated workflows; the built-in workload takes --rate, --limit and --seed");
    return {
      kind: "generated",
      options: { ...DEFAULT_WORKLOAD, count: flags.limit ?? DEFAULT_WORKLOAD.count, rate: flags.rate ?? DEFAULT_WORKLOAD.rate, seed: flags.seed ?? DEFAULT_WORKLOAD.seed },
    };
  }
  const closed_loop = closedLoopFromFlags(flags);
  const timing = closed_loop === undefined ? timingFromFlags(flags) : closedLoopTiming(flags);
  const overrides = { tenant: flags.tenant, priority_class: flags.priorityClass, slo_s: flags.slo };
  if (source === "appworld") {
    return { kind: "appworld", dir: flags.appworld!, timing, limit: flags.limit, overrides, system_tokens: flags.appworldSystemTokens, tool_duration: flags.toolDuration, closed_loop };
  }
  return { kind: "app", name: flags.app!, params: parseParamPairs(flags.param), timing, limit: flags.limit, overrides, closed_loop };
}

/** `--users N [--think-time DIST]`: closed-loop clients; the think time is checked here so a typo
 *  fails before anything runs. */
function closedLoopFromFlags(flags: WorkloadFlags): ClosedLoopWorkload | undefined {
  if (flags.users === undefined) {
    if (flags.thinkTime !== undefined) throw new InputError("--think-time applies with --users only");
    return undefined;
  }
  const think_time = flags.thinkTime ?? "fixed:0";
  parseDurationDistribution(think_time, "--think-time");
  return { users: flags.users, think_time };
}

/** Closed-loop users start workflows when they are free, so open-loop timing flags do not apply;
 *  the workflows come from the generator in order (arrival times replaced as users start them). */
function closedLoopTiming(flags: WorkloadFlags): WorkflowTiming {
  for (const name of ["arrivals", "sampleInterval", "scaleFactor", "rate", "interval", "arrival", "cv"] as const) {
    if (flags[name] !== undefined) throw new InputError(`${flagName(name)} does not apply with --users (users start workflows as they finish the last)`);
  }
  return { kind: "fixed", count: flags.count ?? 100, interval_s: 0 };
}

function timingFromFlags(flags: WorkloadFlags): WorkflowTiming {
  const given = [flags.arrivals !== undefined && "--arrivals", flags.rate !== undefined && "--rate", flags.interval !== undefined && "--interval"].filter(Boolean);
  if (given.length > 1) throw new InputError(`${given[0]} and ${given[1]} both set workflow arrival times; expected one`);
  if (flags.arrivals !== undefined) {
    for (const name of ["count", "arrival", "cv"] as const) {
      if (flags[name] !== undefined) throw new InputError(`${flagName(name)} does not apply with --arrivals (the file gives the times)`);
    }
    return { kind: "timestamps", path: flags.arrivals, sample_interval: flags.sampleInterval, scale_factor: flags.scaleFactor };
  }
  for (const name of ["sampleInterval", "scaleFactor"] as const) {
    if (flags[name] !== undefined) throw new InputError(`${flagName(name)} applies with --arrivals only`);
  }
  const count = flags.count ?? 100;
  if (flags.interval !== undefined) return { kind: "fixed", count, interval_s: flags.interval };
  if (flags.rate === undefined) throw new InputError("generated workflows need arrival times: give --rate R (with --count N), --interval S or --arrivals FILE");
  if (flags.arrival === "gamma") return { kind: "gamma", rate: flags.rate, cv: flags.cv, count };
  if (flags.arrival === "trace") throw new InputError("--arrival trace applies to --trace replays; generated workflows take poisson or gamma");
  if (flags.cv !== undefined) throw new InputError("--cv applies with --arrival gamma only");
  return { kind: "poisson", rate: flags.rate, count };
}

function flagName(key: string): string {
  return "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}
