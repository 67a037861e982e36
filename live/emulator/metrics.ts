import type { Engine } from "../../sim/engine/engine.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { DEFAULT_EMULATED_VERSION, parseVllmVersion, traitsOf, type GenerationTraits } from "../instances/vllm-generation.ts";
import { Exposition, Histogram, type Labels } from "./prometheus.ts";

/** vLLM V1's histogram bounds (vllm/v1/metrics/loggers.py). */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

/** The emulator's `/metrics`: the names and labels of the imitated vLLM generation (V1: `model_name`,
 *  `engine="0"`), every time
 *  in model seconds. Gauges and the prefix-cache and preemption counters come from the engine;
 *  token and request counters and the latency histograms are counted here as requests progress. */
export class EmulatorMetrics {
  private promptTokens = 0;
  private generationTokens = 0;
  private readonly success = new Map<string, number>([
    ["stop", 0],
    ["length", 0],
    ["abort", 0],
  ]);
  private readonly ttft = new Histogram(TTFT_BUCKETS);
  private readonly e2e = new Histogram(E2E_BUCKETS);
  private readonly itl = new Histogram(ITL_BUCKETS);
  private readonly labels: Labels;

  /** Unix seconds the counters were created (their `_created` samples). */
  private readonly created_s = Date.now() / 1000;
  private readonly traits: GenerationTraits;

  constructor(
    modelName: string,
    private readonly instance: ConfiguredInstance,
    /** The vLLM release imitated (`--vllm-version`): metric names follow its generation. */
    private readonly version: string = DEFAULT_EMULATED_VERSION,
  ) {
    this.traits = traitsOf(parseVllmVersion(version) ?? parseVllmVersion(DEFAULT_EMULATED_VERSION)!);
    this.labels = [
      ["model_name", modelName],
      ["engine", "0"],
    ];
  }

  firstToken(promptTokens: number, ttft_s: number): void {
    this.promptTokens += promptTokens;
    this.ttft.observe(ttft_s);
  }

  /** `count` tokens at once, `gap_s` after the request's previous one (first token: no gap). */
  tokens(count: number, gap_s: number | undefined): void {
    this.generationTokens += count;
    if (gap_s === undefined) return;
    for (let i = 0; i < count; i++) this.itl.observe(gap_s / count);
  }

  finished(e2e_s: number): void {
    this.e2e.observe(e2e_s);
    this.success.set("length", this.success.get("length")! + 1);
  }

  aborted(): void {
    this.success.set("abort", this.success.get("abort")! + 1);
  }

  /** `sleep`: the emulator's sleep state (`vllm:engine_sleep_state`, from 0.11). */
  render(engine: Engine, modelTime_s: number, speedup: number, sleep: { awake: boolean; level: 1 | 2 } = { awake: true, level: 1 }): string {
    const traits = this.traits;
    // V0 labels its series by model_name only; V1 adds engine="0".
    const labels: Labels = traits.engine_label ? this.labels : [this.labels[0]];
    const config = this.instance.engine;
    const stats = engine.stats;
    const blockSize = config.block_size;
    const out = new Exposition(this.created_s)
      .gauge("vllm:num_requests_running", "Number of requests in model execution batches.", labels, engine.runningCount)
      .gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", labels, engine.waitingCount);
    if (traits.generation === "v0") out.gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", labels, 0);
    if (traits.sleep_state_metric) {
      out.gauges(
        "vllm:engine_sleep_state",
        "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
        [
          { labels: [...labels, ["sleep_state", "awake"]], value: sleep.awake ? 1 : 0 },
          { labels: [...labels, ["sleep_state", "weights_offloaded"]], value: !sleep.awake && sleep.level === 1 ? 1 : 0 },
          { labels: [...labels, ["sleep_state", "discard_all"]], value: !sleep.awake && sleep.level === 2 ? 1 : 0 },
        ],
      );
    }
    if (traits.kv_usage_metric === "vllm:kv_cache_usage_perc") {
      out.gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", labels, engine.kvUsage);
    } else {
      out.gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", labels, engine.kvUsage);
    }
    const prefix = traits.prefix_counters;
    if (prefix === undefined) {
      const rate = stats.prefix_queried_tokens > 0 ? stats.prefix_hit_tokens / stats.prefix_queried_tokens : 0;
      out.gauge("vllm:gpu_prefix_cache_hit_rate", "GPU prefix cache block hit rate.", labels, rate);
    } else if (prefix.unit === "blocks") {
      // Early V1 counted whole blocks (a hit is always a whole block; a query's partial last block counts).
      out
        .counter(prefix.queries, "GPU prefix cache queries, in terms of number of queried blocks.", labels, Math.ceil(stats.prefix_queried_tokens / blockSize))
        .counter(prefix.hits, "GPU prefix cache hits, in terms of number of cached blocks.", labels, Math.floor(stats.prefix_hit_tokens / blockSize));
    } else {
      out
        .counter(prefix.queries, "Prefix cache queries, in terms of number of queried tokens.", labels, stats.prefix_queried_tokens)
        .counter(prefix.hits, "Prefix cache hits, in terms of number of cached tokens.", labels, stats.prefix_hit_tokens);
    }
    out
      .counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", labels, stats.preemptions)
      .counter("vllm:prompt_tokens", "Number of prefill tokens processed.", labels, this.promptTokens)
      .counter("vllm:generation_tokens", "Number of generation tokens processed.", labels, this.generationTokens)
      .counters(
        "vllm:request_success",
        "Count of successfully processed requests.",
        [...this.success].map(([reason, count]) => ({ labels: [...labels, ["finished_reason", reason]] as Labels, value: count })),
      )
      .histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels, this.ttft)
      .histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", labels, this.itl)
      .histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", labels, this.e2e);
    // CacheConfig.metrics_info(): its fields in declaration order (a subset), then engine (V1);
    // no model_name, as in vLLM.
    const cacheLabels: [string, string][] = [
      ["block_size", String(blockSize)],
      ["gpu_memory_utilization", String(config.gpu_memory_utilization)],
      ["swap_space", "4"],
      ["cache_dtype", "auto"],
      ["enable_prefix_caching", config.enable_prefix_caching ? "True" : "False"],
      ["num_gpu_blocks", String(this.instance.num_gpu_blocks)],
      ["num_cpu_blocks", String(config.cpu_kv_blocks)],
    ];
    if (traits.engine_label) cacheLabels.push(["engine", "0"]);
    out
      .gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", cacheLabels, 1)
      .gauge("tandem_emulator_model_time_seconds", "Model time of this emulator now (wall seconds since start × speedup).", [], modelTime_s)
      .gauge("tandem_emulator_speedup", "Model seconds per wall second.", [], speedup)
      .gauge("tandem_emulator_info", "The vLLM version this emulator imitates (label vllm_version), always 1.", [["vllm_version", this.version]], 1);
    return out.text();
  }
}
