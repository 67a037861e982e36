import { DEFAULT_CLUSTER, type ClusterConfig } from "../src/model/cluster-schema.ts";
import type { RequestSpec } from "../src/core/types.ts";
import type { CallRow } from "../src/metrics/calls-csv.ts";
import { Recorder } from "../src/metrics/recorder.ts";
import { timelinePointsPerInstance } from "../src/metrics/timeline.ts";
import type { WorkflowRow } from "../src/metrics/workflow-recorder.ts";
import { buildReport, type Report } from "../src/metrics/report-schema.ts";
import { createDispatchPolicy, createSchedulingPolicy, type PolicyChoice } from "../src/policies/registry.ts";
import { TANDEM_VERSION } from "../src/version.ts";
import {
  DEFAULT_WORKLOAD,
  batchesOf,
  emptyStats,
  generateBatches,
  readTrace,
  retime,
  type GenerateOptions,
  type RetimeArrival,
  type TraceStats,
} from "../traces/index.ts";
import { buildSimInstances } from "../run/instances.ts";
import { RngStreams } from "../src/core/rng.ts";
import { simulate, type Arrival, type SimInstance, type SimLifecycle, type SimulationProgress, type SimulationResult } from "./host.ts";
import type { AgentSummary } from "../src/metrics/report-schema.ts";
import type { ModelTraffic } from "../src/core/model-traffic.ts";
import type { LifecyclePolicy } from "../src/policies/lifecycle/policy.ts";
import { createSleepWake } from "../src/policies/lifecycle/sleep-wake.ts";
import { createAutoscale } from "../src/policies/lifecycle/autoscale.ts";
import { appByName } from "../traces/apps/registry.ts";
import { resolveAppParams } from "../traces/apps/params.ts";
import type { WorkflowTiming } from "../traces/workflows/arrival-times.ts";
import type { WorkflowOverrides } from "../traces/workflows/instantiate.ts";
import { importAppWorldFolder, readWorkflowTrace, workflowArrivals } from "../traces/workflows/index.ts";

/** A request workload: a trace file (optionally re-timed) or the synthetic generator. */
export type Workload =
  | {
      kind: "trace";
      path: string;
      format: string;
      limit?: number;
      arrival: RetimeArrival;
      rate?: number;
      cv?: number;
      time_scale?: number;
    }
  | { kind: "generated"; options: GenerateOptions }
  /** Requests given in memory (programmatic use: benchmarks, notebooks), in arrival order. */
  | { kind: "requests"; requests: RequestSpec[] }
  /** A tandem workflow JSONL trace (arrival times from the file). */
  | { kind: "workflows"; path: string; limit?: number }
  /** AppWorld DAG templates, instantiated at the given arrival times. */
  | {
      kind: "appworld";
      dir: string;
      timing: WorkflowTiming;
      limit?: number;
      overrides?: WorkflowOverrides;
      system_tokens?: number;
      tool_duration?: string;
    }
  /** Workflows of an agent-app generator (traces/apps), with `key=value` parameters. */
  | { kind: "app"; name: string; params: Record<string, string>; timing: WorkflowTiming; limit?: number; overrides?: WorkflowOverrides };

export interface SimRunOptions extends RunHooks {
  cluster?: ClusterConfig;
  /** Name of the config file (for error messages and relative paths); "(built-in)" for the default. */
  clusterFile?: string;
  workload?: Workload;
  scheduling?: PolicyChoice;
  dispatch?: PolicyChoice;
  seed?: number;
  observability?: { mode?: "scraped" | "oracle"; interval_s?: number };
}

/** Callbacks a run (sim or live) calls as it goes. */
export interface RunHooks {
  onCallClosed?: (row: CallRow) => void;
  onWorkflowClosed?: (row: WorkflowRow) => void;
  onProgress?: (progress: SimulationProgress) => void;
}

export interface SimRunOutput {
  report: Report;
  result: SimulationResult;
  /** What the trace reader counted (rows read, zero-token rows clamped to 1). */
  trace_stats: TraceStats;
}

export const DEFAULT_SEED = 42;
export const DEFAULT_OBSERVE_INTERVAL_S = 0.1;

