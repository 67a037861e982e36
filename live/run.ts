import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { isWorkflow, callFromRequest } from "../src/core/arrival.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { ArrivalChecks } from "../run/checks.ts";
import { runReport } from "../run/report.ts";
import { controllerOptions, setupRun, type RunOptions } from "../run/setup.ts";
import { workloadArrivals, type Workload } from "../run/workload.ts";
import { inputError } from "../src/core/errors.ts";
import { emptyStats, type TraceStats } from "../traces/index.ts";
import { checkLiveSettings, configEndpoints } from "./endpoints.ts";
import { startEmulatorWorker, type WorkerEmulator } from "./emulator/in-worker.ts";
import { LiveClock } from "./host/clock.ts";
import type { ApiLatency } from "./host/api-latency.ts";
import { HttpTransport, type LiveEndpoint, type ServerConformance } from "./host/http-transport.ts";
import { gpuSpec } from "../src/model/gpus.ts";
import { LiveHost } from "./host/live-host.ts";

export interface LiveRunOptions extends Omit<RunOptions, "observability"> {
  /** Model seconds between /metrics scrapes (default: the config's, else 0.1). */
  observe_interval_s?: number;
  /** Model seconds per wall second: 1 against real servers; emulators started with `emulate` run
   *  this much faster than real time, and arrivals and tools are compressed to match. */
  speedup?: number;
  /** Start one in-process vLLM emulator per configured instance (config endpoints are ignored). */
  emulate?: boolean;
  /** Sent as a bearer token to real servers (vLLM --api-key). */
  api_key?: string;
  /** Calls in flight per instance at most (`--max-in-flight`); default the config's
   *  engine.max_num_seqs, else vLLM's default for the instance's GPU (docs/live.md). */
  max_in_flight_per_instance?: number;
}

export interface LiveRunOutput {
  report: Report;
  trace_stats: TraceStats;
  /** Instance id → the URL it was served from. */
  endpoints: Record<string, string>;
  /** The HTTP round trip measured to each instance before the run, in configured-instance order
   *  (also on the report's instances as `api_latency_s`, the one-way half). */
  api_latency: (ApiLatency & { instance: string })[];
  /** Median /metrics scrape round trip during the run, per instance (model seconds). */
  scrape_rtt_s: Record<string, number>;
  /** Each server's vLLM release and generation as probed at start-up, and what tandem did about
   *  it: priority sent or not (and why), the in-flight cap, token ids asked for. */
  servers: ServerConformance[];
}

/** One live run end to end: the same run setup, workload and policies as `tandem sim`, replayed in
 *  wall-clock time through the shared core against real OpenAI-compatible servers (or emulators),
 *  with the same report (mode "live"; times in model seconds). */
