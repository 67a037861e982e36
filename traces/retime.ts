import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import type { Random } from "../src/core/rng.ts";
import { arrivalClock, checkArrivalOptions } from "./arrivals.ts";

/** Which arrival times a replay uses: the trace's own (optionally sped up or slowed down), or fresh
 *  ones from a Poisson or gamma process at a chosen rate, keeping each request's sizes and prefixes. */
export type RetimeArrival = "trace" | "poisson" | "gamma";
export const RETIME_ARRIVALS: readonly RetimeArrival[] = ["trace", "poisson", "gamma"];

export interface RetimeOptions {
  arrival: RetimeArrival;
  /** Requests per second; required for poisson and gamma. */
  rate?: number;
  /** Coefficient of variation of the inter-arrival gaps; gamma only (default 1). */
  cv?: number;
  /** Multiplies the trace's arrival times (0.5 = twice as fast); trace only (default 1). */
  time_scale?: number;
  /** Uniform source for poisson and gamma, by convention `new RngStreams(seed).stream("arrivals")`. */
  random?: Random;
}

function checkRetime(options: RetimeOptions): void {
  const { arrival, rate, cv, time_scale, random } = options;
  if (!RETIME_ARRIVALS.includes(arrival)) {
    throw inputError("retime.arrival", `got ${JSON.stringify(arrival)}; expected one of ${RETIME_ARRIVALS.join(", ")}`);
  }
  if (arrival === "trace") {
    if (time_scale !== undefined && !(Number.isFinite(time_scale) && time_scale > 0)) {
      throw inputError("retime.time_scale", `got ${time_scale}; expected a factor > 0`);
    }
    // Refuse knobs that would be silently ignored.
    if (rate !== undefined) throw inputError("retime.rate", `applies to poisson and gamma arrivals, not "trace"; use time_scale`);
    if (cv !== undefined) throw inputError("retime.cv", `applies to gamma arrivals only`);
    return;
  }
  if (rate === undefined) throw inputError("retime.rate", `is required for ${arrival} arrivals; expected requests per second > 0`);
  if (time_scale !== undefined) throw inputError("retime.time_scale", `applies to "trace" arrivals only; use rate`);
  if (cv !== undefined && arrival !== "gamma") throw inputError("retime.cv", `applies to gamma arrivals only`);
  checkArrivalOptions({ process: arrival, rate, cv }, "retime");
  if (!random) throw inputError("retime.random", `is required for ${arrival} arrivals (an RngStreams stream named "arrivals")`);
}

/** Re-times a batched request stream. Options are checked here, before any request is pulled; the
 *  requests are copied, never modified. */
export function retime(source: AsyncIterable<RequestSpec[]>, options: RetimeOptions): AsyncGenerator<RequestSpec[]> {
  checkRetime(options);
  if (options.arrival === "trace") return scaleTrace(source, options.time_scale ?? 1);
  const next = arrivalClock({ process: options.arrival, rate: options.rate!, cv: options.cv }, options.random!);
  return restamp(source, next);
}

async function* scaleTrace(source: AsyncIterable<RequestSpec[]>, time_scale: number): AsyncGenerator<RequestSpec[]> {
  for await (const batch of source) {
    yield time_scale === 1 ? batch : batch.map((r) => ({ ...r, arrival_s: r.arrival_s * time_scale }));
  }
}

async function* restamp(source: AsyncIterable<RequestSpec[]>, next: () => number): AsyncGenerator<RequestSpec[]> {
  for await (const batch of source) {
    yield batch.map((r) => ({ ...r, arrival_s: next() }));
  }
}
