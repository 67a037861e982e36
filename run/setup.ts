import { DEFAULT_CLUSTER, type ClusterConfig } from "../src/model/cluster-schema.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { RngStreams } from "../src/core/rng.ts";
import type { CallRow } from "../src/metrics/calls-csv.ts";
import { Recorder } from "../src/metrics/recorder.ts";
import { sloFromConfig } from "../src/metrics/slo-classes.ts";
import { timelinePointsPerInstance } from "../src/metrics/timeline.ts";
import type { WorkflowRow } from "../src/metrics/workflow-recorder.ts";
import type { LifecyclePolicy } from "../src/policies/lifecycle/policy.ts";
import { createAutoscale } from "../src/policies/lifecycle/autoscale.ts";
import { createSleepWake } from "../src/policies/lifecycle/sleep-wake.ts";
import { createDispatchPolicy, createSchedulingPolicy, type PolicyChoice } from "../src/policies/registry.ts";
import { DEFAULT_WORKLOAD } from "../traces/index.ts";
import { buildInstances } from "./instances.ts";
import { workloadSource, workloadTraceInfo, type Workload } from "./workload.ts";
import { EventLogWriter } from "./event-log.ts";
import { resolveKairosProfile } from "./kairos-profile.ts";
import { existsSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import type { ControllerOptions } from "../src/core/controller.ts";
import { simCallEstimator } from "../src/model/call-estimator.ts";
import { canonicalModelName } from "../src/model/models.ts";

export const DEFAULT_SEED = 42;
export const DEFAULT_OBSERVE_INTERVAL_S = 0.1;

/** How far a run has got, for progress bars. */
export interface RunProgress {
  /** Model time reached (simulated seconds, or model seconds of a live run). */
  sim_time_s: number;
  arrived: number;
}

/** Callbacks a run (sim or live) calls as it goes. */
export interface RunHooks {
  onCallClosed?: (row: CallRow) => void;
  onWorkflowClosed?: (row: WorkflowRow) => void;
  onProgress?: (progress: RunProgress) => void;
}

/** Lifecycle policies and how long their transitions take in model time. */
export interface RunLifecycle {
  policies: LifecyclePolicy[];
  /** vLLM /wake_up: reloading weights from CPU memory. */
  wake_latency_s: number;
  /** A stopped instance's boot until it serves. */
  startup_s: number;
}

/** What a run takes from its caller; every field optional (defaults: the built-in cluster and workload). */
export interface RunOptions extends RunHooks {
  cluster?: ClusterConfig;
  /** Name of the config file (for error messages and relative paths); "(built-in cluster)" for the default. */
  clusterFile?: string;
  workload?: Workload;
  scheduling?: PolicyChoice;
  dispatch?: PolicyChoice;
  seed?: number;
  observability?: { mode?: "scraped" | "oracle"; interval_s?: number };
  /** Write every event the controller receives to this file (JSONL; `tandem replay` reads it). */
  events?: string;
}

/** Everything a host needs to run: one setup for sim, live and the gateway, so that the same
 *  config and flags mean the same thing (and fail the same way) in each. */
export interface RunSetup {
  cluster: ClusterConfig;
  clusterFile: string;
  workload: Workload;
  /** Names the workload in error messages (a trace path, `app:NAME`). */
  source: string;
  seed: number;
  rng: RngStreams;
  scheduling: { policy: ReturnType<typeof createSchedulingPolicy>; choice: PolicyChoice };
  dispatch: { policy: ReturnType<typeof createDispatchPolicy>; choice: PolicyChoice };
  observability: { mode: "scraped" | "oracle"; interval_s: number };
  instances: ConfiguredInstance[];
  recorder: Recorder;
  lifecycle: RunLifecycle | undefined;
  /** With `events`: the open event log (the host ends it when the run ends). */
  eventLog: EventLogWriter | undefined;
}

/** Config + workload + flags → instances, policies, seeded streams and the recorder. */
export async function setupRun(options: RunOptions, mode: "sim" | "live"): Promise<RunSetup> {
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  const clusterFile = options.clusterFile ?? "(built-in cluster)";
  const workload = options.workload ?? { kind: "generated", options: DEFAULT_WORKLOAD };
  const { seed, schedulingChoice, dispatchChoice, scheduling, dispatch } = resolvePolicies(options, cluster, clusterFile);
  const observability = {
    mode: options.observability?.mode ?? cluster.observability?.mode ?? "scraped",
    interval_s: options.observability?.interval_s ?? cluster.observability?.interval_s ?? DEFAULT_OBSERVE_INTERVAL_S,
  };
  const instances = await buildInstances(cluster, clusterFile);
  const source = workloadSource(workload);
  const eventLog =
    options.events === undefined
      ? undefined
      : new EventLogWriter(options.events, {
          mode,
          cluster,
          cluster_file: clusterFile,
          seed,
          scheduling: schedulingChoice,
          dispatch: dispatchChoice,
          observability,
          trace: workloadTraceInfo(workload, 0),
        });
  return {
    cluster,
    clusterFile,
    workload,
    source,
    seed,
    rng: new RngStreams(seed),
    scheduling: { policy: scheduling, choice: schedulingChoice },
    dispatch: { policy: dispatch, choice: dispatchChoice },
    observability,
    instances,
    recorder: runRecorder(cluster, instances, observability.interval_s, options),
    lifecycle: lifecycleFrom(cluster),
    eventLog,
  };
}

/** The controller of a run, as every host and `tandem replay` build it: the same policies, seeded
 *  stream, call estimator and model names, so that the same events give the same decisions. */
export function controllerOptions(setup: RunSetup): ControllerOptions {
  return {
    instances: setup.instances.map((i) => i.spec),
    scheduling: setup.scheduling.policy,
    dispatch: setup.dispatch.policy,
    recorder: setup.recorder,
    random: setup.rng.stream("policy"),
    estimator: simCallEstimator(setup.instances),
    resolveModel: canonicalModelName,
    ...(setup.lifecycle ? { lifecycle: setup.lifecycle.policies } : {}),
    ...(setup.eventLog ? { onEvent: setup.eventLog.event } : {}),
  };
}

/** What a run (sim, live or the gateway) takes from options over the config over the defaults. */
export function resolvePolicies(options: { seed?: number; scheduling?: PolicyChoice; dispatch?: PolicyChoice }, cluster: ClusterConfig, clusterFile: string) {
  const fromFlag = options.scheduling !== undefined;
  const schedulingWhere = fromFlag ? "--scheduling" : `${clusterFile}: policies.scheduling`;
  // kairos-static's profile=DIR: read here (src does no I/O), relative to the config file's folder
  // when the config names it.
  const profileBase = fromFlag || !existsSync(clusterFile) ? process.cwd() : dirname(resolvePath(clusterFile));
  const schedulingChoice = resolveKairosProfile(options.scheduling ?? cluster.policies?.scheduling ?? "fcfs", profileBase, schedulingWhere);
  const dispatchChoice = options.dispatch ?? cluster.policies?.dispatch ?? "least-outstanding";
  return {
    seed: options.seed ?? cluster.seed ?? DEFAULT_SEED,
    schedulingChoice,
    dispatchChoice,
    scheduling: createSchedulingPolicy(schedulingChoice, schedulingWhere),
    dispatch: createDispatchPolicy(dispatchChoice, options.dispatch ? "--dispatch" : `${clusterFile}: policies.dispatch`),
  };
}

/** The recorder of a run: the config's SLOs, per-instance timelines sampled at the scrape interval. */
export function runRecorder(cluster: ClusterConfig, instances: readonly ConfiguredInstance[], interval_s: number, hooks: RunHooks): Recorder {
  return new Recorder({
    slo: sloFromConfig(cluster.slo),
    onCallClosed: hooks.onCallClosed,
    onWorkflowClosed: hooks.onWorkflowClosed,
    timeline: { interval_s, max_points: timelinePointsPerInstance(instances.length) },
  });
}

/** The config's lifecycle section as policies and transition times (undefined: none). */
export function lifecycleFrom(cluster: ClusterConfig): RunLifecycle | undefined {
  const config = cluster.lifecycle;
  if (!config || (!config.sleep && !config.autoscale)) return undefined;
  const policies: LifecyclePolicy[] = [];
  if (config.sleep) policies.push(createSleepWake(config.sleep));
  if (config.autoscale) policies.push(createAutoscale(config.autoscale));
  return { policies, wake_latency_s: config.sleep?.wake_latency_s ?? 0, startup_s: config.autoscale?.startup_s ?? 0 };
}
