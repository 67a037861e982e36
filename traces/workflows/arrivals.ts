import { inputError } from "../../src/core/errors.ts";
import { PRIORITY_CLASSES, type WorkflowSpec } from "../../src/workflow/types.ts";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { RngStreams, type Random } from "../../src/core/rng.ts";
import { arrivalTimes, checkTiming, type WorkflowTiming } from "./arrival-times.ts";
import { durationSampler, parseDurationDistribution } from "../durations.ts";
import { frozenTemplate, instantiate, withOverrides, type WorkflowOverrides } from "./instantiate.ts";
import { WORKFLOW_BATCH_SIZE } from "./reader.ts";

/** Anything that builds workflow number `index` of an app from its parameters and a random stream
 *  (the shape of traces/apps' AppGenerator). */
export interface WorkflowBuilder<P> {
  build(index: number, params: P, random: Random): WorkflowSpec;
}

/** What arrives. `templates`: each arrival instantiates a template picked uniformly at random
 *  (AppWorld tasks). `app`: arrival k is `app.build(k, params, stream "app:NAME")`. */
export type WorkflowArrivalSource<P = unknown> = { kind: "templates"; templates: readonly WorkflowSpec[] } | { kind: "app"; name: string; app: WorkflowBuilder<P>; params: P };

export interface WorkflowArrivalOptions<P = unknown> extends WorkflowOverrides {
  source: WorkflowArrivalSource<P>;
  timing: WorkflowTiming;
  /** Seeds the streams "arrivals", "templates" and "app:NAME". */
  seed: number;
  /** Stop after this many workflows (whatever the timing would give). */
  limit?: number;
  /** Workflows per yielded batch (default WORKFLOW_BATCH_SIZE). */
  batch_size?: number;
}

/** The stream names used, so that other draws never shift these. */
export const WORKFLOW_ARRIVAL_STREAMS = {
  arrivals: "arrivals",
  templates: "templates",
  toolDurations: "template-tool-durations",
  app: (name: string) => `app:${name}`,
} as const;

function checkOptions<P>(options: WorkflowArrivalOptions<P>): void {
  checkTiming(options.timing);
  const { limit, batch_size, seed, tenant, priority_class, slo_s, source } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw inputError("--limit", `got ${limit}; expected an integer ≥ 1`);
  if (batch_size !== undefined && !(Number.isInteger(batch_size) && batch_size >= 1)) throw inputError("batch_size", `got ${batch_size}; expected an integer ≥ 1`);
  if (!Number.isFinite(seed)) throw inputError("--seed", `got ${seed}; expected a number`);
  if (tenant !== undefined && !(typeof tenant === "string" && tenant !== "")) throw inputError("--tenant", `got ${JSON.stringify(tenant)}; expected a non-empty name`);
  if (priority_class !== undefined && !PRIORITY_CLASSES.includes(priority_class)) {
    throw inputError("--priority-class", `got ${JSON.stringify(priority_class)}; expected one of ${PRIORITY_CLASSES.join(", ")}`);
  }
  if (slo_s !== undefined && !(Number.isFinite(slo_s) && slo_s > 0)) throw inputError("--slo", `got ${slo_s}; expected seconds > 0`);
  if (source.kind === "templates" && source.templates.length === 0) {
    throw inputError("templates", "none given; expected at least one workflow template");
  }
  if (source.kind === "app" && !(typeof source.name === "string" && source.name !== "")) {
    throw inputError("--app", `got ${JSON.stringify(source.name)}; expected an app name`);
  }
}

/** A timed stream of workflows in batches, non-decreasing in arrival time. Options are checked
 *  here, at the call; a bad timestamp file surfaces when the first batch is pulled. Same options
 *  and seed → the same workflows. */
export function workflowArrivals<P>(options: WorkflowArrivalOptions<P>): AsyncGenerator<WorkflowSpec[]> {
  checkOptions(options);
  const streams = new RngStreams(options.seed);
  const make = maker(options, streams);
  const times = arrivalTimes(options.timing, streams.stream(WORKFLOW_ARRIVAL_STREAMS.arrivals));
  return emit(times, make, options.limit ?? Infinity, options.batch_size ?? WORKFLOW_BATCH_SIZE);
}

/** Builds arrival number k at time t. Templates are checked and frozen once; an app's workflows
 *  are checked as they are built, since a generator bug should name the arrival, not crash later. */
function maker<P>(options: WorkflowArrivalOptions<P>, streams: RngStreams): (k: number, arrival_s: number) => WorkflowSpec {
  const overrides: WorkflowOverrides = { tenant: options.tenant, priority_class: options.priority_class, slo_s: options.slo_s };
  const { source } = options;
  if (source.kind === "templates") {
    const templates = source.templates.map((t, i) => {
      validateWorkflow(t, `templates[${i}]`);
      return frozenTemplate(t);
    });
    const pick = streams.stream(WORKFLOW_ARRIVAL_STREAMS.templates);
    const durations = streams.stream(WORKFLOW_ARRIVAL_STREAMS.toolDurations);
    const samplers = new Map<string, () => number>();
    const redraw = (spec: string) => {
      let sample = samplers.get(spec);
      if (!sample) {
        sample = durationSampler(parseDurationDistribution(spec, "tool duration"), durations);
        samplers.set(spec, sample);
      }
      return sample();
    };
    return (k, arrival_s) => instantiate(templates[Math.floor(pick() * templates.length)], k, arrival_s, overrides, redraw);
  }
  const random = streams.stream(WORKFLOW_ARRIVAL_STREAMS.app(source.name));
  return (k, arrival_s) => {
    const built = source.app.build(k, source.params, random);
    validateWorkflow(built, `app "${source.name}" workflow ${k}`);
    return withOverrides({ ...built, arrival_s }, overrides);
  };
}

async function* emit(times: AsyncGenerator<number[]>, make: (k: number, arrival_s: number) => WorkflowSpec, limit: number, batch_size: number): AsyncGenerator<WorkflowSpec[]> {
  let batch: WorkflowSpec[] = [];
  let k = 0;
  timing: for await (const chunk of times) {
    for (const arrival_s of chunk) {
      batch.push(make(k++, arrival_s));
      if (k >= limit) break timing; // leaving the loop closes a timestamp file
      if (batch.length >= batch_size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}
