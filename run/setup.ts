import { DEFAULT_CLUSTER, type ClusterConfig } from "../src/model/cluster-schema.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { RngStreams } from "../src/core/rng.ts";
import type { CallRow } from "../src/metrics/calls-csv.ts";
import type { SampleSeriesFactory } from "../src/metrics/float-series.ts";
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
import { DecisionLogWriter } from "./decision-log.ts";
import { isPolicyFile, loadPolicyFile, policyFilePath, type PolicyKind } from "./policy-file.ts";
import { callIdentity } from "../src/core/decisions.ts";
import { InputError } from "../src/core/errors.ts";
import { zodInputError } from "../src/core/zod-issue.ts";
import { describeFault, guardDispatchPolicy, guardSchedulingPolicy, type PolicyFault } from "../src/policies/guarded.ts";
import { createFcfs } from "../src/policies/scheduling/fcfs.ts";
import type { DispatchPolicy } from "../src/policies/dispatch/policy.ts";
import type { SchedulingPolicy } from "../src/policies/scheduling/policy.ts";
import { runInputsSha256 } from "./inputs-hash.ts";
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
  /** Where the recorder keeps the values behind exact percentiles; absent: in memory. */
  series?: SampleSeriesFactory;
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
  /** Write every scheduling and dispatch decision to this file (JSONL; docs/decisions.md). */
  decisions?: string;
  /** The inputs' fingerprint when it cannot be computed from what is given: `tandem replay` passes
   *  the recorded run's, so that its report equals the run's own. */
  inputs_sha256?: string;
}

/** Faults of policy files during a live run: each call they fail on goes to the fallback. */
export interface PolicyFaults {
  count: number;
  /** The fallback dispatch policy's name. */
  fallback: string;
  /** The first fault, as one line (logged once). */
  first: string | undefined;
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
  /** With `decisions`: the open decision trace (the host closes it when the run ends). */
  decisionLog: DecisionLogWriter | undefined;
  /** Policy files that threw (live: the fallback took the call over; sim stops at the first). */
  policyFaults: PolicyFaults;
  /** The report's `run.inputs_sha256` (run/inputs-hash.ts). */
  inputs_sha256: string;
}

/** Config + workload + flags → instances, policies, seeded streams and the recorder. */
export async function setupRun(options: RunOptions, mode: "sim" | "live"): Promise<RunSetup> {
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  const clusterFile = options.clusterFile ?? "(built-in cluster)";
  const workload = options.workload ?? { kind: "generated", options: DEFAULT_WORKLOAD };
  const policyFaults: PolicyFaults = { count: 0, fallback: "", first: undefined };
  let decisionLog: DecisionLogWriter | undefined;
  const onFault = (fault: PolicyFault) => {
    const line = describeFault(fault);
    // The simulator stops: a policy bug must not be averaged into results.
    if (mode === "sim") throw new InputError(line);
    policyFaults.count++;
    if (policyFaults.first === undefined) {
      policyFaults.first = line;
      process.stderr.write(`tandem: ${line}; calls go to the fallback policy ${policyFaults.fallback} (further errors are counted in the report, not logged)\n`);
    }
    decisionLog?.record({
      kind: "policy_error",
      ...(fault.call ? callIdentity(fault.at_s, fault.call) : { at_s: fault.at_s, call: "" }),
      policy: fault.policy,
      hook: fault.hook,
      error: line,
      fallback: policyFaults.fallback,
    });
  };
  const { seed, schedulingChoice, dispatchChoice, scheduling, dispatch, fallback } = await loadPolicies(options, cluster, clusterFile, mode, onFault);
  policyFaults.fallback = fallback;
  const observability = {
    mode: options.observability?.mode ?? cluster.observability?.mode ?? "scraped",
    interval_s: options.observability?.interval_s ?? cluster.observability?.interval_s ?? DEFAULT_OBSERVE_INTERVAL_S,
  };
  const instances = await buildInstances(cluster, clusterFile);
  const source = workloadSource(workload);
  // A policy file's code decides the report as much as its name: its bytes are part of the inputs.
  const policy_files = (["scheduling", "dispatch"] as const)
    .map((kind) => ({ name: nameOf(kind === "scheduling" ? schedulingChoice : dispatchChoice), configFile: options[kind] ? undefined : clusterFile }))
    .filter((p) => isPolicyFile(p.name))
    .map((p) => policyFilePath(p.name, p.configFile));
  const inputs_sha256 =
    options.inputs_sha256 ?? runInputsSha256({ mode, seed, cluster, workload, scheduling: schedulingChoice, dispatch: dispatchChoice, observability, instances, policy_files });
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
          inputs_sha256,
        });
  decisionLog =
    options.decisions === undefined
      ? undefined
      : new DecisionLogWriter(options.decisions, { mode, scheduling: scheduling.name, dispatch: dispatch.name, instances: instances.map((i) => i.spec.id) });
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
    decisionLog,
    policyFaults,
    inputs_sha256,
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
    ...(setup.decisionLog ? { onDecision: setup.decisionLog.record } : {}),
  };
}

