import { afterEach, describe, expect, it } from "vitest";
import { CompletionClient, LiveCallError, toCallUsage, type CompletionClientOptions } from "../../live/client/index.ts";
import type { LlmCall } from "../../src/core/types.ts";
import { freePort, sleepMs, sseData, sseHead, startFixture, streamCompletion, type Fixture } from "./fixtures/fake-vllm.ts";

const wall = (): number => performance.now() / 1000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fixture(routes: Parameters<typeof startFixture>[0]): Promise<Fixture> {
  const f = await startFixture(routes);
  cleanups.push(() => f.close());
  return f;
}

function client(url: string, options: Partial<CompletionClientOptions> = {}): CompletionClient {
  const c = new CompletionClient({ now_s: wall, retry: { initial_backoff_s: 0.05, max_backoff_s: 0.1 }, ...options });
  c.addInstance("i0", url);
  cleanups.push(() => c.close(true));
  return c;
}

const call = (over: Partial<LlmCall> = {}): LlmCall => ({
  id: "call-1",
  arrival_s: 0,
  prompt_tokens: 48,
  output_tokens: 4,
  segments: [{ key: "sys", tokens: 32 }, { tokens: 16 }],
  ...over,
});

async function failure(p: Promise<unknown>): Promise<LiveCallError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(LiveCallError);
    return error as LiveCallError;
  }
  throw new Error("expected the call to fail");
}

