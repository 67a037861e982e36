import { describe, expect, it } from "vitest";
import { PrometheusParseError, VllmMetricsError, counterSamples, histogramOf, parsePrometheusText, samplesOf, vllmSnapshot } from "../../live/instances/index.ts";
import { MODEL, OLD_METRICS, TWO_ENGINES, TWO_MODELS, V1_METRICS } from "./fixtures/vllm-metrics-samples.ts";

describe("parsePrometheusText", () => {
  it("reads a vLLM page: families, HELP/TYPE, labels, counters with _total, histograms, NaN, +Inf", () => {
    const expo = parsePrometheusText(V1_METRICS, { strict: true });
    expect(expo.errors).toEqual([]);
    const running = expo.families.get("vllm:num_requests_running")!;
    expect(running.type).toBe("gauge");
    expect(running.help).toBe("Number of requests in model execution batches.");
    expect(running.samples[0]!.labels).toEqual({ engine: "0", model_name: MODEL });
    expect(running.samples[0]!.value).toBe(3);
    expect(expo.families.get("vllm:prefix_cache_hits_total")!.type).toBe("counter");
    expect(samplesOf(expo, "vllm:request_success_total", { finished_reason: "length" })[0]!.value).toBe(32);
    expect(Number.isNaN(samplesOf(expo, "vllm:spec_decode_draft_acceptance_rate")[0]!.value)).toBe(true);

    const ttft = expo.families.get("vllm:time_to_first_token_seconds")!;
    expect(ttft.type).toBe("histogram");
    expect(ttft.samples).toHaveLength(7); // buckets, count and sum joined to their family
    const [h] = histogramOf(expo, "vllm:time_to_first_token_seconds");
    expect(h!.labels).toEqual({ engine: "0", model_name: MODEL });
    expect(h!.buckets.map((b) => b.le)).toEqual([0.001, 0.02, 0.1, 1, Infinity]);
    expect(h!.buckets.at(-1)!.count).toBe(42);
    expect(h!.sum).toBe(2.3125);
    expect(h!.count).toBe(42);
  });

  it("finds counters typed without _total (OpenMetrics style) under either name", () => {
    const expo = parsePrometheusText(OLD_METRICS, { strict: true });
    const family = expo.families.get("vllm:gpu_prefix_cache_hits")!;
    expect(family.type).toBe("counter");
    expect(family.samples.map((s) => s.name)).toEqual(["vllm:gpu_prefix_cache_hits_total"]);
    expect(counterSamples(expo, "vllm:gpu_prefix_cache_hits")[0]!.value).toBe(1024);
    expect(counterSamples(expo, "vllm:gpu_prefix_cache_hits_total")[0]!.value).toBe(1024);
    const bare = parsePrometheusText("# TYPE c counter\nc 5\n");
    expect(counterSamples(bare, "c")[0]!.value).toBe(5);
  });

  it("unescapes label values and HELP text; accepts spacing, trailing commas, timestamps, ±Inf, CRLF", () => {
    const text = [
      "# HELP odd A help with a \\\\ backslash\\nand a newline",
      "# TYPE odd gauge",
      'odd{path="C:\\\\dir\\\\f",quote="say \\"hi\\"",nl="a\\nb",} 1.5e3 1700000000000',
      'odd { a = "x" , b="y" } -Inf',
      "odd{} +Inf\r",
      "untyped_thing 0x1F",
      "",
    ].join("\n");
    const expo = parsePrometheusText(text, { strict: true });
    const family = expo.families.get("odd")!;
    expect(family.help).toBe("A help with a \\ backslash\nand a newline");
    expect(family.samples[0]!.labels).toEqual({ path: "C:\\dir\\f", quote: 'say "hi"', nl: "a\nb" });
    expect(family.samples[0]!.value).toBe(1500);
    expect(family.samples[0]!.timestamp_ms).toBe(1700000000000);
    expect(family.samples[1]!.labels).toEqual({ a: "x", b: "y" });
    expect(family.samples[1]!.value).toBe(-Infinity);
    expect(family.samples[2]!.value).toBe(Infinity);
    expect(expo.families.get("untyped_thing")).toMatchObject({ type: "untyped", samples: [{ value: 31 }] });
  });

  it("reports malformed lines by number (skipped, or thrown when strict)", () => {
    const text = 'good 1\nbad{a="x} 2\nworse 1 2 3\nnovalue{a="b"}\nalso_good 2\n# TYPE t sometype\n';
    const expo = parsePrometheusText(text);
    expect(expo.errors.map((e) => e.line)).toEqual([2, 3, 4, 6]);
    expect(expo.errors[0]!.message).toMatch(/unterminated/);
    expect(samplesOf(expo, "also_good")[0]!.value).toBe(2);
    expect(() => parsePrometheusText(text, { strict: true })).toThrow(PrometheusParseError);
    expect(() => parsePrometheusText(text, { strict: true })).toThrow(/line 2/);
  });
});

