import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseClusterConfig } from "../../run/config-file.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { startGateway, type Gateway, type GatewayOptions } from "../../live/gateway/index.ts";
import { counterSamples, histogramOf, parsePrometheusText } from "../../live/instances/index.ts";

const TWO_MODELS = `
instances:
  - { name: llama, model: llama-3-8b, gpu: h100-80gb, count: 2, served_model_name: llama, engine: { max_model_len: 2048 } }
  - { name: qwen, model: qwen2.5-7b, gpu: h100-80gb, count: 1, engine: { max_model_len: 2048 } }
`;

interface Started {
  gw: Gateway;
  rows: CallRow[];
  out: string;
}

async function start(yaml: string, options: Partial<GatewayOptions> = {}): Promise<Started> {
  const rows: CallRow[] = [];
  const out = mkdtempSync(join(tmpdir(), "tandem-gateway-"));
  const gw = await startGateway({
    cluster: parseClusterConfig(yaml, "cluster.yaml"),
    clusterFile: "cluster.yaml",
    emulate: true,
    speedup: 20,
    port: 0,
    out,
    onCallClosed: (row) => rows.push(row),
    ...options,
  });
  return { gw, rows, out };
}

function post(gw: Gateway, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(gw.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(signal !== undefined ? { signal } : {}),
  });
}

/** A response's JSON body, untyped (tests read the fields they assert on). */
async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}

/** The `data:` payloads of an SSE body. */
function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice(6));
}

async function until(test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + i);

