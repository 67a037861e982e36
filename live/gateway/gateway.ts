import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { InputError } from "../../src/core/errors.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { WorkflowRow } from "../../src/metrics/workflow-recorder.ts";
import type { PolicyChoice } from "../../src/policies/registry.ts";
import { canonicalModelName } from "../../src/model/models.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { controllerOptions, setupRun } from "../../run/setup.ts";
import { checkLiveSettings, configEndpoints } from "../endpoints.ts";
import { startEmulator, type Emulator } from "../emulator/index.ts";
import { LiveClock } from "../host/clock.ts";
import { LiveHost } from "../host/live-host.ts";
import { callClosed } from "./admission.ts";
import type { GatewayContext } from "./context.ts";
import { GatewayControl, InstanceHealth, type ControlEndpoint } from "./control.ts";
import { Occupancy, type ClientExchange } from "./exchange.ts";
import { GatewayMetrics } from "./metrics.ts";
import { ModelRoutes } from "./models.ts";
import { GatewayOutput } from "./output.ts";
import { gatewayListener } from "./server.ts";
import { drainAndReport, type GatewayShutdown } from "./shutdown.ts";
import { SampleSpill } from "./spilled-series.ts";
import { TrafficRecorder, type RecordOptions, type RecordSummary } from "./recorder.ts";
import { GatewayTransport } from "./transport.ts";
import { OpenWorkflows } from "./workflows.ts";
import { checkListenAuth, startAuth } from "./auth/setup.ts";
import { loadKeyFile } from "./auth/key-file.ts";
import type { GatewayAuth } from "./auth/auth.ts";
import { SharedState } from "./shared-state/shared-state.ts";

export interface GatewayOptions {
  cluster?: ClusterConfig;
  clusterFile?: string;
  scheduling?: PolicyChoice;
  dispatch?: PolicyChoice;
  seed?: number;
  /** Model seconds between /metrics scrapes of the instances (default: config, else 0.1). */
  observe_interval_s?: number;
  /** Start one in-process vLLM emulator per configured instance (config endpoints are ignored). */
  emulate?: boolean;
  /** With `emulate`: model seconds per wall second (emulators and the report's times). */
  speedup?: number;
  /** Bearer token for the instances (vLLM --api-key). */
  api_key?: string;
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** Per model: requests waiting in the gateway beyond which new ones get 429 (default 1024). */
  max_queue?: number;
  /** Requests in flight per instance (connections; default 256, vLLM's max_num_seqs). */
  max_in_flight_per_instance?: number;
  /** Largest request body (default 32 MiB); larger ones get 413. */
  max_body_bytes?: number;
  /** Output-token estimate of requests without max_tokens (default 256). */
  default_max_tokens?: number;
  /** Wall seconds shutdown waits for calls in flight before failing them (default 30). */
  drain_timeout_s?: number;
  /** Model seconds without calls after which an open-ended workflow closes (default 60). */
  workflow_idle_s?: number;
  /** Wall seconds to wait for an instance's response headers or next body chunk (default 600). */
  upstream_timeout_s?: number;
  /** Wall seconds between /health probes of an instance found down (default 1). */
  health_probe_s?: number;
  /** Write every event the controller receives to this file (`tandem replay` reads it). */
  events?: string;
  /** Write every scheduling and dispatch decision to this file (docs/decisions.md). */
  decisions?: string;
  /** Where report.json, calls.csv and workflows.csv go at shutdown; none: not written. */
  out?: string;
  /** Record the traffic served as a workflow trace (`--record FILE`, written at shutdown). */
  record?: RecordOptions;
  /** Every call as it closes (calls.csv rows). */
  onCallClosed?: (row: CallRow) => void;
  /** API-key file (docs/gateway-auth.md): every /v1 request then needs `Authorization: Bearer KEY`. */
  keys?: string;
  /** Listen on a non-loopback host without keys (refused otherwise). */
  no_auth?: boolean;
  /** Share routing state with other replicas through Redis (docs/gateway-replicas.md). */
  redis?: string;
  /** With `redis`: the deployment's name (replicas sharing state share it; default "default"). */
  redis_name?: string;
}

export const GATEWAY_DEFAULTS = {
  max_queue: 1024,
  max_in_flight_per_instance: 256,
  max_body_bytes: 32 * 1024 * 1024,
  default_max_tokens: 256,
  drain_timeout_s: 30,
  workflow_idle_s: 60,
  upstream_timeout_s: 600,
  health_probe_s: 1,
};