describe("CompletionClient.complete (real HTTP)", () => {
  it("sends a token-id prompt and times the first token and every chunk; reads usage with cached tokens", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) =>
        streamCompletion(res, {
          texts: ["a", "b", "c", "d"],
          first_ms: 60,
          gap_ms: 40,
          usage: { prompt_tokens: 48, completion_tokens: 4, cached_tokens: 32 },
        }),
    });
    const c = client(f.url);
    const events: string[] = [];
    let first = NaN;
    const result = await c.complete("i0", call(), {
      model: "m",
      priority: 3,
      onFirstToken: (at) => {
        first = at;
        events.push("first");
      },
      onTokens: (_at, n) => events.push(`tokens:${n}`),
    });
    const sent = JSON.parse(f.requests[0]!.body) as Record<string, unknown>;
    expect(sent.model).toBe("m");
    expect(sent.prompt).toHaveLength(48);
    expect((sent.prompt as number[]).every((t) => Number.isInteger(t) && t >= 1000 && t < 30000)).toBe(true);
    expect(sent).toMatchObject({ max_tokens: 4, ignore_eos: true, stream: true, stream_options: { include_usage: true }, priority: 3 });

    expect(events).toEqual(["first", "tokens:1", "tokens:1", "tokens:1"]);
    expect(result.first_token_s).toBe(first);
    expect(result.first_token_s! - result.sent_s).toBeGreaterThanOrEqual(0.05);
    expect(result.chunk_times_s).toHaveLength(4);
    expect(result.chunk_tokens).toEqual([1, 1, 1, 1]);
    for (let i = 1; i < 4; i++) {
      expect(result.chunk_times_s[i]! - result.chunk_times_s[i - 1]!).toBeGreaterThanOrEqual(0.03);
    }
    expect(result.finish_s).toBeGreaterThanOrEqual(result.chunk_times_s[3]!);
    expect(result.usage).toEqual({ prompt_tokens: 48, cached_tokens: 32, output_tokens: 4 });
    expect(result.usage_reported).toBe(true);
    expect(result.cached_tokens_reported).toBe(true);
    expect(result.finish_reason).toBe("length");
    expect(result.attempts).toBe(1);
    expect(toCallUsage(result.usage)).toEqual({ prompt_tokens: 48, cached_tokens: 32, output_tokens: 4, preemptions: 0 });
  });

  it("reads every time from the injected clock", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["x", "y"], first_ms: 50, gap_ms: 50, usage: null }),
    });
    const c = client(f.url, { now_s: () => 1000 + wall() * 10 }); // model time runs 10× wall
    const result = await c.complete("i0", call({ output_tokens: 2 }), { model: "m" });
    expect(result.started_s).toBeGreaterThan(1000);
    expect(result.chunk_times_s[1]! - result.chunk_times_s[0]!).toBeGreaterThanOrEqual(0.4);
    // no usage in the stream: counted tokens and the prompt as sent
    expect(result.usage_reported).toBe(false);
    expect(result.usage).toEqual({ prompt_tokens: 48, cached_tokens: 0, output_tokens: 2 });
  });

  it("streams chat completions; the role-only chunk is not a token", async () => {
    const f = await fixture({
      "POST /v1/chat/completions": ({ res }) => streamCompletion(res, { chat: true, texts: ["Hi", " there"], first_ms: 30, usage: { prompt_tokens: 9, completion_tokens: 2 } }),
    });
    const c = client(f.url);
    const result = await c.stream("i0", {
      path: "/v1/chat/completions",
      body: { model: "m", messages: [{ role: "user", content: "hello" }], max_tokens: 2 },
    });
    const sent = JSON.parse(f.requests[0]!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(result.tokens_streamed).toBe(2);
    expect(result.chunk_tokens).toEqual([1, 1]);
    expect(result.usage).toEqual({ prompt_tokens: 9, cached_tokens: 0, output_tokens: 2 });
    expect(result.cached_tokens_reported).toBe(false);
  });

  it("retries a refused connection with backoff and then succeeds", async () => {
    const port = await freePort();
    const c = client(`http://127.0.0.1:${port}/v1`, { retry: { max_attempts: 8, initial_backoff_s: 0.05, max_backoff_s: 0.1 } });
    let f: Fixture | undefined;
    setTimeout(() => {
      void startFixture({ "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a"], usage: { prompt_tokens: 48, completion_tokens: 1 } }) }, port).then((started) => {
        f = started;
        cleanups.push(() => started.close());
      });
    }, 120);
    const result = await c.complete("i0", call({ output_tokens: 1 }), { model: "m" });
    expect(f).toBeDefined();
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.usage.output_tokens).toBe(1);
  });

  it("gives up after max_attempts with a retryable connect failure", async () => {
    const port = await freePort();
    const c = client(`http://127.0.0.1:${port}`, { retry: { max_attempts: 3, initial_backoff_s: 0.01 } });
    const e = await failure(c.complete("i0", call(), { model: "m" }));
    expect(e.kind).toBe("connect");
    expect(e.retryable).toBe(true);
    expect(e.attempts).toBe(3);
    expect(e.reason).toMatch(/ECONNREFUSED.*after 3 attempts/);
  });

  it("retries a connection reset before the headers, and a 503", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ req, res, count }) => {
        if (count === 1) return void req.socket.destroy();
        if (count === 2) {
          res.writeHead(503, { "content-type": "application/json" });
          return void res.end(JSON.stringify({ object: "error", message: "overloaded" }));
        }
        return streamCompletion(res, { texts: ["a"], usage: { prompt_tokens: 48, completion_tokens: 1 } });
      },
    });
    const c = client(f.url);
    const result = await c.complete("i0", call({ output_tokens: 1 }), { model: "m" });
    expect(result.attempts).toBe(3);
    expect(f.requests).toHaveLength(3);
  });

  it("does not retry a 400; the failure carries the status and the server's message", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "error", message: "priority scheduling is not enabled", type: "BadRequestError", code: 400 }));
      },
    });
    const c = client(f.url);
    const e = await failure(c.complete("i0", call(), { model: "m", priority: 1 }));
    expect(e).toMatchObject({ kind: "http", status: 400, retryable: false, attempts: 1 });
    expect(e.reason).toContain("priority scheduling is not enabled");
    expect(f.requests).toHaveLength(1);
  });

  it("never retries once a token streamed: a mid-stream disconnect fails non-retryable with a reason", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a", "b", "c", "d"], gap_ms: 20, dropAfter: 2 }),
    });
    const c = client(f.url);
    let firsts = 0;
    const e = await failure(c.complete("i0", call(), { model: "m", onFirstToken: () => firsts++ }));
    expect(firsts).toBe(1);
    expect(e.kind).toBe("stream");
    expect(e.retryable).toBe(false);
    expect(e.tokens_streamed).toBe(2);
    expect(e.reason).toMatch(/broke mid-response.*after 2 tokens/);
    expect(f.requests).toHaveLength(1);
  });

  it("a disconnect after the headers but before any token stays retryable", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a"], first_ms: 20, dropAfter: 0 }),
    });
    const c = client(f.url);
    const e = await failure(c.complete("i0", call(), { model: "m" }));
    expect(e).toMatchObject({ kind: "stream", retryable: true, tokens_streamed: 0 });
    expect(f.requests).toHaveLength(1);
  });

  it("fails a stream that ends without [DONE]", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a"], done: false, usage: null }),
    });
    const e = await failure(client(f.url).complete("i0", call(), { model: "m" }));
    expect(e.kind).toBe("stream");
    expect(e.reason).toMatch(/without \[DONE\] after 1 tokens/);
    expect(e.retryable).toBe(false);
  });

  it("a call is complete at [DONE] even if the connection then hangs", async () => {
    const f = await fixture({
      "POST /v1/completions": async ({ res }) => {
        sseHead(res);
        sseData(res, { choices: [{ index: 0, text: "a", finish_reason: "length" }], usage: { prompt_tokens: 48, completion_tokens: 1 } });
        sseData(res, "[DONE]");
        await sleepMs(2000); // never ends the body
      },
    });
    const c = client(f.url, { timeouts: { idle_timeout_s: 0.15 } });
    const result = await c.complete("i0", call({ output_tokens: 1 }), { model: "m" });
    expect(result.usage.output_tokens).toBe(1);
    expect(result.finish_s - result.first_token_s!).toBeLessThan(0.1);
  });

  it("reports an error event inside the stream", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => {
        sseHead(res);
        sseData(res, { error: { message: "engine died", type: "InternalServerError", code: 500 } });
        res.end();
      },
    });
    const e = await failure(client(f.url).complete("i0", call(), { model: "m" }));
    expect(e).toMatchObject({ kind: "server", retryable: true });
    expect(e.reason).toContain("engine died");
  });

  it("times out waiting for headers, and waiting for the next chunk", async () => {
    const f = await fixture({
      "POST /v1/completions": async ({ res, count }) => {
        if (count === 1) return; // never answers
        sseHead(res);
        sseData(res, { choices: [{ index: 0, text: "a", finish_reason: null }] });
        await sleepMs(2000); // then stalls
        res.end();
      },
    });
    const c = client(f.url, { timeouts: { headers_timeout_s: 0.15, idle_timeout_s: 0.15 } });
    const t0 = wall();
    const h = await failure(c.complete("i0", call(), { model: "m" }));
    expect(h).toMatchObject({ kind: "headers_timeout", retryable: true });
    expect(h.reason).toMatch(/no response headers within 0.15 s/);
    const i = await failure(c.complete("i0", call(), { model: "m" }));
    expect(i).toMatchObject({ kind: "idle_timeout", retryable: false, tokens_streamed: 1 });
    expect(i.reason).toMatch(/no data within 0.15 s/);
    expect(wall() - t0).toBeLessThan(1.5);
  });

  it("enforces a total timeout even while chunks keep coming", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: Array.from({ length: 40 }, () => "z"), gap_ms: 20 }),
    });
    const c = client(f.url, { timeouts: { total_timeout_s: 0.2, idle_timeout_s: 1 } });
    const e = await failure(c.complete("i0", call({ output_tokens: 40 }), { model: "m" }));
    expect(e.kind).toBe("total_timeout");
    expect(e.tokens_streamed).toBeGreaterThan(0);
    expect(e.retryable).toBe(false);
  });

  it("cancels on the caller's AbortSignal (not retryable)", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a", "b"], first_ms: 500 }),
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const e = await failure(client(f.url).complete("i0", call(), { model: "m", signal: ac.signal }));
    expect(e).toMatchObject({ kind: "aborted", retryable: false });
  });

  it("bounds concurrency per instance; extra calls wait in the client", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a"], first_ms: 60, usage: { prompt_tokens: 48, completion_tokens: 1 } }),
    });
    const c = client(f.url, { max_in_flight_per_instance: 2 });
    const runs = Array.from({ length: 5 }, (_, k) => c.complete("i0", call({ id: `c${k}`, output_tokens: 1 }), { model: "m" }));
    await sleepMs(20);
    expect(c.load("i0")).toEqual({ in_flight: 2, queued: 3 });
    const results = await Promise.all(runs);
    expect(f.maxActive).toBe(2);
    expect(results.every((r) => r.usage.output_tokens === 1)).toBe(true);
    expect(c.load("i0")).toEqual({ in_flight: 0, queued: 0 });
  });
});

