import { inputError } from "../src/core/errors.ts";
import { standardNormal, type Random } from "../src/core/rng.ts";
import { distributionParams } from "./lengths.ts";

/** A distribution of durations in seconds (tool runs, think times): `fixed:S`, `uniform:A,B`,
 *  `lognormal:MEAN,CV` or `exponential:MEAN` (`exp:MEAN` for short). */
export type DurationDistribution =
  | { kind: "fixed"; seconds: number }
  | { kind: "uniform"; min_s: number; max_s: number }
  | { kind: "lognormal"; mean_s: number; cv: number }
  | { kind: "exponential"; mean_s: number };

const SYNTAX = "expected fixed:S, uniform:A,B, lognormal:MEAN,CV or exponential:MEAN (or exp:MEAN) (seconds)";

export function parseDurationDistribution(spec: string, option: string): DurationDistribution {
  if (typeof spec !== "string") throw inputError(option, `got ${JSON.stringify(spec)}; ${SYNTAX}`);
  const colon = spec.indexOf(":");
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const params = colon < 0 ? "" : spec.slice(colon + 1);
  const nonNegative = (value: number, what: string) => {
    if (!(value >= 0)) throw inputError(option, `${JSON.stringify(spec)}: ${what} is ${value}; expected ≥ 0`);
    return value;
  };
  switch (kind) {
    case "fixed": {
      const [seconds] = distributionParams(params, spec, option, 1, SYNTAX);
      return { kind, seconds: nonNegative(seconds, "S") };
    }
    case "uniform": {
      const [a, b] = distributionParams(params, spec, option, 2, SYNTAX);
      if (nonNegative(a, "A") > nonNegative(b, "B")) throw inputError(option, `${JSON.stringify(spec)}: A > B; expected A ≤ B`);
      return { kind, min_s: a, max_s: b };
    }
    case "lognormal": {
      const [mean_s, cv] = distributionParams(params, spec, option, 2, SYNTAX);
      if (!(mean_s > 0)) throw inputError(option, `${JSON.stringify(spec)}: MEAN is ${mean_s}; expected > 0`);
      return { kind, mean_s, cv: nonNegative(cv, "CV") };
    }
    case "exp":
    case "exponential": {
      const [mean_s] = distributionParams(params, spec, option, 1, SYNTAX);
      if (!(mean_s > 0)) throw inputError(option, `${JSON.stringify(spec)}: MEAN is ${mean_s}; expected > 0`);
      return { kind: "exponential", mean_s };
    }
    default:
      throw inputError(option, `unknown distribution ${JSON.stringify(kind)} in ${JSON.stringify(spec)}; ${SYNTAX}`);
  }
}

/** A sampler of durations ≥ 0 in seconds. */
export function durationSampler(dist: DurationDistribution, random: Random): () => number {
  switch (dist.kind) {
    case "fixed":
      return () => dist.seconds;
    case "uniform":
      return () => dist.min_s + random() * (dist.max_s - dist.min_s);
    case "lognormal": {
      const sigma2 = Math.log(1 + dist.cv * dist.cv);
      const sigma = Math.sqrt(sigma2);
      const mu = Math.log(dist.mean_s) - sigma2 / 2;
      return () => Math.exp(mu + sigma * standardNormal(random));
    }
    case "exponential":
      return () => -Math.log(1 - random()) * dist.mean_s;
  }
}
