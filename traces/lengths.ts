import { inputError } from "../src/core/errors.ts";
import { standardNormal, type Random } from "../src/core/rng.ts";

/** A token-length distribution, written `fixed:N`, `uniform:A,B` (integers, both ends included) or
 *  `lognormal:MEAN,CV` (a lognormal with that mean and coefficient of variation). */
export type LengthDistribution = { kind: "fixed"; tokens: number } | { kind: "uniform"; min_tokens: number; max_tokens: number } | { kind: "lognormal"; mean_tokens: number; cv: number };

const SYNTAX = "expected fixed:N, uniform:A,B or lognormal:MEAN,CV";

function numbers(text: string, spec: string, option: string, count: number): number[] {
  return distributionParams(text, spec, option, count, SYNTAX);
}

/** The comma-separated numeric parameters after `kind:` in a distribution string. */
export function distributionParams(text: string, spec: string, option: string, count: number, syntax: string): number[] {
  const parts = text.split(",");
  if (parts.length !== count) {
    throw inputError(option, `${JSON.stringify(spec)} has ${parts.length} parameter(s), needs ${count}; ${syntax}`);
  }
  return parts.map((part) => {
    const value = part.trim() === "" ? NaN : Number(part);
    if (!Number.isFinite(value)) throw inputError(option, `${JSON.stringify(spec)}: ${JSON.stringify(part)} is not a number; ${syntax}`);
    return value;
  });
}

function positiveInteger(value: number, what: string, spec: string, option: string): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw inputError(option, `${JSON.stringify(spec)}: ${what} is ${value}; expected an integer ≥ 1`);
  }
  return value;
}

/** Parses a distribution string; `option` names the setting in errors (e.g. "generate.prompt"). */
export function parseLengthDistribution(spec: string, option: string): LengthDistribution {
  if (typeof spec !== "string") throw inputError(option, `got ${JSON.stringify(spec)}; ${SYNTAX}`);
  const colon = spec.indexOf(":");
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const params = colon < 0 ? "" : spec.slice(colon + 1);
  switch (kind) {
    case "fixed": {
      const [tokens] = numbers(params, spec, option, 1);
      return { kind, tokens: positiveInteger(tokens, "N", spec, option) };
    }
    case "uniform": {
      const [a, b] = numbers(params, spec, option, 2);
      const min_tokens = positiveInteger(a, "A", spec, option);
      const max_tokens = positiveInteger(b, "B", spec, option);
      if (min_tokens > max_tokens) throw inputError(option, `${JSON.stringify(spec)}: A > B; expected A ≤ B`);
      return { kind, min_tokens, max_tokens };
    }
    case "lognormal": {
      const [mean_tokens, cv] = numbers(params, spec, option, 2);
      if (!(mean_tokens > 0)) throw inputError(option, `${JSON.stringify(spec)}: MEAN is ${mean_tokens}; expected > 0`);
      if (!(cv >= 0)) throw inputError(option, `${JSON.stringify(spec)}: CV is ${cv}; expected ≥ 0`);
      return { kind, mean_tokens, cv };
    }
    default:
      throw inputError(option, `unknown distribution ${JSON.stringify(kind)} in ${JSON.stringify(spec)}; ${SYNTAX}`);
  }
}

/** A sampler of integer token counts, clamped to [min_tokens, max_tokens]. Each draw uses the
 *  same number of uniforms whatever the outcome, keeping a stream's later draws stable. */
export function lengthSampler(dist: LengthDistribution, random: Random, min_tokens: number, max_tokens: number): () => number {
  // biome-ignore lint/complexity/useMathMinMax: kept as written: where the bounds cross it returns min_tokens, Math.min(Math.max()) would return max_tokens.
  const clamp = (n: number) => (n < min_tokens ? min_tokens : n > max_tokens ? max_tokens : n);
  switch (dist.kind) {
    case "fixed": {
      const value = clamp(dist.tokens);
      return () => value;
    }
    case "uniform": {
      const span = dist.max_tokens - dist.min_tokens + 1;
      return () => clamp(dist.min_tokens + Math.floor(random() * span));
    }
    case "lognormal": {
      // For mean m and cv c: σ² = ln(1 + c²), μ = ln m − σ²/2.
      const sigma2 = Math.log(1 + dist.cv * dist.cv);
      const sigma = Math.sqrt(sigma2);
      const mu = Math.log(dist.mean_tokens) - sigma2 / 2;
      return () => clamp(Math.round(Math.exp(mu + sigma * standardNormal(random))));
    }
  }
}
