/** Shared by the emulator tests: a test instance with an exactly known step time, and small HTTP
 *  and SSE helpers over Node's fetch. */
import { performance } from "node:perf_hooks";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "../../src/model/engine-config.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { linearLatency } from "../helpers/cluster.ts";

/** One instance with the linear latency model (5 ms + 0.1 ms per prefill token + 0.2 ms per
 *  decoding sequence per step). */
export function linearInstance(engine: Partial<EngineConfig> = {}, num_gpu_blocks = 512, max_model_len = 4096): ConfiguredInstance {
  const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...engine };
  return {
    spec: { id: "emu", model: "test-model", gpu: "test-gpu", tensor_parallel: 1, max_model_len, kv_capacity_tokens: num_gpu_blocks * config.block_size },
    engine: config,
    num_gpu_blocks,
    latency: linearLatency(),
  };
}

export function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

/** A response's JSON body, untyped (tests read fields they assert on). */
export async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}

export interface SseEvent {
  /** Wall ms (performance.now) the event was read. */
  at_ms: number;
  data: string;
}

/** Reads SSE events from a streaming response until it ends (or until `stopAfter` events, leaving
 *  the connection open). */
export async function readSse(res: Response, stopAfter = Infinity): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const at_ms = performance.now();
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!block.startsWith("data: ")) throw new Error(`not an SSE data line: ${JSON.stringify(block)}`);
      events.push({ at_ms, data: block.slice(6) });
      if (events.length >= stopAfter) {
        reader.releaseLock(); // the stream stays open: the caller decides when to drop it
        return events;
      }
    }
  }
  if (buffer !== "") throw new Error(`stream ended inside an event: ${JSON.stringify(buffer)}`);
  return events;
}

/** Sample values of a Prometheus text exposition, keyed by `name{labels}` as written. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const value = match[3] === "+Inf" ? Infinity : Number(match[3]);
    if (Number.isNaN(value)) throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.set(match[1] + (match[2] ?? ""), value);
  }
  return samples;
}

/** The value of the first sample named `name` (any labels). */
export function metric(samples: Map<string, number>, name: string): number | undefined {
  for (const [key, value] of samples) if (key === name || key.startsWith(`${name}{`)) return value;
  return undefined;
}

export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  return parsePrometheus(await res.text());
}

/** Polls until `check` returns true (or fails after `timeout_ms`). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeout_ms = 5000): Promise<void> {
  const until = performance.now() + timeout_ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
