import type { Engine } from "../../sim/engine/engine.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { Exposition, Histogram, type Labels } from "./prometheus.ts";

/** vLLM V1's histogram bounds (vllm/v1/metrics/loggers.py). */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

/** The emulator's `/metrics`: vLLM V1 names and labels (`model_name`, `engine="0"`), every time
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

  constructor(
    modelName: string,
    private readonly instance: ConfiguredInstance,
  ) {
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

  render(engine: Engine, modelTime_s: number, speedup: number): string {
    const labels = this.labels;
    const config = this.instance.engine;
    const stats = engine.stats;
    const out = new Exposition()
      .gauge("vllm:num_requests_running", "Number of requests in model execution batches.", labels, engine.runningCount)
      .gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", labels, engine.waitingCount)
      .gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", labels, engine.kvUsage)
      .gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage (old name of vllm:kv_cache_usage_perc).", labels, engine.kvUsage)
      .counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", labels, stats.prefix_queried_tokens)
      .counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", labels, stats.prefix_hit_tokens)
      .counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", labels, stats.preemptions)
      .counter("vllm:prompt_tokens", "Number of prefill tokens processed.", labels, this.promptTokens)
      .counter("vllm:generation_tokens", "Number of generation tokens processed.", labels, this.generationTokens);
    out.family("vllm:request_success", "counter", "Count of successfully processed requests.");
    for (const [reason, count] of this.success) out.sample("vllm:request_success_total", [...labels, ["finished_reason", reason]], count);
    out
      .histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels, this.ttft)
      .histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", labels, this.itl)
      .histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", labels, this.e2e)
      .gauge(
        "vllm:cache_config_info",
        "Information of the LLMEngine CacheConfig",
        [
          ...labels,
          ["block_size", String(config.block_size)],
          ["cache_dtype", "auto"],
          ["enable_prefix_caching", config.enable_prefix_caching ? "True" : "False"],
          ["gpu_memory_utilization", String(config.gpu_memory_utilization)],
          ["num_cpu_blocks", String(config.cpu_kv_blocks)],
          ["num_gpu_blocks", String(this.instance.num_gpu_blocks)],
        ],
        1,
      )
      .gauge("tandem_emulator_model_time_seconds", "Model time of this emulator now (wall seconds since start × speedup).", labels, modelTime_s)
      .gauge("tandem_emulator_speedup", "Model seconds per wall second.", labels, speedup);
    return out.text();
  }
}