describe("tandem gateway: routing, streaming, errors, metrics, identity", () => {
  let s: Started;
  beforeAll(async () => {
    s = await start(TWO_MODELS, { max_body_bytes: 64 * 1024 });
  });
  afterAll(async () => {
    await s?.gw.shutdown();
  });

  it("routes by model (served names and aliases) across two models, non-streaming JSON included", async () => {
    const cases = [
      { model: "llama", instances: ["llama-0", "llama-1"], served: "llama" },
      { model: "meta-llama/Meta-Llama-3-8B-Instruct", instances: ["llama-0", "llama-1"], served: "llama" },
      { model: "qwen2.5-7b", instances: ["qwen"], served: "qwen2.5-7b" },
    ];
    for (const c of cases) {
      const res = await post(s.gw, "/v1/completions", { model: c.model, prompt: PROMPT, max_tokens: 4 });
      expect(res.status).toBe(200);
      expect(c.instances).toContain(res.headers.get("x-tandem-instance"));
      const body = await json(res);
      expect(body.model).toBe(c.served);
      expect(body.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 4 });
      const row = s.rows.find((r) => r.call_id === res.headers.get("x-tandem-call-id"))!;
      expect(row).toMatchObject({ status: "finished", output_tokens: 4, prompt_tokens: 16, instance: res.headers.get("x-tandem-instance") });
    }
    const models = await json(fetch(`${s.gw.url}/v1/models`));
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(["llama", "qwen2.5-7b"]);
  });

  it("streams through: every token, usage only when the client asked for it, usage recorded either way", async () => {
    for (const includeUsage of [true, false]) {
      const body = {
        model: "qwen2.5-7b",
        messages: [{ role: "user", content: "count to ten" }],
        max_tokens: 6,
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      };
      const res = await post(s.gw, "/v1/chat/completions", body);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const data = sseData(await res.text());
      expect(data.at(-1)).toBe("[DONE]");
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      const content = chunks.flatMap((c) => c.choices).filter((c) => c.delta?.content);
      expect(content).toHaveLength(6);
      const usage = chunks.filter((c) => c.choices.length === 0 && c.usage);
      expect(usage).toHaveLength(includeUsage ? 1 : 0);
      if (includeUsage) expect(usage[0].usage.completion_tokens).toBe(6);
      const row = s.rows.find((r) => r.call_id === res.headers.get("x-tandem-call-id"))!;
      expect(row.status).toBe("finished");
      expect(row.output_tokens).toBe(6);
      expect(row.ttft_s).toBeGreaterThan(0);
      expect(row.ttft_s!).toBeLessThanOrEqual(row.e2e_s!);
    }
  });

  it("answers bad requests with OpenAI-style 4xx errors and keeps serving", async () => {
    const expectError = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      const body = await json(res);
      expect(body.error).toMatchObject({ code, type: expect.any(String), message: expect.any(String) });
      expect(body.error).toHaveProperty("param");
      const ok = await post(s.gw, "/v1/completions", { model: "llama", prompt: PROMPT, max_tokens: 1 });
      expect(ok.status).toBe(200);
      await ok.text();
    };
    await expectError(await post(s.gw, "/v1/completions", '{"model": "llama", "prompt": [1,'), 400, "invalid_json");
    await expectError(await post(s.gw, "/v1/completions", { model: "gpt-nonexistent", prompt: "hi" }), 404, "model_not_found");
    await expectError(await post(s.gw, "/v1/completions", { model: "llama", prompt: Array(3000).fill(1000), max_tokens: 4 }), 400, "context_length_exceeded");
    await expectError(await post(s.gw, "/v1/chat/completions", { model: "llama", messages: [{ role: "user", content: "x".repeat(20_000) }] }), 400, "context_length_exceeded");
    await expectError(await post(s.gw, "/v1/completions", { model: "llama", prompt: Array(40_000).fill(1000) }), 413, "request_too_large");
    await expectError(await post(s.gw, "/v1/completions", { model: "llama", prompt: PROMPT, max_tokens: 0 }), 400, "invalid_request");
    await expectError(await post(s.gw, "/v1/chat/completions", { model: "llama", messages: [] }), 400, "invalid_request");
    await expectError(await post(s.gw, "/v1/completions", { model: "llama", prompt: PROMPT }, { "x-tandem-priority-class": "urgent" }), 400, "invalid_request");
    await expectError(await fetch(`${s.gw.url}/v1/nothing`), 404, "not_found");
    await expectError(await fetch(`${s.gw.url}/v1/completions`), 405, "method_not_allowed");
    // Too long for the model: the call entered the controller and was rejected there (reported).
    expect(s.rows.filter((r) => r.reason === "exceeds_max_model_len")).toHaveLength(2);
  });

  it("exposes Prometheus metrics that count requests, latencies and dispatch decisions", async () => {
    const text = await (await fetch(`${s.gw.url}/metrics`)).text();
    const expo = parsePrometheusText(text, { strict: true });
    const finished = counterSamples(expo, "tandem_gateway_requests", { status: "finished" }).reduce((n, x) => n + x.value, 0);
    expect(finished).toBe(s.rows.filter((r) => r.status === "finished").length);
    expect(counterSamples(expo, "tandem_gateway_requests", { status: "rejected", model: "llama-3-8b" })[0]?.value).toBe(2);
    const e2e = histogramOf(expo, "tandem_gateway_e2e_request_latency_seconds");
    expect(e2e.reduce((n, h) => n + h.count, 0)).toBe(finished);
    const dispatches = counterSamples(expo, "tandem_gateway_dispatches", { policy: "least-outstanding" });
    expect(dispatches.reduce((n, x) => n + x.value, 0)).toBe(finished);
    expect(counterSamples(expo, "tandem_gateway_http_requests", { route: "/v1/completions", code: "413" })[0]?.value).toBe(1);
    expect(counterSamples(expo, "tandem_gateway_http_requests", { route: "/v1/completions", code: "404" })[0]?.value).toBe(1);
    expect(
      expo.byName
        .get("tandem_gateway_queue_length")
        ?.map((x) => x.labels.model)
        .sort(),
    ).toEqual(["llama-3-8b", "qwen2.5-7b"]);
  });

  it("serves health, per-model health, traffic statistics and sleep/wake through the controller", async () => {
    const health = await fetch(`${s.gw.url}/health`);
    expect(health.status).toBe(200);
    expect((await json(health)).status).toBe("ok");
    const perModel = await fetch(`${s.gw.url}/health/qwen2.5-7b`);
    expect(perModel.status).toBe(200);
    expect((await json(perModel)).instances).toEqual([{ id: "qwen", up: true, state: "awake" }]);
    expect((await fetch(`${s.gw.url}/health/nope`)).status).toBe(404);

    const traffic = await json(fetch(`${s.gw.url}/v1/traffic?model=qwen2.5-7b`));
    expect(traffic.data).toHaveLength(1);
    expect(traffic.data[0]).toMatchObject({ model: "qwen2.5-7b", requests: 3, completed: 3 });

    const slept = await post(s.gw, "/sleep?model=qwen2.5-7b", "");
    expect(await json(slept)).toEqual({ model: "qwen2.5-7b", is_sleeping: true });
    expect(await json(fetch(`${s.gw.url}/is_sleeping?model=qwen2.5-7b`))).toEqual({ model: "qwen2.5-7b", is_sleeping: true });
    expect(s.gw.emulators.find((e) => e.instance.spec.id === "qwen")!.sleep.isSleeping).toBe(true);
    // A request for a sleeping model wakes it (wake on request) and is served.
    const res = await post(s.gw, "/v1/completions", { model: "qwen2.5-7b", prompt: "wake up", max_tokens: 2 });
    expect(res.status).toBe(200);
    await res.text();
    expect(await json(fetch(`${s.gw.url}/is_sleeping?model=qwen2.5-7b`))).toEqual({ model: "qwen2.5-7b", is_sleeping: false });
    await post(s.gw, "/sleep?model=qwen2.5-7b", "");
    const woke = await post(s.gw, "/wake_up?model=qwen2.5-7b", "");
    expect(await json(woke)).toEqual({ model: "qwen2.5-7b", is_sleeping: false });
    const after = await json(fetch(`${s.gw.url}/v1/traffic?model=qwen2.5-7b`));
    expect(after.data[0]).toMatchObject({ sleeps: 2, wakes: 2 });
  });

  it("aborts the upstream call when the client disconnects", async () => {
    const abort = new AbortController();
    const res = await post(s.gw, "/v1/completions", { model: "llama", prompt: PROMPT, max_tokens: 1500, stream: true }, {}, abort.signal);
    const id = res.headers.get("x-tandem-call-id")!;
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await until(() => s.rows.some((r) => r.call_id === id));
    expect(s.rows.find((r) => r.call_id === id)).toMatchObject({ status: "failed", reason: "client_disconnected" });
    const emulator = s.gw.emulators.find((e) => e.instance.spec.id === s.rows.find((r) => r.call_id === id)!.instance)!;
    await until(() => emulator.loop.engine.runningCount === 0 && emulator.loop.engine.waitingCount === 0);

    // A non-streamed request has no response headers yet: its connection to the instance is closed.
    const before = s.rows.length;
    const plain = new AbortController();
    const pending = post(s.gw, "/v1/completions", { model: "qwen2.5-7b", prompt: PROMPT, max_tokens: 1500 }, {}, plain.signal).catch(() => undefined);
    const qwen = s.gw.emulators.find((e) => e.instance.spec.id === "qwen")!;
    await until(() => qwen.loop.engine.runningCount === 1);
    plain.abort();
    await pending;
    await until(() => s.rows.length === before + 1);
    expect(s.rows.at(-1)).toMatchObject({ status: "failed", reason: "client_disconnected", instance: "qwen" });
    await until(() => qwen.loop.engine.runningCount === 0, 2000);
  });

  it("carries identity from headers and metadata; a request without them is a one-call workflow; shutdown drains and writes the report", async () => {
    const wf = { "x-tandem-workflow": "trip-42", "x-tandem-tenant": "acme", "x-tandem-priority-class": "high", "x-tandem-app": "planner-app" };
    const a = await post(
      s.gw,
      "/v1/chat/completions",
      {
        model: "llama",
        messages: [
          { role: "system", content: "You plan." },
          { role: "user", content: "Plan" },
        ],
        max_tokens: 3,
      },
      { ...wf, "x-tandem-agent": "planner", "x-tandem-step": "plan" },
    );
    expect(a.status).toBe(200);
    await a.text();
    const b = await post(
      s.gw,
      "/v1/completions",
      { model: "llama", prompt: PROMPT, max_tokens: 3, metadata: { agent: "booker", step: "book", parent: "plan", user_note: "kept" } },
      { ...wf, "x-tandem-workflow-end": "true" },
    );
    expect(b.status).toBe(200);
    await b.text();
    const ids = [a, b].map((r) => r.headers.get("x-tandem-call-id"));
    for (const id of ids) expect(s.rows.find((r) => r.call_id === id)).toMatchObject({ tenant: "acme", status: "finished" });

    // In flight at shutdown: drained to completion, not cut.
    const inflight = [0, 1, 2].map(() => post(s.gw, "/v1/completions", { model: "llama", prompt: PROMPT, max_tokens: 150, stream: true }).then((r) => r.text()));
    await until(() => s.gw.context.exchanges.size === 3);
    const shutdown = s.gw.shutdown();
    const late = await post(s.gw, "/v1/completions", { model: "llama", prompt: PROMPT, max_tokens: 1 }).then(
      (r) => r.status,
      () => "refused",
    );
    expect([503, "refused"]).toContain(late);
    for (const text of await Promise.all(inflight)) expect(sseData(text).at(-1)).toBe("[DONE]");
    const { report, files, drained } = await shutdown;
    expect(drained).toBe(true);
    expect(files.map((f) => f.slice(s.out.length + 1))).toEqual(["report.json", "calls.csv", "workflows.csv"]);
    for (const f of files) expect(existsSync(f)).toBe(true);

    expect(report.mode).toBe("live");
    const c = report.summary.calls;
    expect(c.arrived).toBe(s.rows.length);
    expect(c.arrived).toBe(c.completed + c.failed + c.rejected);
    expect(report.agents.map((x) => x.agent).sort()).toEqual(["booker", "planner"]);
    const workflows = readFileSync(join(s.out, "workflows.csv"), "utf8").trim().split("\n");
    const trip = workflows.find((line) => line.startsWith("trip-42,"))!;
    expect(trip).toMatch(/^trip-42,planner-app,acme,high,completed,/);
    // Every other workflow is a one-call workflow named after its call.
    expect(workflows.length - 1).toBe(report.summary.workflows.arrived);
    expect(report.summary.workflows.arrived).toBe(c.arrived - 1);
    const calls = readFileSync(join(s.out, "calls.csv"), "utf8").trim().split("\n");
    expect(calls).toHaveLength(c.arrived + 1);
    expect(calls.filter((line) => line.includes(",acme,"))).toHaveLength(2);
  });
});