/** What a run (sim, live or the gateway) takes from options over the config over the defaults. */
export function resolvePolicies(
  options: { seed?: number; scheduling?: PolicyChoice; dispatch?: PolicyChoice },
  cluster: ClusterConfig,
  clusterFile: string,
) {
  const schedulingChoice = options.scheduling ?? cluster.policies?.scheduling ?? "fcfs";
  const dispatchChoice = options.dispatch ?? cluster.policies?.dispatch ?? "least-outstanding";
  return {
    seed: options.seed ?? cluster.seed ?? DEFAULT_SEED,
    schedulingChoice,
    dispatchChoice,
    scheduling: createSchedulingPolicy(schedulingChoice, options.scheduling ? "--scheduling" : `${clusterFile}: policies.scheduling`),
    dispatch: createDispatchPolicy(dispatchChoice, options.dispatch ? "--dispatch" : `${clusterFile}: policies.dispatch`),
  };
}

/** One simulation run end to end: config → instances, workload → arrivals, the shared core under
 *  the discrete-event host, and the validated report. */
export async function runSimulation(options: SimRunOptions): Promise<SimRunOutput> {
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  const clusterFile = options.clusterFile ?? "(built-in cluster)";
  const workload = options.workload ?? { kind: "generated", options: DEFAULT_WORKLOAD };
  const { seed, schedulingChoice, dispatchChoice, scheduling, dispatch } = resolvePolicies(options, cluster, clusterFile);
  const rng = new RngStreams(seed);
  const observability = {
    mode: options.observability?.mode ?? cluster.observability?.mode ?? "scraped",
    interval_s: options.observability?.interval_s ?? cluster.observability?.interval_s ?? DEFAULT_OBSERVE_INTERVAL_S,
  };
  const instances = await buildSimInstances(cluster, clusterFile);
  const recorder = runRecorder(cluster, instances, observability.interval_s, options);

  const stats = emptyStats();
  const arrivals = await workloadArrivals(workload, seed, rng, stats);
  const result = await simulate(arrivals, {
    instances,
    scheduling,
    dispatch,
    recorder,
    rng,
    observability,
    lifecycle: lifecycleFrom(cluster),
    source: traceInfo(workload, 0).source,
    onProgress: options.onProgress,
  });

  const report = runReport({
    mode: "sim",
    cluster,
    workload,
    seed,
    arrived: result.arrived,
    scheduling: { policy: scheduling, choice: schedulingChoice },
    dispatch: { policy: dispatch, choice: dispatchChoice },
    observability,
    instances,
    recorder,
    agents: result.agents,
    models: result.models,
  });
  return { report, result, trace_stats: stats };
}

/** The recorder of a run: the config's SLOs, per-instance timelines sampled at the scrape interval. */
export function runRecorder(cluster: ClusterConfig, instances: readonly SimInstance[], interval_s: number, hooks: RunHooks): Recorder {
  return new Recorder({
    slo: cluster.slo ?? {},
    onCallClosed: hooks.onCallClosed,
    onWorkflowClosed: hooks.onWorkflowClosed,
    timeline: { interval_s, max_points: timelinePointsPerInstance(instances.length) },
  });
}

/** What a finished run (sim or live) reports. */
export interface RunReportInput {
  mode: "sim" | "live";
  cluster: ClusterConfig;
  workload: Workload;
  seed: number;
  arrived: number;
  scheduling: { policy: { name: string }; choice: PolicyChoice };
  dispatch: { policy: { name: string }; choice: PolicyChoice };
  observability: { mode: "scraped" | "oracle"; interval_s: number };
  instances: readonly SimInstance[];
  recorder: Recorder;
  agents: AgentSummary[];
  models: ModelTraffic[];
}

/** The validated report of a run: one schema for both hosts. */
export function runReport(input: RunReportInput): Report {
  const { recorder, instances } = input;
  const specs = instances.map((i) => i.spec);
  return buildReport({
    tandem_version: TANDEM_VERSION,
    mode: input.mode,
    run: {
      seed: input.seed,
      config: JSON.parse(JSON.stringify(input.cluster)),
      trace: traceInfo(input.workload, input.arrived),
      policies: {
        scheduling: input.scheduling.policy.name,
        dispatch: input.dispatch.policy.name,
        scheduling_params: paramsOf(input.scheduling.choice),
        dispatch_params: paramsOf(input.dispatch.choice),
      },
      observability: input.observability,
      latency_model: distinctLatencyInfos(instances.map((i) => i.latency.info)),
    },
    summary: recorder.summary(),
    instances: recorder.instances(specs),
    agents: input.agents,
    models: input.models,
    timelines: recorder.timelines(specs),
    longest_workflow: recorder.longestWorkflow(),
  });
}

