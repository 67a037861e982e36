/** The gateway under upstream and client faults (issue 14's reliability campaign): each fault ends
 *  in a named outcome counted in /metrics, the client gets an answer (never a hung socket), and
 *  every call is accounted for (arrived = completed + failed + rejected). A fault-injecting proxy
 *  (fixtures/fault-proxy.ts) sits between the gateway and real emulators. */
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../live/emulator/index.ts";
import { startGateway, type Gateway, type GatewayOptions } from "../../live/gateway/index.ts";
import { counterSamples, parsePrometheusText } from "../../live/instances/index.ts";
import { parseClusterConfig } from "../../run/config-file.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "./fixtures/fault-proxy.ts";

const PROMPT = Array.from({ length: 16 }, (_, i) => 1000 + i);
/** No request may take longer than this: past it, it hung. */
const HUNG_MS = 10_000;

interface Rig {
  gw: Gateway;
  emulators: Emulator[];
  proxies: FaultProxy[];
}

let rig: Rig | undefined;

afterEach(async () => {
  if (rig === undefined) return;
  await rig.gw.shutdown();
  await Promise.all(rig.proxies.map((p) => p.close()));
  await Promise.all(rig.emulators.map((e) => e.close()));
  rig = undefined;
});

/** `n` emulators, each behind a fault proxy, behind one gateway (round-robin dispatch). */
async function start(n: number, options: Partial<GatewayOptions> = {}, speedup = 20): Promise<Rig> {
  const emulators: Emulator[] = [];
  const proxies: FaultProxy[] = [];
  for (let i = 0; i < n; i++) {
    const e = await startEmulator({ model: "llama-3-8b", gpu: "h100-80gb", speedup, spinMs: 0 });
    emulators.push(e);
    proxies.push(await startFaultProxy(e.url));
  }
  const yaml = `instances:\n  - { name: llama, model: llama-3-8b, gpu: h100-80gb, count: ${n}, endpoints: [${proxies.map((p) => `"${p.url}"`).join(", ")}] }\n`;
  const gw = await startGateway({
    cluster: parseClusterConfig(yaml, "cluster.yaml"),
    clusterFile: "cluster.yaml",
    dispatch: { name: "round-robin", params: {} },
    port: 0,
    health_probe_s: 0.2,
    ...options,
  });
  rig = { gw, emulators, proxies };
  return rig;
}

function post(gw: Gateway, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gw.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: signal ?? AbortSignal.timeout(HUNG_MS),
  });
}

/** The whole body as text; "" if the connection was cut. */
async function text(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch {
    return "";
  }
}

/** Sum of a counter's samples whose labels include `labels`. */
async function counter(gw: Gateway, name: string, labels: Record<string, string>): Promise<number> {
  const expo = parsePrometheusText(await (await fetch(`${gw.url}/metrics`)).text());
  return counterSamples(expo, name, labels).reduce((sum, s) => sum + s.value, 0);
}