describe("tandem gateway: overload", () => {
  it("bounds its queue: beyond --max-queue, 429 with Retry-After; the rest are served and all are reported", async () => {
    const s = await start("instances:\n  - { model: llama-3-8b, gpu: h100-80gb, engine: { max_model_len: 2048 } }\n", {
      max_queue: 2,
      max_in_flight_per_instance: 1,
    });
    try {
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => post(s.gw, "/v1/completions", { model: "llama-3-8b", prompt: PROMPT, max_tokens: 300 }).then(async (r) => ({ r, body: await json(r) }))),
      );
      const refused = responses.filter(({ r }) => r.status === 429);
      const served = responses.filter(({ r }) => r.status === 200);
      expect(refused.length).toBe(5);
      expect(served.length).toBe(3);
      for (const { r, body } of refused) {
        expect(r.headers.get("retry-after")).toBe("1");
        expect(body.error).toMatchObject({ code: "queue_full", type: "rate_limit_error" });
      }
      const { report } = await s.gw.shutdown();
      expect(report.summary.calls).toMatchObject({ arrived: 8, completed: 3, rejected: 5, failed: 0 });
      expect(report.summary.rejections).toEqual({ gateway_queue_full: 5 });
    } finally {
      await s.gw.shutdown();
    }
  });
});