/** The workload as a batched stream of arrivals (requests or workflows). */
export async function workloadArrivals(workload: Workload, seed: number, rng: RngStreams, stats: TraceStats): Promise<AsyncIterable<Arrival[]>> {
  switch (workload.kind) {
    case "generated":
      return generateBatches(workload.options);
    case "requests":
      return batchesOf(workload.requests);
    case "trace": {
      const source = readTrace(workload.path, workload.format, { limit: workload.limit, stats });
      return retime(source, {
        arrival: workload.arrival,
        rate: workload.rate,
        cv: workload.cv,
        time_scale: workload.time_scale,
        random: rng.stream("arrivals"),
      });
    }
    case "workflows":
      return readWorkflowTrace(workload.path, { seed, limit: workload.limit });
    case "appworld": {
      const templates = await importAppWorldFolder(workload.dir, {
        seed,
        system_tokens: workload.system_tokens,
        tool_duration: workload.tool_duration,
      });
      return workflowArrivals({ source: { kind: "templates", templates }, timing: workload.timing, seed, limit: workload.limit, ...workload.overrides });
    }
    case "app": {
      const app = appByName(workload.name);
      const params = resolveAppParams(app, workload.params);
      return workflowArrivals({ source: { kind: "app", name: app.name, app, params }, timing: workload.timing, seed, limit: workload.limit, ...workload.overrides });
    }
  }
}

function traceInfo(workload: Workload, rows: number): Report["run"]["trace"] {
  switch (workload.kind) {
    case "generated": {
      const o = workload.options;
      return { source: "generated", format: "tandem", rows, arrival: o.arrival ?? "poisson", rate: o.rate, cv: o.cv };
    }
    case "requests":
      return { source: "in-memory", format: "tandem", rows, arrival: "given" };
    case "trace":
      return {
        source: workload.path,
        format: workload.format,
        rows,
        limit: workload.limit,
        arrival: workload.arrival,
        rate: workload.rate,
        cv: workload.cv,
        time_scale: workload.time_scale,
      };
    case "workflows":
      return { source: workload.path, format: "workflows", rows, limit: workload.limit, arrival: "trace" };
    case "appworld":
    case "app": {
      const t = workload.timing;
      return {
        source: workload.kind === "app" ? `app:${workload.name}` : workload.dir,
        format: workload.kind,
        rows,
        limit: workload.limit,
        arrival: t.kind === "timestamps" ? `timestamps:${t.path}` : t.kind,
        rate: t.kind === "poisson" || t.kind === "gamma" ? t.rate : undefined,
        cv: t.kind === "gamma" ? t.cv : undefined,
        sample_interval: t.kind === "timestamps" ? (t.sample_interval ?? 1) : undefined,
        scale_factor: t.kind === "timestamps" ? (t.scale_factor ?? 1) : undefined,
        app_params: workload.kind === "app" ? resolveAppParams(appByName(workload.name), workload.params).toJSON() : undefined,
      };
    }
  }
}

/** The config's lifecycle section as policies and transition times (undefined: none). */
export function lifecycleFrom(cluster: ClusterConfig): SimLifecycle | undefined {
  const config = cluster.lifecycle;
  if (!config || (!config.sleep && !config.autoscale)) return undefined;
  const policies: LifecyclePolicy[] = [];
  if (config.sleep) policies.push(createSleepWake(config.sleep));
  if (config.autoscale) policies.push(createAutoscale(config.autoscale));
  return { policies, wake_latency_s: config.sleep?.wake_latency_s ?? 0, startup_s: config.autoscale?.startup_s ?? 0 };
}

function paramsOf(choice: PolicyChoice): Record<string, unknown> | undefined {
  return typeof choice === "string" ? undefined : JSON.parse(JSON.stringify(choice.params ?? {}));
}

/** One entry per distinct latency model (instances of a group share one). */
function distinctLatencyInfos(infos: unknown[]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const info of infos) {
    const key = JSON.stringify(info);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(JSON.parse(key));
    }
  }
  return out;
}
