import { describe, expect, it } from "vitest";
import { Recorder } from "../../src/metrics/recorder.ts";
import { call, runScript, SPECS } from "./fixtures.ts";

describe("Recorder on a scripted run", () => {
  const { recorder, rows } = runScript();
  const s = recorder.summary();

  it("counts calls and measures duration from first arrival to last close", () => {
    expect(s.calls).toEqual({ arrived: 5, completed: 3, failed: 1, rejected: 1 });
    expect(s.duration_s).toBe(4);
    expect(recorder.inFlight).toBe(0);
  });

  it("computes TTFT from arrival, over completed calls", () => {
    // A 0.5, B 1.0, C 1.0
    expect(s.ttft_s.count).toBe(3);
    expect(s.ttft_s.mean).toBeCloseTo(2.5 / 3, 12);
    expect(s.ttft_s.p50).toBe(1);
    expect(s.ttft_s.p90).toBe(1);
    expect(s.ttft_s.max).toBe(1);
  });

  it("computes TPOT = (E2E − TTFT)/(output − 1) only for calls with more than one token", () => {
    // A (1.0 − 0.5)/3, C (1.5 − 1.0)/4; B has one token
    expect(s.tpot_s.count).toBe(2);
    expect(s.tpot_s.mean).toBeCloseTo((1 / 6 + 0.125) / 2, 12);
    expect(s.tpot_s.p50).toBeCloseTo((1 / 6 + 0.125) / 2, 12);
    expect(s.tpot_s.max).toBeCloseTo(1 / 6, 12);
  });

  it("computes E2E and queueing (arrival → last dispatch)", () => {
    // E2E: A 1.0, B 1.0, C 1.5
    expect(s.e2e_s.count).toBe(3);
    expect(s.e2e_s.mean).toBeCloseTo(3.5 / 3, 12);
    expect(s.e2e_s.p50).toBe(1);
    expect(s.e2e_s.p90).toBeCloseTo(1.4, 12); // rank 1.8: 1.0 + 0.8 × 0.5
    expect(s.e2e_s.p99).toBeCloseTo(1.49, 12);
    expect(s.e2e_s.max).toBe(1.5);
    // queue: A 0.25, B 0, C 0.5 (its retry's dispatch counts)
    expect(s.queue_s).toMatchObject({ count: 3, mean: 0.25, p50: 0.25, max: 0.5 });
    expect(s.queue_s.p90).toBeCloseTo(0.45, 12);
  });

  it("samples ITL once per chunk", () => {
    // A: 0.25, 0.25; C: 0.5
    expect(s.itl_s.count).toBe(3);
    expect(s.itl_s.mean).toBeCloseTo(1 / 3, 15);
    expect(s.itl_s.max).toBe(0.5);
    expect(Math.abs(s.itl_s.p50 - 0.25)).toBeLessThanOrEqual(0.25 * 0.001);
  });

  it("computes throughput and goodput over the duration", () => {
    expect(s.throughput).toEqual({ requests_per_s: 0.75, input_tokens_per_s: 87.5, output_tokens_per_s: 2.5 });
    // only A meets TTFT ≤ 0.75, TPOT ≤ 0.2, E2E ≤ 2 (B and C wait 1 s for their first token)
    expect(s.goodput_requests_per_s).toBe(0.25);
    expect(s.slo).toEqual({ ttft_s: 0.75, tpot_s: 0.2, e2e_s: 2, attainment: 1 / 3 });
  });

  it("sums the last snapshot of each instance for prefix cache and preemptions", () => {
    expect(s.prefix_cache).toEqual({ queried_tokens: 550, hit_tokens: 164, hit_rate: 164 / 550 });
    expect(s.preemptions).toBe(1);
    expect(s.rejections).toEqual({ "queue full": 1 });
    expect(s.failures).toEqual({ timeout: 1 });
  });

  it("summarises each instance in the order of the specs", () => {
    const [i1, i2] = recorder.instances(SPECS);
    expect(i1).toEqual({
      id: "i1",
      model: "llama-8b",
      gpu: "H100",
      tensor_parallel: 1,
      kv_capacity_tokens: 100_000,
      dispatched: 3,
      completed: 1,
      failed: 1,
      output_tokens: 4,
      mean_ttft_s: 0.5,
      mean_e2e_s: 1,
      peak_kv_usage: 0.5,
      prefix_queried_tokens: 300,
      prefix_hit_tokens: 64,
      prefix_hit_rate: 64 / 300,
      preemptions: 0,
    });
    expect(i2).toMatchObject({
      id: "i2",
      dispatched: 2,
      completed: 2,
      failed: 0,
      output_tokens: 6,
      mean_ttft_s: 1,
      mean_e2e_s: 1.25,
      peak_kv_usage: 0.9,
      prefix_queried_tokens: 250,
      prefix_hit_tokens: 100,
      preemptions: 1,
    });
    expect(recorder.instances([...SPECS].reverse()).map((i) => i.id)).toEqual(["i2", "i1"]);
  });

  it("emits one row per call, as it closes, with its status", () => {
    expect(rows.map((r) => [r.call_id, r.status, r.reason, r.instance])).toEqual([
      ["A", "finished", null, "i1"],
      ["B", "finished", null, "i2"],
      ["D", "rejected", "queue full", null],
      ["C", "finished", null, "i2"],
      ["E", "failed", "timeout", "i1"],
    ]);
    const c = rows.find((r) => r.call_id === "C")!;
    expect(c).toEqual({
      call_id: "C",
      status: "finished",
      reason: null,
      instance: "i2",
      model: "llama-8b",
      tenant: "t1",
      arrival_s: 1,
      dispatched_s: 1.5,
      first_token_s: 2,
      finished_s: 2.5,
      queue_s: 0.5,
      ttft_s: 1,
      tpot_s: 0.125,
      e2e_s: 1.5,
      prompt_tokens: 200,
      cached_tokens: 64,
      output_tokens: 5,
      preemptions: 0,
      agent: null,
    });
    const e = rows.find((r) => r.call_id === "E")!;
    expect(e).toMatchObject({ finished_s: 4, queue_s: 0.25, ttft_s: null, e2e_s: null, output_tokens: null });
  });
});

