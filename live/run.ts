import { DEFAULT_CLUSTER, type ClusterConfig } from "../src/model/cluster-schema.ts";
import { InputError } from "../src/core/errors.ts";
import { buildSimInstances } from "../run/instances.ts";
import { RngStreams } from "../src/core/rng.ts";
import { simCallEstimator } from "../src/model/call-estimator.ts";
import { callFromRequest, canonicalModelName, isWorkflow, type SimInstance } from "../sim/host.ts";
import { DEFAULT_OBSERVE_INTERVAL_S, lifecycleFrom, resolvePolicies, runRecorder, runReport, workloadArrivals, type RunHooks, type Workload } from "../sim/run.ts";
import { checkLiveSettings, configEndpoints } from "./endpoints.ts";
import { emptyStats, DEFAULT_WORKLOAD, type TraceStats } from "../traces/index.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import type { PolicyChoice } from "../src/policies/registry.ts";
import { startEmulatorWorker, type WorkerEmulator } from "./emulator/in-worker.ts";
import { LiveClock } from "./host/clock.ts";
import { HttpTransport, type LiveEndpoint } from "./host/http-transport.ts";
import { LiveHost } from "./host/live-host.ts";

export interface LiveRunOptions extends RunHooks {
  cluster?: ClusterConfig;
  clusterFile?: string;
  workload?: Workload;
  scheduling?: PolicyChoice;
  dispatch?: PolicyChoice;
  seed?: number;
  /** Model seconds between /metrics scrapes (default: the config's, else 0.1). */
  observe_interval_s?: number;
  /** Model seconds per wall second: 1 against real servers; emulators started with `emulate` run
   *  this much faster than real time, and arrivals and tools are compressed to match. */
  time_scale?: number;
  /** Start one in-process vLLM emulator per configured instance (config endpoints are ignored). */
  emulate?: boolean;
  /** Sent as a bearer token to real servers (vLLM --api-key). */
  api_key?: string;
}

export interface LiveRunOutput {
  report: Report;
  trace_stats: TraceStats;
  /** Instance id → the URL it was served from. */
  endpoints: Record<string, string>;
}

/** One live run end to end: the same config, workload and policies as `tandem sim`, replayed in
 *  wall-clock time through the shared core against real OpenAI-compatible servers (or emulators),
 *  with the same report (mode "live"; times in model seconds). */
export async function runLive(options: LiveRunOptions): Promise<LiveRunOutput> {
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  const clusterFile = options.clusterFile ?? "(built-in cluster)";
  const workload = options.workload ?? { kind: "generated", options: DEFAULT_WORKLOAD };
  const time_scale = options.time_scale ?? 1;
  checkLiveSettings(cluster, clusterFile, time_scale, options.emulate, "live mode");
  const { seed, schedulingChoice, dispatchChoice, scheduling, dispatch } = resolvePolicies(options, cluster, clusterFile);
  const rng = new RngStreams(seed);
  const interval_s = options.observe_interval_s ?? cluster.observability?.interval_s ?? DEFAULT_OBSERVE_INTERVAL_S;
  const instances = await buildSimInstances(cluster, clusterFile);
  const recorder = runRecorder(cluster, instances, interval_s, options);

  const emulators: WorkerEmulator[] = [];
  let transport: HttpTransport | undefined;
  let host: LiveHost | undefined;
  try {
    const endpoints = options.emulate ? await startEmulators(cluster, clusterFile, instances, time_scale, emulators)
      : configEndpoints(cluster, clusterFile, instances, "live mode").map(({ instance, group, url }) => ({
          instanceId: instance.spec.id,
          url,
          served_model: group.served_model_name ?? group.model,
          priority_scheduling: instance.engine.scheduling_policy === "priority",
        }));
    const clock = new LiveClock(time_scale);
    transport = new HttpTransport({ clock, endpoints, ...(options.api_key !== undefined ? { api_key: options.api_key } : {}) });
    await transport.checkReachable();
    const lifecycle = lifecycleFrom(cluster);
    host = new LiveHost({
      instances: instances.map((i) => i.spec),
      scheduling,
      dispatch,
      recorder,
      random: rng.stream("policy"),
      estimator: simCallEstimator(instances),
      resolveModel: canonicalModelName,
      ...(lifecycle ? { lifecycle: lifecycle.policies } : {}),
      clock,
      transport,
      control: transport,
      observe_interval_s: interval_s,
    });
    await host.observeAll();

    const stats = emptyStats();
    const source = workloadSource(workload);
    const served = new Set(instances.map((i) => i.spec.model));
    let arrived = 0;
    for await (const batch of await workloadArrivals(workload, seed, rng, stats)) {
      for (const arrival of batch) {
        await clock.until(arrival.arrival_s);
        arrived++;
        if (isWorkflow(arrival)) host.workflowArrived(arrival);
        else {
          if (arrival.model !== undefined && !served.has(canonicalModelName(arrival.model))) {
            throw new InputError(`${source}: request "${arrival.id}": model "${arrival.model}" is not served by any instance; the cluster serves ${[...served].join(", ")}`);
          }
          host.callArrived(callFromRequest(arrival));
        }
        options.onProgress?.({ sim_time_s: clock.now_s(), arrived });
      }
    }
    await host.idle();
    await host.observeAll(); // the final scrape gives the report its cumulative counters
    const report = runReport({
      mode: "live",
      cluster,
      workload,
      seed,
      arrived,
      scheduling: { policy: scheduling, choice: schedulingChoice },
      dispatch: { policy: dispatch, choice: dispatchChoice },
      observability: { mode: "scraped", interval_s },
      instances,
      recorder,
      agents: host.controller.agentSummaries(),
      models: host.controller.traffic.snapshot(clock.now_s()),
    });
    return { report, trace_stats: stats, endpoints: Object.fromEntries(endpoints.map((e) => [e.instanceId, e.url])) };
  } finally {
    host?.close();
    await transport?.close();
    await Promise.all(emulators.map((e) => e.close()));
  }
}

async function startEmulators(cluster: ClusterConfig, clusterFile: string, instances: SimInstance[], timeScale: number, started: WorkerEmulator[]): Promise<LiveEndpoint[]> {
  const emulators = await Promise.all(instances.map((_, index) => startEmulatorWorker(cluster, clusterFile, index, timeScale)));
  started.push(...emulators);
  return instances.map((instance, index) => ({
    instanceId: instance.spec.id,
    url: emulators[index].url,
    served_model: emulators[index].servedModelName,
    priority_scheduling: instance.engine.scheduling_policy === "priority",
    emulator: true,
  }));
}

function workloadSource(workload: Workload): string {
  return "path" in workload ? workload.path : workload.kind === "app" ? `app:${workload.name}` : workload.kind;
}
