import type { RequestSpec } from "../src/core/types.ts";
import { inputError } from "../src/core/errors.ts";
import { RngStreams } from "../src/core/rng.ts";
import { arrivalClock, checkArrivalOptions, type ArrivalProcess } from "./arrivals.ts";
import { batchesOf } from "./batches.ts";
import { lengthSampler, parseLengthDistribution } from "./lengths.ts";
import { BATCH_SIZE } from "./rows.ts";
import { zipfPicker } from "./zipf.ts";

/** A synthetic request workload. Lengths are distribution strings (see lengths.ts). */
export interface GenerateOptions {
  /** Number of requests. */
  count: number;
  /** Mean arrival rate, requests per second. */
  rate: number;
  /** Arrival process (default poisson). */
  arrival?: ArrivalProcess;
  /** Coefficient of variation of inter-arrival gaps; gamma only (default 1). */
  cv?: number;
  /** Prompt length distribution, e.g. "lognormal:1024,1". */
  prompt: string;
  /** Output length distribution, e.g. "uniform:64,512". */
  output: string;
  /** Clamp bounds for the drawn lengths (integers ≥ 1; max defaults to no bound). */
  prompt_min_tokens?: number;
  prompt_max_tokens?: number;
  output_min_tokens?: number;
  output_max_tokens?: number;
  /** Number of shared system prompts (0 or absent = none). */
  prefix_groups?: number;
  /** Tokens of each shared system prompt; required when prefix_groups ≥ 1. */
  prefix_tokens?: number;
  /** Zipf skew of the group choice (0 = uniform, the default). */
  prefix_zipf?: number;
  /** Seed of the RngStreams; same seed and options → same requests. */
  seed: number;
}

/** The built-in workload `npm start` simulates. */
export const DEFAULT_WORKLOAD: Readonly<GenerateOptions> = Object.freeze({
  count: 2000,
  rate: 20,
  arrival: "poisson",
  prompt: "lognormal:1024,1",
  prompt_min_tokens: 16,
  prompt_max_tokens: 6144,
  output: "lognormal:256,1",
  output_min_tokens: 1,
  output_max_tokens: 2048,
  prefix_groups: 8,
  prefix_tokens: 512,
  prefix_zipf: 1.0,
  seed: 42,
});

/** Stream names: one per random quantity, so changing one distribution leaves the others' draws
 *  (and hence arrival times, prompts, prefixes) exactly as they were. */
export const GENERATOR_STREAMS = {
  arrivals: "arrivals",
  prompt: "prompt_tokens",
  output: "output_tokens",
  prefix: "prefix",
} as const;

function integerAtLeast(value: number | undefined, min: number, option: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw inputError(`generate.${option}`, `is required; expected an integer ≥ ${min}`);
  }
  if (!(Number.isInteger(value) && value >= min)) {
    throw inputError(`generate.${option}`, `got ${value}; expected an integer ≥ ${min}`);
  }
  return value;
}

function bounds(options: GenerateOptions, which: "prompt" | "output", floor: number): [number, number] {
  const min = Math.max(floor, integerAtLeast(options[`${which}_min_tokens`], 1, `${which}_min_tokens`, 1));
  const max = integerAtLeast(options[`${which}_max_tokens`], 1, `${which}_max_tokens`, Number.MAX_SAFE_INTEGER);
  if (min > max) {
    const why = floor > 1 ? ` (prompts must hold prefix_tokens + 1 = ${floor} tokens)` : "";
    throw inputError(`generate.${which}_max_tokens`, `is ${max}, below the minimum ${min}${why}; expected max ≥ min`);
  }
  return [min, max];
}

/** Checks every option and builds the samplers; errors name the option. */
function plan(options: GenerateOptions) {
  const count = integerAtLeast(options.count, 1, "count");
  if (!Number.isInteger(options.seed)) throw inputError("generate.seed", `got ${options.seed}; expected an integer`);
  const arrival = options.arrival ?? "poisson";
  if (options.cv !== undefined && arrival !== "gamma") throw inputError("generate.cv", `applies to gamma arrivals only (arrival is ${arrival})`);
  checkArrivalOptions({ process: arrival, rate: options.rate, cv: options.cv }, "generate");
  const groups = integerAtLeast(options.prefix_groups, 0, "prefix_groups", 0);
  if (groups === 0 && options.prefix_tokens !== undefined) {
    throw inputError("generate.prefix_tokens", "is set but prefix_groups is 0; expected prefix_groups ≥ 1 too");
  }
  // Required (no fallback) once there are groups.
  const prefix_tokens = groups > 0 ? integerAtLeast(options.prefix_tokens, 1, "prefix_tokens") : 0;
  const skew = options.prefix_zipf ?? 0;
  if (!(Number.isFinite(skew) && skew >= 0)) throw inputError("generate.prefix_zipf", `got ${skew}; expected a skew ≥ 0 (0 = uniform)`);
  const [prompt_min, prompt_max] = bounds(options, "prompt", prefix_tokens + 1);
  const [output_min, output_max] = bounds(options, "output", 1);
  const promptDist = parseLengthDistribution(options.prompt, "generate.prompt");
  const outputDist = parseLengthDistribution(options.output, "generate.output");

  const rng = new RngStreams(options.seed);
  return {
    count,
    prefix_tokens,
    nextArrival: arrivalClock({ process: arrival, rate: options.rate, cv: options.cv }, rng.stream(GENERATOR_STREAMS.arrivals)),
    nextPrompt: lengthSampler(promptDist, rng.stream(GENERATOR_STREAMS.prompt), prompt_min, prompt_max),
    nextOutput: lengthSampler(outputDist, rng.stream(GENERATOR_STREAMS.output), output_min, output_max),
    nextGroup: groups > 0 ? zipfPicker(groups, skew, rng.stream(GENERATOR_STREAMS.prefix)) : undefined,
  };
}

/** Generates the workload's requests in arrival order. Options are checked when this is called,
 *  before the first request is drawn. */
export function generateRequests(options: GenerateOptions): Generator<RequestSpec> {
  const p = plan(options);
  return (function* () {
    for (let i = 0; i < p.count; i++) {
      const request: RequestSpec = {
        id: String(i),
        arrival_s: p.nextArrival(),
        prompt_tokens: p.nextPrompt(),
        output_tokens: p.nextOutput(),
      };
      if (p.nextGroup) {
        const group = p.nextGroup();
        request.segments = [{ key: `sys:${group}`, tokens: p.prefix_tokens }, { tokens: request.prompt_tokens - p.prefix_tokens }];
      }
      yield request;
    }
  })();
}

/** The generated workload as a batched async stream, consumed like a file trace. */
export function generateBatches(options: GenerateOptions, batch_size: number = BATCH_SIZE): AsyncGenerator<RequestSpec[]> {
  return batchesOf(generateRequests(options), batch_size);
}
