/** Every row of docs/live.md's vLLM-generation table, against the emulator imitating each
 *  generation (--vllm-version): what the emulator serves, and what the live client does about it. */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../live/emulator/index.ts";
import { LiveClock } from "../../live/host/clock.ts";
import { HttpTransport } from "../../live/host/http-transport.ts";
import { InstanceHandle } from "../../live/instances/index.ts";
import { defaultMaxNumSeqs, traitsOf, parseVllmVersion } from "../../live/instances/vllm-generation.ts";
import { gpuSpec } from "../../src/model/gpus.ts";
import { json, post, readSse, scrape } from "./emulator-helpers.ts";

const started: Emulator[] = [];
afterAll(async () => {
  await Promise.all(started.map((e) => e.close()));
});

async function emulator(vllmVersion: string, scheduling_policy: "fcfs" | "priority" = "fcfs"): Promise<Emulator> {
  const e = await startEmulator({ model: "llama-3-8b", gpu: "h100", speedup: 20, vllmVersion, engine: { scheduling_policy } });
  started.push(e);
  return e;
}

const PROMPT = Array.from({ length: 64 }, (_, i) => 1000 + i);

describe("the emulator imitates each vLLM generation", () => {
  it("V0 (0.6.3): gpu_cache_usage_perc, a prefix hit-rate gauge, no engine label; non-zero priority refused under fcfs; flat error bodies", async () => {
    const e = await emulator("0.6.3");
    expect(await json(fetch(`${e.url}/version`))).toEqual({ version: "0.6.3" });
    const samples = await scrape(e.url);
    const names = [...samples.keys()];
    expect(names).toContain('vllm:gpu_cache_usage_perc{model_name="llama-3-8b"}');
    expect(names.some((n) => n.startsWith("vllm:gpu_prefix_cache_hit_rate"))).toBe(true);
    expect(names.some((n) => n.startsWith("vllm:kv_cache_usage_perc") || n.startsWith("vllm:engine_sleep_state") || n.includes("engine="))).toBe(false);
    const refused = await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, priority: 5 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ object: "error", message: "Got priority 5 but Priority scheduling is not enabled.", type: "BadRequestError", code: 400 });
    const tooLong = await json(post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 200_000 }));
    expect(tooLong.message).toMatch(/However, you requested 200064 tokens \(64 in the messages, 200000 in the completion\)/);
  });

  it("V0 with priority scheduling accepts a priority", async () => {
    const e = await emulator("0.6.3", "priority");
    expect((await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, priority: 5 })).status).toBe(200);
  });

  it("early V1 (0.8.5): block-counted gpu_prefix_cache_* counters; any non-zero priority refused", async () => {
    const e = await emulator("0.8.5", "priority");
    await (await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2 })).text();
    await (await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2 })).text();
    const text = await (await fetch(`${e.url}/metrics`)).text();
    expect(text).toContain("# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queried blocks.");
    const samples = await scrape(e.url);
    expect(samples.get('vllm:gpu_prefix_cache_queries_total{model_name="llama-3-8b",engine="0"}')).toBe(8); // 2 × 64 tokens / 16
    // The client reads them back in tokens.
    const handle = new InstanceHandle({ id: "i", base_url: e.url, now_s: () => 0, model: "llama-3-8b" });
    await handle.probe();
    const m = await handle.scrape();
    expect(m.snapshot.prefix_queried_tokens).toBe(128);
    expect(m.sources.prefix_unit).toBe("blocks");
    await handle.close();
    const refused = await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, priority: 1 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ object: "error", message: "V1 does not support priority yet." });
  });

  it("current V1 (0.11.0): engine_sleep_state, tagged wake-up, sleep modes, token ids, no usage until the final chunk, priority ignored under fcfs", async () => {
    const e = await emulator("0.11.0");
    expect((await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, priority: 7 })).status).toBe(200);
    const events = await readSse(await post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 3, stream: true, stream_options: { include_usage: true }, return_token_ids: true }));
    const chunks: any[] = events.filter((ev) => ev.data !== "[DONE]").map((ev) => JSON.parse(ev.data));
    expect(chunks.slice(0, -1).every((c) => !("usage" in c))).toBe(true);
    expect(chunks.at(-1).usage).toMatchObject({ completion_tokens: 3 });
    expect(chunks[0].choices[0].prompt_token_ids).toEqual(PROMPT);
    expect(chunks.slice(0, 3).map((c) => c.choices[0].token_ids.length)).toEqual([1, 1, 1]);
    // Sleep, then wake the KV cache only: still asleep until the weights are back.
    expect((await post(`${e.url}/sleep?level=1&mode=wait`, "")).status).toBe(200);
    let samples = await scrape(e.url);
    expect(samples.get('vllm:engine_sleep_state{model_name="llama-3-8b",engine="0",sleep_state="weights_offloaded"}')).toBe(1);
    expect((await post(`${e.url}/wake_up?tags=kv_cache`, "")).status).toBe(200);
    expect(await json(fetch(`${e.url}/is_sleeping`))).toEqual({ is_sleeping: true });
    expect((await post(`${e.url}/wake_up?tags=weights`, "")).status).toBe(200);
    expect(await json(fetch(`${e.url}/is_sleeping`))).toEqual({ is_sleeping: false });
    samples = await scrape(e.url);
    expect(samples.get('vllm:engine_sleep_state{model_name="llama-3-8b",engine="0",sleep_state="awake"}')).toBe(1);
    // mode=abort (vLLM's default once /sleep took a mode) ends a request in flight.
    const newer = await emulator("0.12.0");
    const streaming = await post(`${newer.url}/v1/completions`, { prompt: PROMPT, max_tokens: 5000, stream: true });
    const reading = readSse(streaming).then(
      (evs) => evs.some((ev) => ev.data === "[DONE]"),
      () => false,
    );
    expect((await post(`${newer.url}/sleep?level=2`, "")).status).toBe(200);
    expect(await reading).toBe(false);
  });

  it("429 only with maxWaiting (vLLM has no waiting bound)", async () => {
    const e = await startEmulator({ model: "llama-3-8b", gpu: "h100", speedup: 1, engine: { max_waiting: 0, max_num_seqs: 1 } });
    started.push(e);
    const calls = await Promise.all(Array.from({ length: 3 }, () => post(`${e.url}/v1/completions`, { prompt: PROMPT, max_tokens: 1 })));
    expect(calls.map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

describe("the live client follows the generation it probes", () => {
  const h100 = gpuSpec("h100");
  for (const [version, expected] of [
    ["0.6.3", { generation: "v0", sent: true, max_in_flight: 256, return_token_ids: false }],
    ["0.8.5", { generation: "v1-early", sent: false, max_in_flight: 256, return_token_ids: false }],
    ["0.11.0", { generation: "v1", sent: true, max_in_flight: 1024, return_token_ids: true }],
  ] as const) {
    it(`vLLM ${version}: ${expected.generation}, priority ${expected.sent ? "sent" : "not sent"}, ${expected.max_in_flight} in flight`, async () => {
      const e = await emulator(version, "priority");
      const transport = new HttpTransport({
        clock: new LiveClock(1),
        endpoints: [{ instanceId: "i0", url: e.url, served_model: "llama-3-8b", priority_scheduling: true, gpu: h100 }],
      });
      try {
        await transport.checkReachable();
        const [s] = transport.servers();
        expect(s).toMatchObject({
          instance: "i0",
          vllm_version: version,
          generation: expected.generation,
          max_in_flight: expected.max_in_flight,
          return_token_ids: expected.return_token_ids,
        });
        expect(s.priority.sent).toBe(expected.sent);
        // A call with a priority goes through on every generation (early V1: because none is sent).
        const usage = await transport.send(
          "i0",
          { id: "c", arrival_s: 0, prompt_tokens: 32, output_tokens: 4, segments: [{ tokens: 32 }] },
          3,
          { firstToken: () => {}, tokens: () => {} },
          new AbortController().signal,
        );
        expect(usage.output_tokens).toBe(4);
      } finally {
        await transport.close();
      }
    });
  }

  it("the in-flight cap: config max_num_seqs, else vLLM's default by GPU", () => {
    const v1 = traitsOf(parseVllmVersion("0.11.0")!);
    expect(defaultMaxNumSeqs(gpuSpec("h100"), v1)).toBe(1024);
    expect(defaultMaxNumSeqs(gpuSpec("h200"), v1)).toBe(1024);
    expect(defaultMaxNumSeqs(gpuSpec("a100-80gb"), v1)).toBe(256);
    expect(defaultMaxNumSeqs(gpuSpec("l40s"), v1)).toBe(256);
    expect(defaultMaxNumSeqs(gpuSpec("h100"), traitsOf(parseVllmVersion("0.6.3")!))).toBe(256);
  });

  async function fixture(routes: Record<string, (res: ServerResponse) => void>): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      const route = routes[`${req.method} ${(req.url ?? "").split("?")[0]}`];
      if (route) route(res);
      else res.writeHead(404, { "content-type": "application/json" }).end('{"detail":"Not Found"}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
  }

  const serving = {
    "GET /health": (res: ServerResponse) => void res.writeHead(200).end(),
    "GET /v1/models": (res: ServerResponse) => void res.writeHead(200).end(JSON.stringify({ data: [{ id: "m" }] })),
  };

  type Routes = Record<string, (res: ServerResponse) => void>;
  const cases: [string, Routes, RegExp][] = [
    ["a server that is not vLLM", {}, /instance i0 \(http:.*\): not a vLLM server: GET \/version answered HTTP 404; point the endpoint at vLLM's OpenAI server/],
    [
      "an unknown vLLM version",
      { "GET /version": (res) => void res.writeHead(200).end('{"version":"0.5.4"}') },
      /instance i0 .*: unknown vLLM version "0\.5\.4": tandem knows vLLM 0\.6\.0 and newer/,
    ],
    [
      "a server started with --disable-log-stats",
      { "GET /version": (res) => void res.writeHead(200).end('{"version":"0.11.0"}'), "GET /metrics": (res) => void res.writeHead(200).end("python_info 1\n") },
      /instance i0 .*: \/metrics serves no vllm:\* metrics.*restart it without --disable-log-stats/,
    ],
  ];
  for (const [what, routes, message] of cases) {
    it(`refuses ${what} with a one-line error naming the instance`, async () => {
      const f = await fixture({ ...serving, ...routes });
      const transport = new HttpTransport({ clock: new LiveClock(1), endpoints: [{ instanceId: "i0", url: f.url, served_model: "m", priority_scheduling: false }] });
      try {
        const error = await transport.checkReachable().then(
          () => undefined,
          (e: Error) => e,
        );
        expect(error?.name).toBe("InputError");
        expect(error?.message).toMatch(message);
        expect(error?.message).not.toContain("\n");
      } finally {
        await transport.close();
        await f.close();
      }
    });
  }
});
