import { inputError } from "../src/core/errors.ts";
import { exponential, gamma, type Random } from "../src/core/rng.ts";

/** How inter-arrival gaps are drawn. `constant`: every gap is exactly 1/rate. `poisson`:
 *  exponential gaps. `gamma`: gamma gaps with the given coefficient of variation (cv = 1 is
 *  Poisson; cv > 1 is burstier, cv < 1 more regular). */
export type ArrivalProcess = "poisson" | "gamma" | "constant";
export const ARRIVAL_PROCESSES: readonly ArrivalProcess[] = ["poisson", "gamma", "constant"];

export interface ArrivalClockOptions {
  process: ArrivalProcess;
  /** Mean requests per second. */
  rate: number;
  /** Coefficient of variation of the gaps; gamma only (default 1). */
  cv?: number;
}

/** Checks the options; `where` names the owner ("retime", "generate") in error messages. */
export function checkArrivalOptions(options: ArrivalClockOptions, where: string): void {
  if (!ARRIVAL_PROCESSES.includes(options.process)) {
    throw inputError(`${where}.arrival`, `got ${JSON.stringify(options.process)}; expected one of ${ARRIVAL_PROCESSES.join(", ")}`);
  }
  if (!(Number.isFinite(options.rate) && options.rate > 0)) {
    throw inputError(`${where}.rate`, `got ${options.rate}; expected requests per second > 0`);
  }
  if (options.cv !== undefined && !(Number.isFinite(options.cv) && options.cv > 0)) {
    throw inputError(`${where}.cv`, `got ${options.cv}; expected a coefficient of variation > 0`);
  }
}

/** Returns a function yielding successive arrival times in seconds, the first at 0. */
export function arrivalClock(options: ArrivalClockOptions, random: Random): () => number {
  const { process, rate } = options;
  if (process === "constant") {
    // i / rate rather than a running sum, so the 10^6-th arrival carries no accumulated rounding.
    let i = 0;
    return () => i++ / rate;
  }
  let gap: () => number;
  if (process === "poisson") {
    gap = () => exponential(random, rate);
  } else {
    const cv = options.cv ?? 1;
    // Gamma with shape k has cv = 1/sqrt(k); scale θ gives mean kθ = 1/rate.
    const shape = 1 / (cv * cv);
    const scale = 1 / (rate * shape);
    gap = () => gamma(random, shape, scale);
  }
  let next_s = 0;
  return () => {
    const now_s = next_s;
    next_s += gap();
    return now_s;
  };
}