describe("vllmSnapshot", () => {
  it("maps current vLLM names, preferring them over the deprecated ones", () => {
    const m = vllmSnapshot(parsePrometheusText(V1_METRICS), { instance: "i0", at_s: 12.5, model: MODEL });
    expect(m.snapshot).toEqual({
      instance: "i0",
      at_s: 12.5,
      running: 3,
      waiting: 5,
      kv_usage: 0.4375,
      prefix_queried_tokens: 20480,
      prefix_hit_tokens: 8192,
      preemptions: 7,
      awake: true,
      kv_capacity_tokens: 27000 * 16,
    });
    expect(m.sources).toEqual({
      kv_usage: "vllm:kv_cache_usage_perc",
      prefix_queries: "vllm:prefix_cache_queries_total",
      prefix_hits: "vllm:prefix_cache_hits_total",
      preemptions: "vllm:num_preemptions_total",
      awake: "vllm:engine_sleep_state",
      prefix_unit: "tokens",
    });
    expect(m).toMatchObject({ block_size: 16, num_gpu_blocks: 27000, engines: 1, model: MODEL });
  });

  it("maps the older names (gpu_cache_usage_perc, gpu_prefix_cache_*), awake from the handle", () => {
    const m = vllmSnapshot(parsePrometheusText(OLD_METRICS), { instance: "old", at_s: 1, awake: false });
    expect(m.snapshot).toEqual({
      instance: "old",
      at_s: 1,
      running: 1,
      waiting: 0,
      kv_usage: 0.125,
      prefix_queried_tokens: 4096,
      prefix_hit_tokens: 1024,
      preemptions: 2,
      awake: false,
      kv_capacity_tokens: 32 * 1000,
    });
    expect(m.model).toBe(MODEL); // the only model_name present
    expect(m.sources.kv_usage).toBe("vllm:gpu_cache_usage_perc");
  });

  it("converts early V1's block-counted prefix counters to tokens (× block_size)", () => {
    const page = [
      "# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queried blocks.",
      "# TYPE vllm:gpu_prefix_cache_queries_total counter",
      'vllm:gpu_prefix_cache_queries_total{model_name="m",engine="0"} 10.0',
      "# HELP vllm:gpu_prefix_cache_hits_total GPU prefix cache hits, in terms of number of cached blocks.",
      "# TYPE vllm:gpu_prefix_cache_hits_total counter",
      'vllm:gpu_prefix_cache_hits_total{model_name="m",engine="0"} 4.0',
      'vllm:num_requests_running{model_name="m",engine="0"} 0',
      'vllm:num_requests_waiting{model_name="m",engine="0"} 0',
      'vllm:gpu_cache_usage_perc{model_name="m",engine="0"} 0',
      'vllm:cache_config_info{block_size="32",num_gpu_blocks="100"} 1',
    ].join("\n");
    const m = vllmSnapshot(parsePrometheusText(page), { instance: "e", at_s: 0 });
    expect(m.snapshot).toMatchObject({ prefix_queried_tokens: 320, prefix_hit_tokens: 128 });
    expect(m.sources.prefix_unit).toBe("blocks");
    // Without a # HELP saying the unit, the generation's unit decides.
    const bare = page
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .join("\n");
    expect(vllmSnapshot(parsePrometheusText(bare), { instance: "e", at_s: 0 }).snapshot.prefix_queried_tokens).toBe(10);
    expect(vllmSnapshot(parsePrometheusText(bare), { instance: "e", at_s: 0, prefix_unit: "blocks" }).snapshot.prefix_queried_tokens).toBe(320);
  });

  it("picks the instance's model among several, and refuses to guess", () => {
    const expo = parsePrometheusText(TWO_MODELS);
    const b = vllmSnapshot(expo, { instance: "x", at_s: 0, model: "b" }).snapshot;
    expect(b).toMatchObject({ running: 4, waiting: 8, kv_usage: 0.75, prefix_queried_tokens: 100, prefix_hit_tokens: 0, preemptions: 0 });
    expect(b.kv_capacity_tokens).toBeUndefined();
    expect(() => vllmSnapshot(expo, { instance: "x", at_s: 0 })).toThrow(/several models \(a, b\)/);
    expect(() => vllmSnapshot(expo, { instance: "x", at_s: 0, model: "c" })).toThrow(VllmMetricsError);
  });

  it("sums data-parallel engines, averages KV usage, and is asleep unless every engine is awake", () => {
    const s = vllmSnapshot(parsePrometheusText(TWO_ENGINES), { instance: "dp", at_s: 0 }).snapshot;
    expect(s).toMatchObject({ running: 5, waiting: 1, prefix_queried_tokens: 150, prefix_hit_tokens: 15, awake: false, kv_capacity_tokens: 3200 });
    expect(s.kv_usage).toBeCloseTo(0.4, 12);
  });

  it("fails with a clear error when the page is not vLLM's", () => {
    const expo = parsePrometheusText("# TYPE up gauge\nup 1\nvllm:num_requests_swapped 0\n");
    expect(() => vllmSnapshot(expo, { instance: "z", at_s: 0 })).toThrow(
      /z: \/metrics lacks vllm:num_requests_running, vllm:num_requests_waiting, vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc/,
    );
    // --disable-log-stats: vLLM serves /metrics with no vllm:* family at all.
    const none = parsePrometheusText("# TYPE python_gc_objects_collected_total counter\npython_gc_objects_collected_total 5.0\n");
    expect(() => vllmSnapshot(none, { instance: "z", at_s: 0 })).toThrow(/z: \/metrics serves no vllm:\* metrics.*restart it without --disable-log-stats/);
    const nan = parsePrometheusText("vllm:num_requests_running NaN\nvllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0\n");
    expect(() => vllmSnapshot(nan, { instance: "z", at_s: 0 })).toThrow(/num_requests_running is NaN/);
  });
});
