import type { Server } from "node:http";
import type { Report } from "../../src/metrics/report-schema.ts";
import type { GatewayOutput } from "./output.ts";
import { runReport } from "../../run/report.ts";
import type { RunSetup } from "../../run/setup.ts";
import type { GatewayContext } from "./context.ts";

export interface GatewayShutdown {
  report: Report;
  /** Files written (report.json, calls.csv, workflows.csv); none without an output folder. */
  files: string[];
  /** Every call ended by itself within the drain timeout. */
  drained: boolean;
}

export interface ShutdownInput {
  server: Server;
  output: GatewayOutput | undefined;
  setup: RunSetup;
  /** Each instance's measured one-way API latency (model seconds), for the report. */
  api_latency_s: ReadonlyMap<string, number>;
  drain_timeout_s: number;
  /** Fires to end the drain at once (a second SIGINT). */
  drainAbort: AbortSignal;
  /** Closes timers, the host, the transport, the control plane and emulators (in this order). */
  cleanup: (() => Promise<void> | void)[];
}

/** Wall milliseconds calls cut at the drain timeout get to report their failure. */
const ABORT_GRACE_MS = 2000;

/** Shutdown: turn new requests away (503 `shutting_down`, the connection closed), let calls in flight
 *  finish for up to the drain timeout, then fail what is left (`gateway_shutdown`: calls at an
 *  instance are aborted, calls still waiting are rejected), so that arrived = completed + failed
 *  + rejected; close open workflows, scrape the instances once more, and write the report. */
export async function drainAndReport(ctx: GatewayContext, input: ShutdownInput): Promise<GatewayShutdown> {
  ctx.draining = true;
  // The listening socket stays open while calls drain: a request that still arrives (a load
  // balancer not yet told) gets a clean 503 with `Connection: close`, not a refused connection.
  input.server.closeIdleConnections();
  const drained = await within(ctx.host.idle(), input.drain_timeout_s * 1000, input.drainAbort);
  if (drained) {
    await ctx.host.observeAll(); // the final scrape gives the report its cumulative counters
  } else {
    for (const ex of ctx.exchanges.values()) {
      if (ex.state !== "sent") continue;
      ex.cancel("gateway_shutdown");
    }
    await until(() => ![...ctx.exchanges.values()].some((ex) => ex.state === "sent"), ABORT_GRACE_MS);
    // What is left waits at the controller (or would not stop): closed here, the host with it.
    for (const ex of [...ctx.exchanges.values()]) {
      if (ex.state === "sent") ctx.host.callAbandoned(ex.id, "gateway_shutdown");
      else ctx.host.callWithdrawn(ex.id, "gateway_shutdown");
    }
  }
  const closed = new Promise<void>((resolve) => input.server.close(() => resolve()));
  ctx.workflows.closeAll();
  const end_s = ctx.clock.now_s();
  input.setup.eventLog?.end(end_s, ctx.arrived, input.api_latency_s);
  ctx.host.close();
  const report = runReport({
    mode: "live",
    setup: input.setup,
    arrived: ctx.arrived,
    agents: ctx.host.controller.agentSummaries(),
    models: ctx.host.controller.trafficSnapshot(end_s),
    api_latency_s: input.api_latency_s,
  });
  if (ctx.auth !== undefined) report.tenants = ctx.auth.usage.report();
  const files = input.output?.commit(report) ?? [];
  input.server.closeAllConnections();
  for (const step of [...input.cleanup].reverse()) await step();
  await closed;
  return { report, files, drained };
}

/** Whether `promise` settled within `ms` (and before `signal`); its rejection propagates. */
function within(promise: Promise<void>, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    if (signal?.aborted) return done(false);
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => done(true),
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves once `test()` holds (checked every 10 ms), or after `ms`. */
function until(test: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  return new Promise((resolve) => {
    if (test()) return resolve();
    const timer = setInterval(() => {
      if (!test() && performance.now() < deadline) return;
      clearInterval(timer);
      resolve();
    }, 10);
  });
}
