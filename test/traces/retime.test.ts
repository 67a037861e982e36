import { describe, expect, it } from "vitest";
import type { RequestSpec } from "../../src/core/types.ts";
import { InputError } from "../../src/core/errors.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { batchesOf } from "../../traces/batches.ts";
import { retime } from "../../traces/retime.ts";
import { collect } from "./helpers.ts";

const N = 20_000;

function trace(count: number): RequestSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: String(i),
    arrival_s: i * 0.25,
    prompt_tokens: 100 + i,
    output_tokens: 10,
    segments: [{ key: "k", tokens: 50 }, { tokens: 50 + i }],
  }));
}

function gapStats(requests: RequestSpec[]): { mean: number; cv: number } {
  const gaps = requests.slice(1).map((r, i) => r.arrival_s - requests[i].arrival_s);
  const mean = gaps.reduce((a, g) => a + g, 0) / gaps.length;
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1);
  return { mean, cv: Math.sqrt(variance) / mean };
}

const arrivals = (seed = 7) => new RngStreams(seed).stream("arrivals");

describe("retime", () => {
  it("scales trace arrival times and keeps everything else", async () => {
    const source = trace(5);
    const out = await collect(retime(batchesOf(source, 2), { arrival: "trace", time_scale: 0.5 }));
    expect(out.map((r) => r.arrival_s)).toEqual([0, 0.125, 0.25, 0.375, 0.5]);
    expect(out.map(({ arrival_s, ...rest }) => rest)).toEqual(source.map(({ arrival_s, ...rest }) => rest));
    expect(source[1].arrival_s).toBe(0.25); // the input is not modified
  });

  it("gives a Poisson process the requested mean rate and cv ≈ 1, starting at 0", async () => {
    const out = await collect(retime(batchesOf(trace(N)), { arrival: "poisson", rate: 40, random: arrivals() }));
    expect(out[0].arrival_s).toBe(0);
    const { mean, cv } = gapStats(out);
    expect(1 / mean).toBeGreaterThan(40 * 0.97);
    expect(1 / mean).toBeLessThan(40 * 1.03);
    expect(cv).toBeGreaterThan(0.95);
    expect(cv).toBeLessThan(1.05);
    expect(out.map((r) => r.prompt_tokens)).toEqual(trace(N).map((r) => r.prompt_tokens));
  });

  it.each([0.5, 1, 2, 3])("gives gamma arrivals the requested rate and cv %s", async (target_cv) => {
    const out = await collect(retime(batchesOf(trace(N)), { arrival: "gamma", rate: 10, cv: target_cv, random: arrivals() }));
    expect(out[0].arrival_s).toBe(0);
    const { mean, cv } = gapStats(out);
    expect(Math.abs(1 / mean - 10) / 10).toBeLessThan(0.05);
    expect(Math.abs(cv - target_cv) / target_cv).toBeLessThan(0.07);
  });

  it("is deterministic for a seed", async () => {
    const run = (seed: number) => collect(retime(batchesOf(trace(100)), { arrival: "gamma", rate: 5, cv: 2, random: arrivals(seed) }));
    expect(await run(1)).toEqual(await run(1));
    expect(await run(1)).not.toEqual(await run(2));
  });

  it.each([
    [{ arrival: "poisson" }, "retime.rate"],
    [{ arrival: "poisson", rate: 0, random: Math.random }, "retime.rate"],
    [{ arrival: "gamma", rate: 1, cv: -1, random: Math.random }, "retime.cv"],
    [{ arrival: "poisson", rate: 1 }, "retime.random"],
    [{ arrival: "poisson", rate: 1, cv: 2, random: Math.random }, "retime.cv"],
    [{ arrival: "trace", time_scale: 0 }, "retime.time_scale"],
    [{ arrival: "trace", rate: 3 }, "retime.rate"],
    [{ arrival: "uniform" }, "retime.arrival"],
  ])("rejects bad options %j at the call", (options, fragment) => {
    expect(() => retime(batchesOf(trace(1)), options as never)).toThrow(InputError);
    expect(() => retime(batchesOf(trace(1)), options as never)).toThrow(fragment);
  });
});