export interface Gateway {
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly routes: ModelRoutes;
  /** Instance id → the URL it is served from. */
  readonly endpoints: Record<string, string>;
  /** The emulators started with `emulate` (tests stop one to see failover). */
  readonly emulators: readonly Emulator[];
  readonly context: GatewayContext;
  /** Stops accepting, drains calls in flight (up to drain_timeout_s), writes the report. Once. */
  shutdown(): Promise<GatewayShutdown & { recorded?: RecordSummary }>;
  /** Ends a drain under way at once: calls still in flight end failed (`gateway_shutdown`). */
  abortDrain(): void;
  /** The API keys (`keys`), absent without; `reload()` rereads the file (SIGHUP). */
  readonly auth: GatewayAuth | undefined;
}

/** Starts `tandem gateway`: an OpenAI-compatible server whose requests are calls of the shared
 *  core (a LiveHost whose arrivals are HTTP requests), forwarded to the configured instances — or
 *  to emulators — by the config's scheduling and dispatch policies (docs/gateway.md). */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const speedup = options.speedup ?? 1;
  checkListenAuth(options.host ?? "127.0.0.1", options.keys, options.no_auth);
  if (options.keys !== undefined) loadKeyFile(options.keys); // a bad file fails before anything starts
  let ctx: GatewayContext | undefined;
  const recorder = options.record !== undefined ? new TrafficRecorder(options.record) : undefined;
  const output = options.out !== undefined ? new GatewayOutput(options.out) : undefined;
  const samples = new SampleSpill();
  const setup = await setupRun(
    {
      cluster: options.cluster,
      clusterFile: options.clusterFile,
      workload: { kind: "gateway" },
      scheduling: options.scheduling,
      dispatch: options.dispatch,
      seed: options.seed,
      observability: { mode: "scraped", interval_s: options.observe_interval_s },
      onCallClosed: (row) => {
        output?.callClosed(row);
        options.onCallClosed?.(row);
        if (ctx !== undefined) {
          recorder?.callClosed(ctx.exchanges.get(row.call_id), row); // before the gateway forgets the request
          callClosed(ctx, row);
        }
      },
      ...(output !== undefined ? { onWorkflowClosed: (row: WorkflowRow) => output.workflowClosed(row) } : {}),
      ...(options.events !== undefined ? { events: options.events } : {}),
      ...(options.decisions !== undefined ? { decisions: options.decisions } : {}),
      series: samples.factory,
    },
    "live",
  );
  const { cluster, clusterFile, instances } = setup;
  const interval_s = setup.observability.interval_s;
  checkLiveSettings(cluster, clusterFile, speedup, options.emulate, "the gateway");
  const routes = new ModelRoutes(cluster, instances, clusterFile);
  const defaults = GATEWAY_DEFAULTS;

  const emulators: Emulator[] = [];
  const cleanup: (() => Promise<void> | void)[] = [() => samples.close()]; // runs last, after the report
  try {
    const shared =
      options.redis !== undefined ? await SharedState.connect({ url: options.redis, speedup, ...(options.redis_name !== undefined ? { name: options.redis_name } : {}) }) : undefined;
    if (shared !== undefined) cleanup.push(() => shared.close());
    const auth = options.keys !== undefined ? startAuth(options.keys, shared?.limits) : undefined;
    if (auth !== undefined && shared !== undefined) {
      auth.sharedConcurrency = shared.concurrency;
      shared.keysInFlight = () => auth.inFlightByKey();
      shared.slotsInFlight = () => auth.inFlightBySha();
    }
    const endpoints = options.emulate
      ? await startEmulators(instances, routes, speedup, emulators)
      : configEndpoints(cluster, clusterFile, instances, "the gateway").map(({ instance, url }) => ({
          id: instance.spec.id,
          url,
          served_model: routes.instance(instance.spec.id).served_model,
        }));
    cleanup.push(() => setup.eventLog?.close()); // a gateway that failed to start keeps no end line
    cleanup.push(() => setup.decisionLog?.close());
    cleanup.push(() => Promise.all(emulators.map((e) => e.close())).then(() => {}));
    const clock = new LiveClock(speedup);
    const control = new GatewayControl(clock, endpoints, options.api_key);
    cleanup.push(() => control.close());
    try {
      await control.checkReachable();
    } catch (error) {
      throw new InputError(`${(error as Error).message}; start the servers, fix the config's endpoints, or run with --emulate`);
    }
    // The live path's latency to each instance, recorded on the report (docs/live.md, API latency).
    const api_latency_s = new Map([...(await control.measureApiLatencies(speedup))].map(([id, m]) => [id, m.api_latency_s]));

    const metrics = new GatewayMetrics();
    metrics.policyFaults = setup.policyFaults;
    const exchanges = new Map<string, ClientExchange>();
    const occupancy = new Occupancy();
    let health: InstanceHealth | undefined;
    const transport = new GatewayTransport({
      clock,
      routes,
      urls: new Map(endpoints.map((e) => [e.id, e.url])),
      exchanges,
      occupancy,
      max_in_flight_per_instance: options.max_in_flight_per_instance ?? defaults.max_in_flight_per_instance,
      upstream_timeout_s: options.upstream_timeout_s ?? defaults.upstream_timeout_s,
      ...(options.api_key !== undefined ? { api_key: options.api_key } : {}),
      onDown: (id, reason) => health?.markDown(id, reason),
      onRedispatch: (id, reason) => metrics.redispatch(id, reason),
    });
    cleanup.push(() => transport.close());

    // With --redis the policies see every replica's calls (shared-state/shared-policies.ts).
    const own = { scheduling: setup.scheduling.policy, dispatch: setup.dispatch.policy };
    const policies = shared !== undefined ? await shared.share(own.scheduling, own.dispatch, speedup) : own;
    const host = new LiveHost({
      ...controllerOptions(setup),
      scheduling: policies.scheduling,
      dispatch: metrics.countDecisions(policies.dispatch),
      resolveModel: cachedModelNames(),
      clock,
      transport,
      control,
      observe_interval_s: interval_s,
    });
    cleanup.push(() => host.close());
    health = new InstanceHealth(
      control,
      (id, state) => host.instanceStateChanged(id, state),
      routes.instances.map((i) => i.id),
      (options.health_probe_s ?? defaults.health_probe_s) * 1000,
      (id, up) => metrics.instanceEvent(id, up ? "up" : "down"),
    );
    const instanceHealth = health;
    cleanup.push(() => instanceHealth.stop());
    const workflows = new OpenWorkflows(host, options.workflow_idle_s ?? defaults.workflow_idle_s, () => clock.now_s());
    cleanup.push(() => workflows.closeAll());
    ctx = {
      clock,
      host,
      routes,
      control,
      transport,
      metrics,
      workflows,
      occupancy,
      exchanges,
      limits: {
        max_queue: options.max_queue ?? defaults.max_queue,
        max_body_bytes: options.max_body_bytes ?? defaults.max_body_bytes,
        default_max_tokens: options.default_max_tokens ?? defaults.default_max_tokens,
      },
      wake_on_request: !cluster.lifecycle?.sleep,
      arrived: 0,
      draining: false,
      seq: 0,
      ...(auth !== undefined ? { auth } : {}),
    };
    if (auth !== undefined) metrics.extra.push((x) => auth.render(x));
    if (shared !== undefined) metrics.extra.push((x) => shared.render(x));
    await host.observeAll();

    const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, gatewayListener(ctx));
    await listen(server, options.host ?? "127.0.0.1", options.port ?? 8080);
    const port = (server.address() as AddressInfo).port;
    const hostName = options.host ?? "127.0.0.1";
    const context = ctx;
    let shutdown: Promise<GatewayShutdown & { recorded?: RecordSummary }> | undefined;
    const drainAbort = new AbortController();
    return {
      url: `http://${hostName.includes(":") ? `[${hostName}]` : hostName}:${port}`,
      port,
      routes,
      endpoints: Object.fromEntries(endpoints.map((e) => [e.id, e.url])),
      emulators,
      context,
      shutdown: () =>
        (shutdown ??= drainAndReport(context, {
          server,
          output,
          setup,
          api_latency_s,
          drain_timeout_s: options.drain_timeout_s ?? defaults.drain_timeout_s,
          drainAbort: drainAbort.signal,
          cleanup,
        }).then(async (done) => {
          if (recorder === undefined) return done;
          const recorded = await recorder.write();
          return { ...done, files: [...done.files, ...recorded.files], recorded };
        })),
      abortDrain: () => drainAbort.abort(),
      auth,
    };
  } catch (error) {
    for (const step of cleanup.reverse()) await step();
    output?.abort();
    throw error;
  }
}

/** canonicalModelName, remembered: the controller resolves a call's model several times per call. */
function cachedModelNames(): (model: string) => string {
  const cache = new Map<string, string>();
  return (model) => {
    let name = cache.get(model);
    if (name === undefined) {
      name = canonicalModelName(model);
      if (cache.size < 1024) cache.set(model, name);
    }
    return name;
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code;
      reject(code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL" ? new InputError(`--host ${host} --port ${port}: cannot listen (${code})`) : error);
    });
    server.listen(port, host, () => resolve());
  });
}

async function startEmulators(instances: ConfiguredInstance[], routes: ModelRoutes, speedup: number, started: Emulator[]): Promise<ControlEndpoint[]> {
  const endpoints: ControlEndpoint[] = [];
  for (const instance of instances) {
    const served = routes.instance(instance.spec.id).served_model;
    const emulator = await startEmulator({ instance, speedup, spinMs: 0, servedModelName: served });
    started.push(emulator);
    endpoints.push({ id: instance.spec.id, url: emulator.url, served_model: served });
  }
  return endpoints;
}