describe("Recorder invariants", () => {
  const fresh = () => new Recorder({ slo: {} });

  it("throws, naming the call, when a call closes twice", () => {
    const r = fresh();
    r.callArrived(0, call("X", 0, 10, 1));
    r.callRejected(0, "X", "too long");
    expect(() => r.callRejected(1, "X", "too long")).toThrow(/call X/);
    expect(() => r.callFailed(1, "X", "boom")).toThrow(/call X/);
  });

  it("throws on events for unknown calls", () => {
    const r = fresh();
    expect(() => r.callDispatched(0, "ghost", "i1")).toThrow(/call ghost/);
    expect(() => r.callTokens(0, "ghost", 1)).toThrow(/call ghost/);
    expect(() => r.callFinished(0, "ghost", { prompt_tokens: 1, cached_tokens: 0, output_tokens: 1, preemptions: 0 })).toThrow(/call ghost/);
  });

  it("throws on tokens before the first token or going back in time", () => {
    const r = fresh();
    r.callArrived(0, call("Y", 0, 10, 3));
    r.callDispatched(0, "Y", "i1");
    expect(() => r.callTokens(1, "Y", 1)).toThrow(/call Y/);
    r.callFirstToken(1, "Y");
    expect(() => r.callTokens(0.5, "Y", 1)).toThrow(/call Y/);
  });

  it("throws on duplicate arrivals and on instances missing from the specs", () => {
    const r = fresh();
    r.callArrived(0, call("Z", 0, 10, 3));
    expect(() => r.callArrived(0, call("Z", 0, 10, 3))).toThrow(/call Z arrived twice/);
    r.callDispatched(0, "Z", "i9");
    expect(() => r.instances([])).toThrow(/instance i9/);
  });

  it("counts every completed call as good when no SLO is set", () => {
    const r = fresh();
    r.callArrived(0, call("W", 0, 10, 2));
    r.callDispatched(0, "W", "i1");
    r.callFirstToken(10, "W");
    r.callTokens(20, "W", 1);
    r.callFinished(20, "W", { prompt_tokens: 10, cached_tokens: 0, output_tokens: 2, preemptions: 0 });
    const s = r.summary();
    expect(s.goodput_requests_per_s).toBe(s.throughput.requests_per_s);
    expect(s.slo).toEqual({ attainment: 1 });
  });

  it("gives an all-zero summary with no calls", () => {
    const s = fresh().summary();
    expect(s.duration_s).toBe(0);
    expect(s.ttft_s).toEqual({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
    expect(s.itl_s.count).toBe(0);
    expect(s.prefix_cache.hit_rate).toBe(0);
    expect(s.slo.attainment).toBe(0);
  });

  it("refuses a non-positive SLO", () => {
    expect(() => new Recorder({ slo: { ttft_s: 0 } })).toThrow(/ttft_s/);
  });
});
