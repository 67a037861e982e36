import type { RequestSpec } from "../src/core/types.ts";
import type { Arrival } from "../src/core/arrival.ts";
import type { Random, RngStreams } from "../src/core/rng.ts";
import type { Report } from "../src/metrics/report-schema.ts";
import { batchesOf, generateBatches, readTrace, retime, type GenerateOptions, type RetimeArrival, type TraceStats } from "../traces/index.ts";
import { durationSampler, parseDurationDistribution } from "../traces/durations.ts";
import { appByName } from "../traces/apps/registry.ts";
import { resolveAppParams } from "../traces/apps/params.ts";
import type { WorkflowTiming } from "../traces/workflows/arrival-times.ts";
import type { WorkflowOverrides } from "../traces/workflows/instantiate.ts";
import { importAppWorldFolder, readWorkflowTrace, workflowArrivals } from "../traces/workflows/index.ts";

/** Closed-loop clients (docs/closed-loop.md): `users` users run the generated workflows back to
 *  back, each waiting a think time (traces/durations.ts syntax) after a workflow closes. */
export interface ClosedLoopWorkload {
  users: number;
  think_time: string;
}

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
      closed_loop?: ClosedLoopWorkload;
    }
  /** Workflows of an agent-app generator (traces/apps), with `key=value` parameters. */
  | { kind: "app"; name: string; params: Record<string, string>; timing: WorkflowTiming; limit?: number; overrides?: WorkflowOverrides; closed_loop?: ClosedLoopWorkload }
  /** Requests that arrive over HTTP at `tandem gateway`: nothing to read ahead of time. */
  | { kind: "gateway" }
  /** The workload of a recorded run (`tandem replay`): only its description is known. */
  | { kind: "recorded"; trace: Report["run"]["trace"] };

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
    case "gateway":
    case "recorded":
      throw new Error(`a ${workload.kind} workload has no arrivals to read`);
    case "app": {
      const app = appByName(workload.name);
      const params = resolveAppParams(app, workload.params);
      return workflowArrivals({ source: { kind: "app", name: app.name, app, params }, timing: workload.timing, seed, limit: workload.limit, ...workload.overrides });
    }
  }
}

/** The closed-loop users of an `--app`/`--appworld` workload given `--users`, their think times
 *  drawn from a stream of their own (so they shift no other draw); undefined for open-loop runs. */
export function closedLoopUsers(workload: Workload, rng: RngStreams): { users: number; thinkTime: () => number } | undefined {
  if ((workload.kind !== "app" && workload.kind !== "appworld") || workload.closed_loop === undefined) return undefined;
  const { users, think_time } = workload.closed_loop;
  const random: Random = rng.stream("think-time");
  return { users, thinkTime: durationSampler(parseDurationDistribution(think_time, "--think-time"), random) };
}

/** The report's `run.trace` section: where the workload came from and how it was timed. */
export function workloadTraceInfo(workload: Workload, rows: number): Report["run"]["trace"] {
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
    case "gateway":
      return { source: "gateway", format: "openai-http", rows, arrival: "live" };
    case "recorded":
      return { ...workload.trace, rows };
    case "appworld":
    case "app": {
      const t = workload.timing;
      return {
        source: workload.kind === "app" ? `app:${workload.name}` : workload.dir,
        format: workload.kind,
        rows,
        limit: workload.limit,
        arrival: workload.closed_loop !== undefined ? "closed-loop" : t.kind === "timestamps" ? `timestamps:${t.path}` : t.kind,
        rate: t.kind === "poisson" || t.kind === "gamma" ? t.rate : undefined,
        cv: t.kind === "gamma" ? t.cv : undefined,
        sample_interval: t.kind === "timestamps" ? (t.sample_interval ?? 1) : undefined,
        scale_factor: t.kind === "timestamps" ? (t.scale_factor ?? 1) : undefined,
        users: workload.closed_loop?.users,
        think_time: workload.closed_loop?.think_time,
        app_params: workload.kind === "app" ? resolveAppParams(appByName(workload.name), workload.params).toJSON() : undefined,
      };
    }
  }
}

/** Names the workload in error messages: its file, `app:NAME`, `generated` or `in-memory`. */
export function workloadSource(workload: Workload): string {
  return workloadTraceInfo(workload, 0).source;
}
