import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { performance } from "node:perf_hooks";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../live/emulator/index.ts";
import { json, linearInstance, metric, post, readSse, scrape, waitFor } from "./emulator-helpers.ts";

const running: Emulator[] = [];
async function emulator(options: EmulatorOptions): Promise<Emulator> {
  const e = await startEmulator({ speedup: 20, ...options });
  running.push(e);
  return e;
}
afterAll(async () => {
  await Promise.all(running.map((e) => e.close()));
});

const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe("emulator: completions", () => {
  let e: Emulator;
  beforeAll(async () => {
    e = await emulator({ instance: linearInstance() });
  });

  it("non-streaming completion returns exactly max_tokens tokens and OpenAI usage", async () => {
    const res = await post(`${e.url}/v1/completions`, { model: "test-model", prompt: ids(1, 40), max_tokens: 7, ignore_eos: true });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.object).toBe("text_completion");
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.model).toBe("test-model");
    expect(typeof body.created).toBe("number");
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0].text).toBe(" tok".repeat(7));
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.usage).toEqual({ prompt_tokens: 40, completion_tokens: 7, total_tokens: 47, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("streaming completion sends one chunk per token, finish_reason on the last, a usage chunk and [DONE]", async () => {
    const res = await post(`${e.url}/v1/completions`, { prompt: ids(1000, 30), max_tokens: 5, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    expect(events.at(-1)!.data).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((ev) => JSON.parse(ev.data));
    const tokens = chunks.filter((c) => c.choices.length === 1);
    expect(tokens).toHaveLength(5);
    expect(tokens.map((c) => c.choices[0].text).join("")).toBe(" tok".repeat(5));
    expect(tokens.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, null, "length"]);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 30, completion_tokens: 5, total_tokens: 35, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("streaming without include_usage has no usage chunk", async () => {
    const res = await post(`${e.url}/v1/completions`, { prompt: "a short text prompt", max_tokens: 3, stream: true });
    const events = await readSse(res);
    expect(events.map((ev) => ev.data).at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((ev) => JSON.parse(ev.data));
    expect(chunks).toHaveLength(3);
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
  });

  it("without max_tokens the emulator produces the default 16 tokens", async () => {
    const body = await json(post(`${e.url}/v1/completions`, { prompt: "hello there" }));
    expect(body.usage.completion_tokens).toBe(16);
  });

  it("chat completion: a message with the assistant's text, streaming starts with a role delta", async () => {
    const messages = [
      { role: "system", content: "You are terse." },
      { role: "user", content: [{ type: "text", text: "Say something." }] },
    ];
    const plain = await json(post(`${e.url}/v1/chat/completions`, { model: "test-model", messages, max_completion_tokens: 4 }));
    expect(plain.object).toBe("chat.completion");
    expect(plain.id).toMatch(/^chatcmpl-/);
    expect(plain.choices[0].message).toMatchObject({ role: "assistant", content: " tok".repeat(4) });
    expect(plain.choices[0].finish_reason).toBe("length");
    expect(plain.usage.completion_tokens).toBe(4);
    expect(plain.usage.prompt_tokens).toBeGreaterThan(5);

    const res = await post(`${e.url}/v1/chat/completions`, { messages, max_tokens: 3, stream: true, stream_options: { include_usage: true } });
    const events = await readSse(res);
    const chunks = events.slice(0, -1).map((ev) => JSON.parse(ev.data));
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "" });
    const content = chunks.slice(1, -1).map((c) => c.choices[0].delta.content);
    expect(content).toEqual([" tok", " tok", " tok"]);
    expect(chunks.at(-2).choices[0].finish_reason).toBe("length");
    expect(chunks.at(-1).usage.completion_tokens).toBe(3);
    // The same conversation again reuses its cached prefix.
    expect(chunks.at(-1).usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
  });

  it("a repeated token-id prefix is served from the prefix cache the second time", async () => {
    const prompt = ids(5000, 100);
    const first = await json(post(`${e.url}/v1/completions`, { prompt, max_tokens: 2 }));
    expect(first.usage.prompt_tokens_details.cached_tokens).toBe(0);
    const second = await json(post(`${e.url}/v1/completions`, { prompt, max_tokens: 2 }));
    // 6 full 16-token blocks; the 7th is the partial last one, always recomputed.
    expect(second.usage.prompt_tokens_details.cached_tokens).toBe(96);
    // A prompt sharing only the first 40 ids hits the two full blocks inside them.
    const partial = await json(post(`${e.url}/v1/completions`, { prompt: [...prompt.slice(0, 40), ...ids(9000, 60)], max_tokens: 2 }));
    expect(partial.usage.prompt_tokens_details.cached_tokens).toBe(32);
    // A text prompt repeated hits too.
    const text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
    await post(`${e.url}/v1/completions`, { prompt: text, max_tokens: 1 });
    const again = await json(post(`${e.url}/v1/completions`, { prompt: text, max_tokens: 1 }));
    expect(again.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    const samples = await scrape(e.url);
    expect(metric(samples, "vllm:prefix_cache_hits_total")).toBeGreaterThanOrEqual(96 + 32);
  });

  it("GET /v1/models lists the served model with max_model_len; /health is 200", async () => {
    const models = await json(fetch(`${e.url}/v1/models`));
    expect(models.object).toBe("list");
    expect(models.data).toHaveLength(1);
    expect(models.data[0]).toMatchObject({ id: "test-model", object: "model", max_model_len: 4096 });
    expect((await fetch(`${e.url}/health`)).status).toBe(200);
  });

  it("/metrics is Prometheus text with vLLM's names and model_name labels", async () => {
    const res = await fetch(`${e.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const samples = await scrape(e.url); // parses every line or throws
    const sampleNames = new Set([...samples.keys()].map((k) => k.replace(/\{.*$/, "")));
    for (const name of [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:kv_cache_usage_perc",
      "vllm:engine_sleep_state",
      "vllm:prefix_cache_queries_total",
      "vllm:prefix_cache_hits_total",
      "vllm:num_preemptions_total",
      "vllm:prompt_tokens_total",
      "vllm:generation_tokens_total",
      "vllm:request_success_total",
      "vllm:cache_config_info",
      "vllm:time_to_first_token_seconds_bucket",
      "vllm:time_to_first_token_seconds_count",
      "vllm:time_to_first_token_seconds_sum",
      "vllm:e2e_request_latency_seconds_bucket",
      "vllm:e2e_request_latency_seconds_sum",
    ]) {
      expect(sampleNames, name).toContain(name);
    }
    expect(text).toContain("# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.\n# TYPE vllm:prefix_cache_queries_total counter");
    expect(text).toContain("# TYPE vllm:time_to_first_token_seconds histogram");
    expect(text).toMatch(/vllm:cache_config_info\{[^}]*block_size="16"[^}]*num_gpu_blocks="512"[^}]*\} 1\.0/);
    // Every vllm: series but cache_config_info carries model_name (vLLM's cache_config_info has none).
    for (const key of samples.keys()) if (key.startsWith("vllm:") && !key.startsWith("vllm:cache_config_info")) expect(key, key).toContain('model_name="test-model"');
    expect([...samples.keys()].find((k) => k.startsWith("vllm:cache_config_info"))).not.toContain("model_name");
    expect(samples.get('vllm:time_to_first_token_seconds_bucket{model_name="test-model",engine="0",le="+Inf"}')).toBe(
      samples.get('vllm:time_to_first_token_seconds_count{model_name="test-model",engine="0"}'),
    );
    expect(metric(samples, "vllm:request_success_total")).toBeDefined();
    expect(samples.get('vllm:request_success_total{model_name="test-model",engine="0",finished_reason="length"}')).toBeGreaterThan(0);
    expect(metric(samples, "vllm:kv_cache_usage_perc")).toBe(0);
    // tandem's own gauges: tandem_ names (no colon), the speedup the emulator was started with
    expect(metric(samples, "tandem_emulator_speedup")).toBe(20);
    expect(metric(samples, "tandem_emulator_model_time_seconds")).toBeGreaterThan(0);
    expect([...sampleNames].filter((name) => name.startsWith("tandem:"))).toEqual([]);
  });
});

describe("emulator: errors", () => {
  let e: Emulator;
  beforeAll(async () => {
    e = await emulator({ instance: linearInstance({}, 512, 1024), maxBodyBytes: 4096 });
  });

  async function expectError(res: Response, status: number, type: string): Promise<string> {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await json(res);
    expect(body.error).toMatchObject({ type, code: status });
    expect(typeof body.error.message).toBe("string");
    expect(body.error).toHaveProperty("param");
    return body.error.message;
  }

  it("malformed JSON, a missing prompt and a too-long request are 400 JSON errors", async () => {
    expect(await expectError(await post(`${e.url}/v1/completions`, "{not json"), 400, "BadRequestError")).toMatch(/JSON/);
    expect(await expectError(await post(`${e.url}/v1/completions`, { max_tokens: 3 }), 400, "BadRequestError")).toMatch(/prompt/);
    expect(await expectError(await post(`${e.url}/v1/chat/completions`, { messages: [] }), 400, "BadRequestError")).toMatch(/messages/);
    expect(await expectError(await post(`${e.url}/v1/completions`, { prompt: ids(0, 1000), max_tokens: 100 }), 400, "BadRequestError")).toMatch(
      /'max_tokens' or 'max_completion_tokens' is too large: 100\. This model's maximum context length is 1024 tokens and your request has 1000 input tokens/,
    );
    expect(await expectError(await post(`${e.url}/v1/completions`, { prompt: [1, -2] }), 400, "BadRequestError")).toMatch(/prompt/);
    expect(await expectError(await post(`${e.url}/v1/completions`, { prompt: "x", stream_options: { include_usage: true } }), 400, "BadRequestError")).toMatch(/stream=True/);
  });

  it("an unknown model is a 404 JSON error", async () => {
    const message = await expectError(await post(`${e.url}/v1/completions`, { model: "gpt-9", prompt: "hi" }), 404, "NotFoundError");
    expect(message).toContain("gpt-9");
  });

  it("an oversized body is a 413 JSON error", async () => {
    await expectError(await post(`${e.url}/v1/completions`, { prompt: "x".repeat(8000) }), 413, "RequestEntityTooLargeError");
  });

  it("keeps serving after errors", async () => {
    await post(`${e.url}/v1/completions`, "{oops");
    expect((await fetch(`${e.url}/health`)).status).toBe(200);
    const body = await json(post(`${e.url}/v1/completions`, { prompt: "still here", max_tokens: 2 }));
    expect(body.usage.completion_tokens).toBe(2);
    expect((await fetch(`${e.url}/no/such/path`)).status).toBe(404);
  });
});

describe("emulator: engine behaviour over HTTP", () => {
  it("429 when the engine's waiting queue is full", async () => {
    const e = await emulator({ instance: linearInstance({ max_num_seqs: 1 }), maxWaiting: 1, speedup: 1 });
    const abort = new AbortController();
    const a = post(`${e.url}/v1/completions`, { prompt: ids(0, 20), max_tokens: 3000, stream: true }, abort.signal);
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_running") === 1);
    const b = post(`${e.url}/v1/completions`, { prompt: ids(100, 20), max_tokens: 3000, stream: true }, abort.signal);
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_waiting") === 1);
    const c = await post(`${e.url}/v1/completions`, { prompt: ids(200, 20), max_tokens: 5 });
    expect(c.status).toBe(429);
    expect((await json(c)).error).toMatchObject({ type: "TooManyRequestsError", code: 429 });
    abort.abort();
    await Promise.allSettled([a, b]);
  });

  it("a client disconnect mid-stream aborts the request and frees its KV blocks", async () => {
    const e = await emulator({ instance: linearInstance(), speedup: 1 });
    const abort = new AbortController();
    const res = await post(`${e.url}/v1/completions`, { prompt: ids(0, 300), max_tokens: 3000, stream: true }, abort.signal);
    const events = await readSse(res, 3);
    expect(events).toHaveLength(3);
    const during = await scrape(e.url);
    expect(metric(during, "vllm:kv_cache_usage_perc")).toBeGreaterThan(0);
    expect(metric(during, "vllm:num_requests_running")).toBe(1);
    abort.abort();
    await waitFor(async () => {
      const s = await scrape(e.url);
      return metric(s, "vllm:kv_cache_usage_perc") === 0 && metric(s, "vllm:num_requests_running") === 0;
    });
    expect(e.loop.engine.hasWork).toBe(false);
    const after = await scrape(e.url);
    expect(after.get('vllm:request_success_total{model_name="test-model",engine="0",finished_reason="abort"}')).toBe(1);
    // The prompt's blocks stay cached: the same prompt hits them.
    const again = await json(post(`${e.url}/v1/completions`, { prompt: ids(0, 300), max_tokens: 1 }));
    expect(again.usage.prompt_tokens_details.cached_tokens).toBe(288);
  });

  it("a client leaving a non-streaming request also aborts it", async () => {
    const e = await emulator({ instance: linearInstance(), speedup: 1 });
    const abort = new AbortController();
    const pending = post(`${e.url}/v1/completions`, { prompt: ids(0, 50), max_tokens: 3000 }, abort.signal).catch(() => "aborted");
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_running") === 1);
    abort.abort();
    expect(await pending).toBe("aborted");
    await waitFor(() => !e.loop.engine.hasWork && e.loop.engine.blocks.usedBlocks === 0);
    expect(e.loop.openJobs).toBe(0);
  });

  it("under KV pressure requests are preempted and still return exactly max_tokens tokens", async () => {
    // 20 blocks of 16 tokens; each request needs 10 blocks by its end, so four cannot run together.
    const e = await emulator({ instance: linearInstance({}, 20, 320), speedup: 20 });
    const bodies = await Promise.all([0, 1, 2, 3].map((i) => json(post(`${e.url}/v1/completions`, { prompt: ids(i * 100, 60), max_tokens: 100 }))));
    for (const body of bodies) expect(body.usage.completion_tokens).toBe(100);
    const samples = await scrape(e.url);
    expect(metric(samples, "vllm:num_preemptions_total")).toBeGreaterThan(0);
    expect(metric(samples, "vllm:kv_cache_usage_perc")).toBe(0);
  });

  it("priority scheduling serves the lower priority value first", async () => {
    const e = await emulator({ instance: linearInstance({ max_num_seqs: 1, scheduling_policy: "priority" }), speedup: 1 });
    const abort = new AbortController();
    const head = post(`${e.url}/v1/completions`, { prompt: ids(0, 20), max_tokens: 3000, stream: true }, abort.signal).catch(() => undefined);
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_running") === 1);
    const order: string[] = [];
    const low = post(`${e.url}/v1/completions`, { prompt: ids(100, 20), max_tokens: 2, priority: 5 }).then(() => order.push("low"));
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_waiting") === 1);
    const high = post(`${e.url}/v1/completions`, { prompt: ids(200, 20), max_tokens: 2, priority: 1 }).then(() => order.push("high"));
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_waiting") === 2);
    abort.abort(); // frees the one sequence slot: the queue is served by priority
    await Promise.all([low, high, head]);
    expect(order).toEqual(["high", "low"]);
  });
});

describe("emulator: sleep mode", () => {
  it("sleep frees the KV cache and refuses requests with 503; wake_up takes the wake latency", async () => {
    const e = await emulator({ instance: linearInstance(), speedup: 10, wakeLatency_s: 2 });
    await post(`${e.url}/v1/completions`, { prompt: ids(0, 64), max_tokens: 2 });
    expect(await json(fetch(`${e.url}/is_sleeping`))).toEqual({ is_sleeping: false });

    const slept = await fetch(`${e.url}/sleep?level=1`, { method: "POST" });
    expect(slept.status).toBe(200);
    expect(await json(fetch(`${e.url}/is_sleeping`))).toEqual({ is_sleeping: true });
    expect(e.loop.engine.capacity_tokens).toBe(0);
    const refused = await post(`${e.url}/v1/completions`, { prompt: "hello", max_tokens: 2 });
    expect(refused.status).toBe(503);
    expect((await json(refused)).error).toMatchObject({ type: "ServiceUnavailableError", code: 503 });

    const t0 = performance.now();
    const woke = await fetch(`${e.url}/wake_up`, { method: "POST" });
    const took_ms = performance.now() - t0;
    expect(woke.status).toBe(200);
    expect(took_ms).toBeGreaterThanOrEqual(190); // 2 model seconds at 10× = 200 ms
    expect(await json(fetch(`${e.url}/is_sleeping`))).toEqual({ is_sleeping: false });
    expect(e.loop.engine.capacity_tokens).toBe(512 * 16);
    // The KV cache was discarded: the prompt served before sleeping is no longer cached.
    const body = await json(post(`${e.url}/v1/completions`, { prompt: ids(0, 64), max_tokens: 2 }));
    expect(body.usage.prompt_tokens_details.cached_tokens).toBe(0);
  });

  it("sleep waits for in-flight requests to finish, refusing new ones meanwhile", async () => {
    const e = await emulator({ instance: linearInstance(), speedup: 10 });
    const inflight = post(`${e.url}/v1/completions`, { prompt: ids(0, 20), max_tokens: 200 });
    await waitFor(async () => metric(await scrape(e.url), "vllm:num_requests_running") === 1);
    const sleeping = fetch(`${e.url}/sleep`, { method: "POST" });
    await waitFor(() => e.sleep.state === "draining");
    expect((await post(`${e.url}/v1/completions`, { prompt: "late", max_tokens: 1 })).status).toBe(503);
    const done = await json(inflight);
    expect(done.usage.completion_tokens).toBe(200);
    expect((await sleeping).status).toBe(200);
    expect(e.loop.engine.asleep).toBe(true);
  });
});
