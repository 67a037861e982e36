import { inputError } from "../../src/core/errors.ts";
import type { Random } from "../../src/core/rng.ts";
import { arrivalClock } from "../arrivals.ts";
import { sampledTimestamps } from "./timestamps.ts";

/** When workflows arrive. `timestamps`: replay an Azure-format trace's TIMESTAMP column, keeping
 *  every `sample_interval`-th row and turning each kept row into `scale_factor` arrivals (Kairos's
 *  knobs). `poisson`/`gamma`: `count` arrivals at mean `rate` per second (gamma gaps with
 *  coefficient of variation `cv`). `fixed`: `count` arrivals `interval_s` apart. The first
 *  arrival is at 0 s in every case. */
export type WorkflowTiming =
  | { kind: "timestamps"; path: string; sample_interval?: number; scale_factor?: number }
  | { kind: "poisson"; rate: number; count: number }
  | { kind: "gamma"; rate: number; cv?: number; count: number }
  | { kind: "fixed"; count: number; interval_s: number };

export const WORKFLOW_TIMINGS = ["timestamps", "poisson", "gamma", "fixed"] as const;

/** Arrival times per yielded array, for batching without one await per workflow. */
const CHUNK = 1024;

function integerAtLeast1(value: unknown, flag: string, what: string): void {
  if (!(typeof value === "number" && Number.isInteger(value) && value >= 1)) {
    throw inputError(flag, `got ${JSON.stringify(value)}; expected ${what} (an integer ≥ 1)`);
  }
}

/** Checks the timing options; errors name the CLI flag that sets each one. */
export function checkTiming(timing: WorkflowTiming): void {
  switch (timing.kind) {
    case "timestamps":
      if (typeof timing.path !== "string" || timing.path === "") {
        throw inputError("--arrivals", `got ${JSON.stringify(timing.path)}; expected the path of an Azure-format CSV`);
      }
      if (timing.sample_interval !== undefined) integerAtLeast1(timing.sample_interval, "--sample-interval", "keep every k-th row");
      if (timing.scale_factor !== undefined) integerAtLeast1(timing.scale_factor, "--scale-factor", "arrivals per kept row");
      return;
    case "poisson":
    case "gamma":
      if (!(typeof timing.rate === "number" && Number.isFinite(timing.rate) && timing.rate > 0)) {
        throw inputError("--rate", `got ${JSON.stringify(timing.rate)}; expected workflows per second > 0`);
      }
      if (timing.kind === "gamma" && timing.cv !== undefined && !(Number.isFinite(timing.cv) && timing.cv > 0)) {
        throw inputError("--cv", `got ${JSON.stringify(timing.cv)}; expected a coefficient of variation > 0`);
      }
      integerAtLeast1(timing.count, "--count", "the number of workflows");
      return;
    case "fixed":
      integerAtLeast1(timing.count, "--count", "the number of workflows");
      if (!(typeof timing.interval_s === "number" && Number.isFinite(timing.interval_s) && timing.interval_s >= 0)) {
        throw inputError("--interval", `got ${JSON.stringify(timing.interval_s)}; expected seconds between workflows ≥ 0`);
      }
      return;
    default:
      throw inputError("--arrival", `got ${JSON.stringify((timing as { kind: unknown }).kind)}; expected one of ${WORKFLOW_TIMINGS.join(", ")}`);
  }
}

/** Arrival times in seconds, non-decreasing, in arrays. `random` drives poisson and gamma gaps
 *  (by convention the RngStreams stream "arrivals"). Options must have passed checkTiming. */
export function arrivalTimes(timing: WorkflowTiming, random: Random): AsyncGenerator<number[]> {
  switch (timing.kind) {
    case "timestamps":
      return sampledTimestamps(timing.path, timing.sample_interval ?? 1, timing.scale_factor ?? 1);
    case "poisson":
    case "gamma": {
      const cv = timing.kind === "gamma" ? timing.cv : undefined;
      return counted(timing.count, arrivalClock({ process: timing.kind, rate: timing.rate, cv }, random));
    }
    case "fixed": {
      // k · interval rather than a running sum, so late arrivals carry no accumulated rounding.
      let k = 0;
      return counted(timing.count, () => k++ * timing.interval_s);
    }
  }
}

async function* counted(count: number, next: () => number): AsyncGenerator<number[]> {
  for (let done = 0; done < count; ) {
    const n = Math.min(CHUNK, count - done);
    const times = new Array<number>(n);
    for (let i = 0; i < n; i++) times[i] = next();
    done += n;
    yield times;
  }
}