describe("CompletionClient.passThrough", () => {
  it("forwards the body byte for byte while observing first token and usage", async () => {
    const f = await fixture({
      "POST /v1/chat/completions": ({ res }) =>
        streamCompletion(res, { chat: true, texts: ["x", "y", "z"], first_ms: 30, gap_ms: 20, usage: { prompt_tokens: 5, completion_tokens: 3, cached_tokens: 2 } }),
    });
    const c = client(f.url);
    const body = '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}';
    let first = NaN;
    const res = await c.passThrough("i0", { path: "/v1/chat/completions", body, onFirstToken: (at) => (first = at) });
    expect(res.status).toBe(200);
    const parts: Buffer[] = [];
    for await (const chunk of res.body) parts.push(Buffer.from(chunk));
    const text = Buffer.concat(parts).toString("utf8");
    expect(f.requests[0]!.body).toBe(body); // sent unchanged
    expect(text).toContain('"content":"y"');
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const outcome = await res.outcome;
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result.first_token_s).toBe(first);
    expect(outcome.result.tokens_streamed).toBe(3);
    expect(outcome.result.usage).toEqual({ prompt_tokens: 5, cached_tokens: 2, output_tokens: 3 });
    expect(c.load("i0")).toEqual({ in_flight: 0, queued: 0 });
  });

  it("frees the connection slot when the gateway stops reading or cancels", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => streamCompletion(res, { texts: ["a", "b", "c"], gap_ms: 200 }),
    });
    const c = client(f.url);
    const first = await c.passThrough("i0", { path: "/v1/completions", body: { model: "m", prompt: "x", stream: true } });
    for await (const chunk of first.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break; // the gateway's client went away
    }
    const o1 = await first.outcome;
    expect(o1.ok).toBe(false);
    if (!o1.ok) expect(o1.error.kind).toBe("aborted");
    const second = await c.passThrough("i0", { path: "/v1/completions", body: { model: "m", prompt: "x", stream: true } });
    expect(c.load("i0").in_flight).toBe(1);
    second.cancel();
    expect(c.load("i0").in_flight).toBe(0);
    expect((await second.outcome).ok).toBe(false);
  });

  it("hands back an error status with its body; the outcome records it", async () => {
    const f = await fixture({
      "POST /v1/completions": ({ res }) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"object":"error","message":"bad"}');
      },
    });
    const res = await client(f.url).passThrough("i0", { path: "/v1/completions", body: { model: "m", prompt: "x" } });
    expect(res.status).toBe(400);
    let text = "";
    for await (const chunk of res.body) text += Buffer.from(chunk).toString("utf8");
    expect(text).toBe('{"object":"error","message":"bad"}');
    const outcome = await res.outcome;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatchObject({ kind: "http", status: 400, retryable: false });
  });
});
