import type { Report } from "../src/metrics/report-schema.ts";
import { runReport } from "../run/report.ts";
import { setupRun, type RunOptions } from "../run/setup.ts";
import { closedLoopUsers, workloadArrivals } from "../run/workload.ts";
import { emptyStats, type TraceStats } from "../traces/index.ts";
import { simulate, type SimulationResult } from "./host.ts";

export type SimRunOptions = RunOptions & {
  /** Decode fast-forward (default on; `--no-fast-forward` turns it off): same report, fewer passes over the batch. */
  fastForward?: boolean;
};

export interface SimRunOutput {
  report: Report;
  result: SimulationResult;
  /** What the trace reader counted (rows read, zero-token rows clamped to 1). */
  trace_stats: TraceStats;
}

/** One simulation run end to end: the shared run setup, the workload as arrivals, the shared core
 *  under the discrete-event host, and the validated report. */
export async function runSimulation(options: SimRunOptions): Promise<SimRunOutput> {
  const setup = await setupRun(options, "sim");
  const stats = emptyStats();
  const log = setup.eventLog;
  let result: SimulationResult;
  try {
    result = await simulate(await workloadArrivals(setup.workload, setup.seed, setup.rng, stats), {
      instances: setup.instances,
      scheduling: setup.scheduling.policy,
      dispatch: setup.dispatch.policy,
      recorder: setup.recorder,
      rng: setup.rng,
      observability: setup.observability,
      lifecycle: setup.lifecycle,
      source: setup.source,
      onProgress: options.onProgress,
      onEvent: log?.event,
      onDecision: setup.decisionLog?.record,
      fastForward: options.fastForward,
      closedLoop: closedLoopUsers(setup.workload, setup.rng),
    });
  } catch (error) {
    log?.close(); // no end line: replay says the log is incomplete
    throw error;
  } finally {
    setup.decisionLog?.close();
  }
  log?.end(result.end_s, result.arrived);
  const report = runReport({
    mode: "sim",
    setup,
    arrived: result.arrived,
    agents: result.agents,
    models: result.models,
  });
  return { report, result, trace_stats: stats };
}
