import type { InstanceSnapshot } from "../../src/core/types.ts";
import { counterSamples, samplesOf, type PromExposition, type PromSample } from "./prometheus.ts";

/** vLLM metric names, newest first; the first one present is used. */
export const VLLM_METRICS = {
  running: ["vllm:num_requests_running"],
  waiting: ["vllm:num_requests_waiting"],
  /** V1 (≥ 0.9-ish); V0 and early V1 called it gpu_cache_usage_perc. */
  kv_usage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"],
  /** Counters in tokens, read as `name_total` or `name`; gpu_prefix_cache_* are the deprecated names. */
  prefix_queries: ["vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries"],
  prefix_hits: ["vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits"],
  preemptions: ["vllm:num_preemptions"],
  cache_config: "vllm:cache_config_info",
  sleep_state: "vllm:engine_sleep_state",
} as const;

export interface VllmSnapshotOptions {
  instance: string;
  at_s: number;
  /** The instance's served model name (the `model_name` label); omitted → the only one present. */
  model?: string;
  /** Awake state when /metrics has no vllm:engine_sleep_state (the handle's own knowledge). */
  awake?: boolean;
  /** Unit of the prefix-cache counters when their `# HELP` does not say (early V1, before 0.9,
   *  counted blocks; vllm-generation.ts); default tokens. */
  prefix_unit?: "tokens" | "blocks";
}

export interface VllmMetrics {
  snapshot: InstanceSnapshot;
  /** The model_name the samples were selected by (undefined: the metrics carry no model_name). */
  model: string | undefined;
  /** Every model_name value in the scheduler gauges. */
  models: string[];
  /** Series (engines) summed in num_requests_running. */
  engines: number;
  block_size?: number;
  num_gpu_blocks?: number;
  /** Which name each quantity was read from ("" = absent, counted as 0). */
  sources: { kv_usage: string; prefix_queries: string; prefix_hits: string; preemptions: string; awake: string; prefix_unit: "tokens" | "blocks" };
}

/** The `# HELP` of a family, found by its name with or without `_total`. */
function helpOf(expo: PromExposition, name: string): string | undefined {
  return expo.families.get(name)?.help ?? expo.families.get(`${name}_total`)?.help ?? expo.families.get(name.replace(/_total$/, ""))?.help;
}

/** Whether the prefix-cache counter `name` counts blocks: its help text says so (early V1 wrote
 *  "in terms of number of queried blocks"), else the generation's unit. */
function countsBlocks(expo: PromExposition, name: string, fallback: "tokens" | "blocks" | undefined): boolean {
  const help = helpOf(expo, name);
  if (help !== undefined && /\bblocks\b/.test(help)) return true;
  if (help !== undefined && /\btokens\b/.test(help)) return false;
  return fallback === "blocks";
}

/** vLLM's default KV block size, when /metrics does not say (no vllm:cache_config_info). */
const DEFAULT_BLOCK_SIZE = 16;

/** /metrics does not describe this instance the way tandem needs. */
export class VllmMetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VllmMetricsError";
  }
}

/** Maps a vLLM /metrics exposition to the core's InstanceSnapshot:
 *  running/waiting = sums over engines; kv_usage = mean over engines (clamped to 0..1);
 *  prefix queried/hit tokens and preemptions = sums of the counters (0 when absent);
 *  awake = every engine's vllm:engine_sleep_state{sleep_state="awake"} is 1, else `options.awake`;
 *  kv_capacity_tokens = Σ block_size × num_gpu_blocks of vllm:cache_config_info, when it has both.
 *  Series labelled with another model_name are ignored; series without model_name are kept. */