/** What a run (sim, live or the gateway) takes from options over the config over the defaults.
 *  A policy named by a path is loaded from its file and guarded: in the simulator a throw stops the
 *  run (`onFault` throws); live, the call goes to the config's `fallback_dispatch`. */
export async function loadPolicies(
  options: { seed?: number; scheduling?: PolicyChoice; dispatch?: PolicyChoice },
  cluster: ClusterConfig,
  clusterFile: string,
  mode: "sim" | "live",
  onFault: (fault: PolicyFault) => void,
) {
  // kairos-static's profile=DIR: read here (src does no I/O), relative to the config file's folder
  // when the config names it.
  const profileBase = options.scheduling !== undefined || !existsSync(clusterFile) ? process.cwd() : dirname(resolvePath(clusterFile));
  const schedulingChoice = resolveKairosProfile(
    options.scheduling ?? cluster.policies?.scheduling ?? "fcfs",
    profileBase,
    options.scheduling !== undefined ? "--scheduling" : `${clusterFile}: policies.scheduling`,
  );
  const dispatchChoice = options.dispatch ?? cluster.policies?.dispatch ?? "least-outstanding";
  const fallbackChoice = cluster.policies?.fallback_dispatch ?? "least-outstanding";
  const where = (kind: PolicyKind) => (options[kind] ? `--${kind}` : `${clusterFile}: policies.${kind}`);
  const configFile = (kind: PolicyKind) => (options[kind] ? undefined : clusterFile);
  const fallbackWhere = `${clusterFile}: policies.fallback_dispatch`;
  if (isPolicyFile(nameOf(fallbackChoice))) throw new InputError(`${fallbackWhere}: expected a built-in dispatch policy, not a file (the fallback must not fail)`);
  const fallback = createDispatchPolicy(fallbackChoice, fallbackWhere);
  const scheduling = isPolicyFile(nameOf(schedulingChoice))
    ? guardSchedulingPolicy(await policyFromFile("scheduling", schedulingChoice, where("scheduling"), configFile("scheduling")), {
        file: nameOf(schedulingChoice),
        fallback: mode === "live" ? createFcfs() : undefined,
        onFault,
      })
    : createSchedulingPolicy(schedulingChoice, where("scheduling"));
  const dispatch = isPolicyFile(nameOf(dispatchChoice))
    ? guardDispatchPolicy(await policyFromFile("dispatch", dispatchChoice, where("dispatch"), configFile("dispatch")), {
        file: nameOf(dispatchChoice),
        fallback: mode === "live" ? fallback : undefined,
        onFault,
      })
    : createDispatchPolicy(dispatchChoice, where("dispatch"));
  return { seed: options.seed ?? cluster.seed ?? DEFAULT_SEED, schedulingChoice, dispatchChoice, scheduling, dispatch, fallback: fallback.name };
}

const nameOf = (choice: PolicyChoice) => (typeof choice === "string" ? choice : choice.name);

/** A policy file's policy, its params checked against the file's schema (errors name the file).
 *  `where` is the flag (`--dispatch`; the path is relative to the working directory) or the config
 *  field (`cluster.yaml: policies.dispatch`; relative to the config's folder, `configFile`). */
export async function policyFromFile(kind: "scheduling", choice: PolicyChoice, where: string, configFile: string | undefined): Promise<SchedulingPolicy>;
export async function policyFromFile(kind: "dispatch", choice: PolicyChoice, where: string, configFile: string | undefined): Promise<DispatchPolicy>;
export async function policyFromFile(kind: PolicyKind, choice: PolicyChoice, where: string, configFile: string | undefined): Promise<SchedulingPolicy | DispatchPolicy> {
  const name = nameOf(choice);
  const shown = where.startsWith("--") ? name : `${where}: ${name}`;
  const definition = await loadPolicyFile(kind, policyFilePath(name, configFile), shown);
  const parsed = definition.params.safeParse(typeof choice === "string" ? {} : (choice.params ?? {}));
  if (!parsed.success) throw zodInputError(`${shown}: ${definition.name} params`, parsed.error);
  try {
    return definition.create(parsed.data as never);
  } catch (error) {
    throw new InputError(`${shown}: ${definition.name} create() threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The recorder of a run: the config's SLOs, per-instance timelines sampled at the scrape interval. */
export function runRecorder(cluster: ClusterConfig, instances: readonly ConfiguredInstance[], interval_s: number, hooks: RunHooks): Recorder {
  return new Recorder({
    slo: sloFromConfig(cluster.slo),
    onCallClosed: hooks.onCallClosed,
    onWorkflowClosed: hooks.onWorkflowClosed,
    timeline: { interval_s, max_points: timelinePointsPerInstance(instances.length) },
    ...(hooks.series !== undefined ? { series: hooks.series } : {}),
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