async function settled(gw: Gateway): Promise<void> {
  const deadline = Date.now() + HUNG_MS;
  while (gw.context.exchanges.size > 0) {
    if (Date.now() > deadline) throw new Error(`${gw.context.exchanges.size} requests still open: hung`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setFault(r: Rig, i: number, fault: Fault): void {
  r.proxies[i]!.fault = fault;
}

const lastEvent = (sse: string): string => sse.trim().split("\n\n").at(-1)!.slice(6);

describe("gateway faults: each has a named outcome in /metrics, and nothing hangs", () => {
  it("an instance killed mid-stream: the stream ends with an SSE error (upstream_stream), the instance goes down, new calls go to the other", async () => {
    const r = await start(2, {}, 2);
    const res = await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 200, stream: true });
    const reader = res.body!.getReader();
    let body = new TextDecoder().decode((await reader.read()).value);
    const victim = res.headers.get("x-tandem-instance")!;
    await r.proxies.find((p) => p.url === r.gw.endpoints[victim])!.close(); // the server dies: its connections reset, new ones refused
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) body += new TextDecoder().decode(chunk.value);
    expect(body).not.toContain("[DONE]");
    expect(JSON.parse(lastEvent(body)).error).toMatchObject({ code: "upstream_failed" });
    const after = await Promise.all([0, 1, 2].map(() => post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 })));
    for (const x of after) {
      expect(x.status).toBe(200);
      expect(x.headers.get("x-tandem-instance")).not.toBe(victim);
    }
    await settled(r.gw);
    expect(await counter(r.gw, "tandem_gateway_failures_total", { reason: "upstream_stream" })).toBe(1);
    expect(await counter(r.gw, "tandem_gateway_instance_events_total", { instance: victim, event: "down" })).toBe(1);
    const { report, drained } = await r.gw.shutdown();
    expect(drained).toBe(true);
    expect(report.summary.calls).toMatchObject({ arrived: 4, completed: 3, failed: 1, rejected: 0 });
  });

  it("an instance that stalls (no bytes): the stall timeout moves the call on; a stall mid-stream fails it (upstream_idle_timeout)", async () => {
    const r = await start(2, { upstream_timeout_s: 0.3 });
    setFault(r, 0, { kind: "stall" });
    const res = await Promise.all([0, 1].map(() => post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 })));
    for (const x of res) {
      expect(x.status).toBe(200);
      expect(x.headers.get("x-tandem-instance")).toBe(r.gw.routes.instances[1]!.id);
    }
    expect(await counter(r.gw, "tandem_gateway_redispatches_total", { reason: "upstream_idle_timeout" })).toBeGreaterThanOrEqual(1);
    setFault(r, 0, { kind: "stall_after", chunks: 1 });
    setFault(r, 1, { kind: "stall_after", chunks: 1 });
    const stream = await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 20, stream: true });
    expect(JSON.parse(lastEvent(await text(stream))).error).toMatchObject({ code: "upstream_failed" });
    await settled(r.gw);
    expect(await counter(r.gw, "tandem_gateway_failures_total", { reason: "upstream_idle_timeout" })).toBe(1);
  });

  it("malformed SSE or JSON from upstream: a stream is cut with an SSE error, a JSON answer retried then 502 — counted as upstream_protocol", async () => {
    const r = await start(1);
    setFault(r, 0, { kind: "malformed" });
    const stream = await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4, stream: true });
    expect(stream.status).toBe(200);
    const body = await text(stream);
    expect(body).not.toContain("[DONE]"); // the broken stream's own [DONE] is not passed off as a success
    expect(JSON.parse(lastEvent(body)).error).toMatchObject({ code: "upstream_failed" });
    const plain = await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 });
    expect(plain.status).toBe(502); // held until whole: never half a body
    expect(((await plain.json()) as { error: unknown }).error).toMatchObject({ code: "upstream_failed" });
    // Every try (the first and 3 re-dispatches) was handed back to the controller.
    expect(await counter(r.gw, "tandem_gateway_redispatches_total", { reason: "upstream_protocol" })).toBe(4);
    await settled(r.gw);
    expect(await counter(r.gw, "tandem_gateway_failures_total", { reason: "upstream_protocol" })).toBe(2);
    setFault(r, 0, { kind: "none" });
    expect((await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 })).status).toBe(200);
  });

  it("bursts of upstream 500/503: absorbed by re-dispatch while an instance answers; 502 once every try failed", async () => {
    const r = await start(2);
    setFault(r, 0, { kind: "status", status: 503, count: 5 });
    const burst = await Promise.all(Array.from({ length: 10 }, () => post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 })));
    for (const res of burst) expect(res.status).toBe(200);
    await settled(r.gw);
    expect(await counter(r.gw, "tandem_gateway_redispatches_total", { reason: "upstream_http" })).toBe(5);
    setFault(r, 0, { kind: "status", status: 500, count: 100 });
    setFault(r, 1, { kind: "status", status: 500, count: 100 });
    const failed = await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { error: unknown }).error).toMatchObject({ code: "upstream_failed" });
    await settled(r.gw);
    expect(await counter(r.gw, "tandem_gateway_failures_total", { reason: "upstream_http" })).toBe(1);
  });

  it("a client that disconnects mid-stream: its upstream request is aborted, the call fails client_disconnected", async () => {
    const r = await start(1, {}, 2);
    const abort = new AbortController();
    const res = await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 200, stream: true }, abort.signal);
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await settled(r.gw);
    const deadline = Date.now() + HUNG_MS;
    while (r.proxies[0]!.clientsGone === 0 && Date.now() < deadline) await new Promise((x) => setTimeout(x, 10));
    expect(r.proxies[0]!.clientsGone).toBe(1); // the gateway closed its upstream connection
    expect(await counter(r.gw, "tandem_gateway_failures_total", { reason: "client_disconnected" })).toBe(1);
    expect((await post(r.gw, { model: "llama-3-8b", prompt: PROMPT, max_tokens: 4 })).status).toBe(200);
  });
});