export function vllmSnapshot(expo: PromExposition, options: VllmSnapshotOptions): VllmMetrics {
  if (![...expo.byName.keys()].some((name) => name.startsWith("vllm:"))) {
    throw new VllmMetricsError(`${options.instance}: /metrics serves no vllm:* metrics; a vLLM server started with --disable-log-stats serves none: restart it without --disable-log-stats`);
  }
  const running0 = samplesOf(expo, VLLM_METRICS.running[0]);
  const models = [...new Set(running0.map((s) => s.labels.model_name).filter((m): m is string => m !== undefined))].sort();
  let model = options.model;
  if (model === undefined) {
    if (models.length > 1) {
      throw new VllmMetricsError(`${options.instance}: /metrics reports several models (${models.join(", ")}); name the instance's model`);
    }
    model = models[0];
  } else if (models.length > 0 && !models.includes(model)) {
    throw new VllmMetricsError(`${options.instance}: /metrics reports model_name ${models.join(", ")}, not the instance's model ${model}`);
  }
  const mine = (list: PromSample[]): PromSample[] => (model === undefined ? list : list.filter((s) => s.labels.model_name === undefined || s.labels.model_name === model));

  const gauge = (names: readonly string[]): { name: string; samples: PromSample[] } => {
    for (const name of names) {
      const samples = mine(samplesOf(expo, name));
      if (samples.length > 0) return { name, samples };
    }
    return { name: "", samples: [] };
  };
  const counter = (names: readonly string[]): { name: string; value: number } => {
    for (const name of names) {
      const samples = mine(counterSamples(expo, name));
      if (samples.length > 0) return { name: samples[0]!.name, value: finiteSum(samples, samples[0]!.name, options.instance) };
    }
    return { name: "", value: 0 };
  };

  const running = gauge(VLLM_METRICS.running);
  const waiting = gauge(VLLM_METRICS.waiting);
  const kv = gauge(VLLM_METRICS.kv_usage);
  const missing = [
    running.samples.length === 0 ? VLLM_METRICS.running[0] : "",
    waiting.samples.length === 0 ? VLLM_METRICS.waiting[0] : "",
    kv.samples.length === 0 ? VLLM_METRICS.kv_usage.join(" or ") : "",
  ].filter((m) => m !== "");
  if (missing.length > 0) {
    throw new VllmMetricsError(`${options.instance}: /metrics lacks ${missing.join(", ")}${model !== undefined ? ` for model ${model}` : ""} (not a vLLM server?)`);
  }
  const kvSum = finiteSum(kv.samples, kv.name, options.instance);
  const kv_usage = Math.min(1, Math.max(0, kvSum / kv.samples.length));
  const queries = counter(VLLM_METRICS.prefix_queries);
  const hits = counter(VLLM_METRICS.prefix_hits);
  const preemptions = counter(VLLM_METRICS.preemptions);

  const awakeSeries = mine(samplesOf(expo, VLLM_METRICS.sleep_state, { sleep_state: "awake" }));
  const awake = awakeSeries.length > 0 ? awakeSeries.every((s) => s.value === 1) : (options.awake ?? true);

  let block_size: number | undefined;
  let num_gpu_blocks: number | undefined;
  let capacity = 0;
  let capacityKnown = false;
  for (const s of mine(samplesOf(expo, VLLM_METRICS.cache_config))) {
    const bs = positiveInt(s.labels.block_size);
    const blocks = positiveInt(s.labels.num_gpu_blocks);
    if (bs === undefined || blocks === undefined) continue;
    block_size = bs;
    num_gpu_blocks = (num_gpu_blocks ?? 0) + blocks;
    capacity += bs * blocks;
    capacityKnown = true;
  }

  // Early V1 counted prefix-cache queries and hits in blocks: convert to tokens.
  const blocks = queries.name !== "" && countsBlocks(expo, queries.name, options.prefix_unit);
  const tokensPer = blocks ? (block_size ?? DEFAULT_BLOCK_SIZE) : 1;

  const snapshot: InstanceSnapshot = {
    instance: options.instance,
    at_s: options.at_s,
    running: finiteSum(running.samples, running.name, options.instance),
    waiting: finiteSum(waiting.samples, waiting.name, options.instance),
    kv_usage,
    prefix_queried_tokens: queries.value * tokensPer,
    prefix_hit_tokens: hits.value * tokensPer,
    preemptions: preemptions.value,
    awake,
  };
  if (capacityKnown) snapshot.kv_capacity_tokens = capacity;
  const result: VllmMetrics = {
    snapshot,
    model,
    models,
    engines: running.samples.length,
    sources: {
      kv_usage: kv.name,
      prefix_queries: queries.name,
      prefix_hits: hits.name,
      preemptions: preemptions.name,
      awake: awakeSeries.length > 0 ? VLLM_METRICS.sleep_state : "",
      prefix_unit: blocks ? "blocks" : "tokens",
    },
  };
  if (block_size !== undefined) result.block_size = block_size;
  if (num_gpu_blocks !== undefined) result.num_gpu_blocks = num_gpu_blocks;
  return result;
}

function finiteSum(samples: readonly PromSample[], name: string, instance: string): number {
  let sum = 0;
  for (const s of samples) {
    if (!Number.isFinite(s.value) || s.value < 0) {
      throw new VllmMetricsError(`${instance}: ${name} is ${s.value} (line ${s.line}); expected a finite value ≥ 0`);
    }
    sum += s.value;
  }
  return sum;
}

function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}