describe("tandem gateway: an instance dies mid-run", () => {
  it("re-dispatches calls not yet answered, fails mid-stream ones with an SSE error, loses none", async () => {
    const s = await start("instances:\n  - { name: llama, model: llama-3-8b, gpu: h100-80gb, count: 2, engine: { max_model_len: 2048 } }\n", {
      speedup: 2,
      dispatch: "round-robin",
    });
    try {
      const long = { model: "llama-3-8b", prompt: PROMPT, max_tokens: 200 };
      // Two streams, one per instance (round-robin), each under way before the next is sent.
      const streams: { res: Response; reader: ReadableStreamDefaultReader<Uint8Array>; first: string }[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await post(s.gw, "/v1/completions", { ...long, stream: true });
        const reader = res.body!.getReader();
        const first = new TextDecoder().decode((await reader.read()).value);
        streams.push({ res, reader, first });
      }
      const victim = streams[0].res.headers.get("x-tandem-instance")!;
      const survivor = streams[1].res.headers.get("x-tandem-instance")!;
      expect(victim).not.toBe(survivor);
      // Two non-streamed calls, one per instance: the victim's is running there when it dies.
      const plain = [post(s.gw, "/v1/completions", long), new Promise((r) => setTimeout(r, 20)).then(() => post(s.gw, "/v1/completions", long))];
      await until(() => s.gw.context.exchanges.size === 4);
      await new Promise((r) => setTimeout(r, 50));
      await s.gw.emulators.find((e) => e.instance.spec.id === victim)!.close();

      const rest = async (st: (typeof streams)[number]) => {
        let text = st.first;
        for (;;) {
          const { value, done } = await st.reader.read();
          if (done) return text;
          text += new TextDecoder().decode(value);
        }
      };
      const cut = sseData(await rest(streams[0]));
      expect(cut).not.toContain("[DONE]");
      expect(JSON.parse(cut.at(-1)!).error).toMatchObject({ code: "upstream_failed", type: "upstream_error" });
      expect(sseData(await rest(streams[1])).at(-1)).toBe("[DONE]");
      for (const res of await Promise.all(plain)) {
        expect(res.status).toBe(200);
        expect(res.headers.get("x-tandem-instance")).toBe(survivor);
        expect((await json(res)).usage.completion_tokens).toBe(200);
      }
      const health = await json(fetch(`${s.gw.url}/health/llama-3-8b`));
      expect(health.instances.find((i: { id: string }) => i.id === victim)).toMatchObject({ up: false, state: "stopped" });

      const { report } = await s.gw.shutdown();
      const c = report.summary.calls;
      expect(c).toMatchObject({ arrived: 4, completed: 3, failed: 1, rejected: 0 });
      expect(Object.keys(report.summary.failures)[0]).toMatch(/^upstream_stream: /);
      const victimRow = s.rows.find((r) => r.status === "failed")!;
      expect(victimRow.instance).toBe(victim);
      const redispatched = s.rows.filter((r) => r.status === "finished" && r.instance === survivor);
      expect(redispatched).toHaveLength(3);
    } finally {
      await s.gw.shutdown();
    }
  });
});
