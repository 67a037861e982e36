import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../live/gateway/metrics.ts";
import { counterSamples, histogramOf, parsePrometheusText } from "../../live/instances/index.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";

const GAUGES = { models: [], instances: [], draining: false };

function finished(id: string, model: string, e2e_s: number): CallRow {
  return {
    call_id: id,
    status: "finished",
    reason: null,
    instance: "i0",
    model,
    agent: null,
    tenant: null,
    arrival_s: 0,
    dispatched_s: 0.001,
    first_token_s: e2e_s,
    finished_s: e2e_s,
    queue_s: 0.001,
    ttft_s: e2e_s,
    tpot_s: null,
    e2e_s,
    prompt_tokens: 10,
    cached_tokens: 0,
    output_tokens: 4,
    preemptions: 0,
  };
}

// The hot path counts into plain maps and buckets; a scrape adds them to what /metrics shows.
describe("GatewayMetrics counts between scrapes", () => {
  it("adds each closed call and HTTP answer once, however many scrapes", async () => {
    const m = new GatewayMetrics();
    m.callClosed(finished("a", "m1", 0.002));
    m.callClosed(finished("b", "m1", 0.3));
    m.httpRequest("/v1/completions", 200);
    m.httpRequest("/v1/completions", 200);
    m.httpRequest("/v1/completions", 404);
    const first = parsePrometheusText(await m.render(GAUGES), { strict: true });
    expect(counterSamples(first, "tandem_gateway_requests", { model: "m1", status: "finished" })[0]?.value).toBe(2);
    expect(counterSamples(first, "tandem_gateway_http_requests", { code: "200" })[0]?.value).toBe(2);

    m.callClosed(finished("c", "m2", 7));
    m.callClosed({ ...finished("d", "m1", 1), status: "failed", reason: "upstream_stream: broke", e2e_s: null, output_tokens: null });
    m.httpRequest("/v1/completions", 200);
    const text = await m.render(GAUGES);
    const second = parsePrometheusText(text, { strict: true });
    expect(counterSamples(second, "tandem_gateway_requests", { model: "m1", status: "finished" })[0]?.value).toBe(2);
    expect(counterSamples(second, "tandem_gateway_requests", { model: "m1", status: "failed" })[0]?.value).toBe(1);
    expect(counterSamples(second, "tandem_gateway_requests", { model: "m2", status: "finished" })[0]?.value).toBe(1);
    expect(counterSamples(second, "tandem_gateway_http_requests", { code: "200" })[0]?.value).toBe(3);
    expect(counterSamples(second, "tandem_gateway_http_requests", { code: "404" })[0]?.value).toBe(1);
    expect(counterSamples(second, "tandem_gateway_prompt_tokens", { model: "m1" })[0]?.value).toBe(30);
    expect(counterSamples(second, "tandem_gateway_generation_tokens", { model: "m1" })[0]?.value).toBe(8);

    const e2e = histogramOf(second, "tandem_gateway_e2e_request_latency_seconds");
    const m1 = e2e.find((h) => h.labels.model === "m1")!;
    expect(m1.count).toBe(2);
    expect(m1.sum).toBeCloseTo(0.302, 9);
    // Cumulative buckets: 0.002 ≤ 0.0025, 0.3 ≤ 0.5.
    expect(m1.buckets.find((b) => b.le === 0.0025)?.count).toBe(1);
    expect(m1.buckets.find((b) => b.le === 0.25)?.count).toBe(1);
    expect(m1.buckets.find((b) => b.le === 0.5)?.count).toBe(2);
    expect(e2e.find((h) => h.labels.model === "m2")?.count).toBe(1);
    // One family header per histogram, whatever the number of models.
    expect(text.match(/^# TYPE tandem_gateway_e2e_request_latency_seconds histogram$/gm)).toHaveLength(1);
  });
});