export async function runLive(options: LiveRunOptions): Promise<LiveRunOutput> {
  const speedup = options.speedup ?? 1;
  const setup = await setupRun({ ...options, observability: { mode: "scraped", interval_s: options.observe_interval_s } }, "live");
  const { cluster, clusterFile, instances, rng } = setup;
  checkLiveSettings(cluster, clusterFile, speedup, options.emulate, "live mode");
  const stats = emptyStats();
  // Read ahead of any server start: a bad trace fails before anything runs.
  refuseClosedLoop(setup.workload);
  const arrivals = await workloadArrivals(setup.workload, setup.seed, rng, stats);

  const emulators: WorkerEmulator[] = [];
  let transport: HttpTransport | undefined;
  let host: LiveHost | undefined;
  try {
    const endpoints = options.emulate
      ? await startEmulators(cluster, clusterFile, instances, speedup, emulators, options.max_in_flight_per_instance)
      : configEndpoints(cluster, clusterFile, instances, "live mode").map(({ instance, group, url }) => {
          const maxNumSeqs = group.engine?.max_num_seqs ?? cluster.engine?.max_num_seqs;
          return {
            instanceId: instance.spec.id,
            url,
            served_model: group.served_model_name ?? group.model,
            priority_scheduling: instance.engine.scheduling_policy === "priority",
            gpu: gpuSpec(group.gpu),
            ...(maxNumSeqs !== undefined ? { max_num_seqs: maxNumSeqs } : {}),
            ...(options.max_in_flight_per_instance !== undefined ? { max_in_flight: options.max_in_flight_per_instance } : {}),
          };
        });
    const clock = new LiveClock(speedup);
    transport = new HttpTransport({ clock, endpoints, ...(options.api_key !== undefined ? { api_key: options.api_key } : {}) });
    await transport.checkReachable();
    // Before any load: what the live path adds to every call (docs/live.md, "API latency").
    const measured = await transport.measureApiLatencies();
    host = new LiveHost({
      ...controllerOptions(setup),
      clock,
      transport,
      control: transport,
      observe_interval_s: setup.observability.interval_s,
    });
    await host.observeAll();

    const checks = new ArrivalChecks(setup.source, instances);
    let arrived = 0;
    for await (const batch of arrivals) {
      for (const arrival of batch) {
        await clock.until(arrival.arrival_s);
        arrived++;
        checks.check(arrival, host.controller);
        if (isWorkflow(arrival)) host.workflowArrived(arrival);
        else host.callArrived(callFromRequest(arrival));
        options.onProgress?.({ sim_time_s: clock.now_s(), arrived });
      }
    }
    await host.idle();
    await host.observeAll(); // the final scrape gives the report its cumulative counters
    const end_s = clock.now_s();
    const inRun = transport.scrapeRoundTrips();
    const api_latency_s = new Map([...measured].map(([id, m]) => [id, m.api_latency_s]));
    setup.eventLog?.end(end_s, arrived, api_latency_s);
    const report = runReport({
      mode: "live",
      setup,
      arrived,
      agents: host.controller.agentSummaries(),
      models: host.controller.trafficSnapshot(end_s),
      api_latency_s,
    });
    const api_latency = instances.flatMap((i) => {
      const m = measured.get(i.spec.id);
      return m ? [{ instance: i.spec.id, ...m }] : [];
    });
    return {
      report,
      trace_stats: stats,
      endpoints: Object.fromEntries(endpoints.map((e) => [e.instanceId, e.url])),
      api_latency,
      scrape_rtt_s: Object.fromEntries(inRun),
      servers: transport.servers(),
    };
  } finally {
    setup.eventLog?.close(); // a run that failed keeps its log, without an end line
    setup.decisionLog?.close();
    host?.close();
    await transport?.close();
    await Promise.all(emulators.map((e) => e.close()));
  }
}

async function startEmulators(
  cluster: ClusterConfig,
  clusterFile: string,
  instances: ConfiguredInstance[],
  speedup: number,
  started: WorkerEmulator[],
  maxInFlight: number | undefined,
): Promise<LiveEndpoint[]> {
  const emulators = await Promise.all(instances.map((_, index) => startEmulatorWorker(cluster, clusterFile, index, speedup)));
  started.push(...emulators);
  return instances.map((instance, index) => ({
    instanceId: instance.spec.id,
    url: emulators[index].url,
    served_model: emulators[index].servedModelName,
    priority_scheduling: instance.engine.scheduling_policy === "priority",
    emulator: true,
    // The emulator's engine runs the config's max_num_seqs (the simulator's default when unset).
    max_num_seqs: instance.engine.max_num_seqs,
    ...(maxInFlight !== undefined ? { max_in_flight: maxInFlight } : {}),
  }));
}

/** Closed-loop users need the host to start a user's next workflow when one closes; only the
 *  simulator does that yet (docs/closed-loop.md). */
function refuseClosedLoop(workload: Workload): void {
  if ((workload.kind === "app" || workload.kind === "appworld") && workload.closed_loop !== undefined) {
    throw inputError("--users", "closed-loop users run in `tandem sim` only; expected an open-loop workload (--rate, --interval or --arrivals)");
  }
}
