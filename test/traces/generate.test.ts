import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { DEFAULT_WORKLOAD, generateBatches, generateRequests, type GenerateOptions } from "../../traces/generate.ts";
import { collect } from "./helpers.ts";

const base: GenerateOptions = {
  count: 500,
  rate: 10,
  prompt: "lognormal:800,1",
  output: "uniform:10,300",
  prompt_max_tokens: 4000,
  prefix_groups: 4,
  prefix_tokens: 100,
  prefix_zipf: 0.8,
  seed: 1,
};

describe("generator", () => {
  it("is deterministic by seed", () => {
    expect([...generateRequests(base)]).toEqual([...generateRequests(base)]);
    expect([...generateRequests(base)]).not.toEqual([...generateRequests({ ...base, seed: 2 })]);
  });

  it("changing the output distribution leaves arrivals, prompts and prefixes unchanged", () => {
    const a = [...generateRequests(base)];
    const b = [...generateRequests({ ...base, output: "lognormal:50,2", output_max_tokens: 90 })];
    expect(b.map((r) => r.arrival_s)).toEqual(a.map((r) => r.arrival_s));
    expect(b.map((r) => r.prompt_tokens)).toEqual(a.map((r) => r.prompt_tokens));
    expect(b.map((r) => r.segments)).toEqual(a.map((r) => r.segments));
    expect(b.map((r) => r.output_tokens)).not.toEqual(a.map((r) => r.output_tokens));
    // …and changing the arrival process leaves the lengths alone.
    const c = [...generateRequests({ ...base, arrival: "gamma", cv: 3 })];
    expect(c.map((r) => r.output_tokens)).toEqual(a.map((r) => r.output_tokens));
    expect(c.map((r) => r.arrival_s)).not.toEqual(a.map((r) => r.arrival_s));
  });

  it("builds a keyed system prompt followed by a unique rest", () => {
    for (const r of generateRequests(base)) {
      expect(r.segments).toHaveLength(2);
      expect(r.segments![0]).toEqual({ key: expect.stringMatching(/^sys:[0-3]$/), tokens: 100 });
      expect(r.segments![1].key).toBeUndefined();
      expect(r.prompt_tokens).toBeGreaterThanOrEqual(101);
    }
    const plain = [...generateRequests({ ...base, prefix_groups: undefined, prefix_tokens: undefined })];
    expect(plain.every((r) => r.segments === undefined)).toBe(true);
  });

  it("spaces constant arrivals exactly 1/rate apart", () => {
    const rs = [...generateRequests({ ...base, arrival: "constant", rate: 4, count: 9 })];
    expect(rs.map((r) => r.arrival_s)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
  });

  it("produces the default workload", async () => {
    const requests = await collect(generateBatches(DEFAULT_WORKLOAD));
    expect(requests).toHaveLength(2000);
    expect(requests.map((r) => r.id)).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
    const span_s = requests[1999].arrival_s;
    expect(1999 / span_s).toBeGreaterThan(18);
    expect(1999 / span_s).toBeLessThan(22);
    const keys = new Set(requests.map((r) => r.segments![0].key));
    expect([...keys].every((k) => /^sys:[0-7]$/.test(k!))).toBe(true);
    expect(requests.filter((r) => r.segments![0].key === "sys:0").length).toBeGreaterThan(requests.filter((r) => r.segments![0].key === "sys:7").length);
    for (const r of requests) {
      expect(r.prompt_tokens).toBeGreaterThanOrEqual(513);
      expect(r.prompt_tokens).toBeLessThanOrEqual(6144);
      expect(r.output_tokens).toBeLessThanOrEqual(2048);
      expect(r.prompt_tokens + r.output_tokens).toBeLessThanOrEqual(8192); // fits llama-3-8b's context
    }
  });

  it.each([
    [{ count: 0 }, "generate.count"],
    [{ rate: -1 }, "generate.rate"],
    [{ prompt: "lognormal:5" }, "generate.prompt"],
    [{ output: "exp:5" }, "generate.output"],
    [{ prompt_max_tokens: 100 }, "generate.prompt_max_tokens"],
    [{ output_min_tokens: 0 }, "generate.output_min_tokens"],
    [{ prefix_tokens: undefined }, "generate.prefix_tokens"],
    [{ prefix_groups: 0 }, "generate.prefix_tokens"],
    [{ prefix_zipf: -1 }, "generate.prefix_zipf"],
    [{ cv: 2 }, "generate.cv"],
    [{ seed: 1.5 }, "generate.seed"],
  ])("rejects %j naming the option, before drawing anything", (change, fragment) => {
    expect(() => generateRequests({ ...base, ...change } as GenerateOptions)).toThrow(InputError);
    expect(() => generateRequests({ ...base, ...change } as GenerateOptions)).toThrow(fragment);
  });

  const distribution = fc.oneof(
    fc.integer({ min: 1, max: 5000 }).map((n) => `fixed:${n}`),
    fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 3000 })).map(([a, d]) => `uniform:${a},${a + d}`),
    fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 4, noNaN: true })).map(([m, c]) => `lognormal:${m},${c}`),
  );
  const bounds = fc.tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 6000 })).map(([min, d]) => [min, min + d] as const);

  it("always respects clamps, prefixes and segment sums (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          prompt: distribution,
          output: distribution,
          prompt_bounds: bounds,
          output_bounds: bounds,
          groups: fc.integer({ min: 0, max: 6 }),
          prefix_tokens: fc.integer({ min: 1, max: 1500 }),
          zipf: fc.double({ min: 0, max: 3, noNaN: true }),
          arrival: fc.constantFrom("poisson", "gamma", "constant") as fc.Arbitrary<"poisson" | "gamma" | "constant">,
          seed: fc.integer(),
        }),
        (o) => {
          const prompt_min = o.prompt_bounds[0];
          const prompt_max = Math.max(o.prompt_bounds[1], o.groups > 0 ? o.prefix_tokens + 1 : 1);
          const requests = [
            ...generateRequests({
              count: 40,
              rate: 3,
              arrival: o.arrival,
              prompt: o.prompt,
              output: o.output,
              prompt_min_tokens: prompt_min,
              prompt_max_tokens: prompt_max,
              output_min_tokens: o.output_bounds[0],
              output_max_tokens: o.output_bounds[1],
              prefix_groups: o.groups,
              prefix_tokens: o.groups > 0 ? o.prefix_tokens : undefined,
              prefix_zipf: o.zipf,
              seed: o.seed,
            }),
          ];
          expect(requests).toHaveLength(40);
          expect(requests[0].arrival_s).toBe(0);
          const floor = Math.max(prompt_min, o.groups > 0 ? o.prefix_tokens + 1 : 1);
          requests.forEach((r, i) => {
            expect(r.id).toBe(String(i));
            if (i > 0) expect(r.arrival_s).toBeGreaterThanOrEqual(requests[i - 1].arrival_s);
            expect(Number.isInteger(r.prompt_tokens) && Number.isInteger(r.output_tokens)).toBe(true);
            expect(r.prompt_tokens).toBeGreaterThanOrEqual(floor);
            expect(r.prompt_tokens).toBeLessThanOrEqual(prompt_max);
            expect(r.output_tokens).toBeGreaterThanOrEqual(o.output_bounds[0]);
            expect(r.output_tokens).toBeLessThanOrEqual(o.output_bounds[1]);
            if (o.groups === 0) {
              expect(r.segments).toBeUndefined();
            } else {
              expect(r.segments!.reduce((a, s) => a + s.tokens, 0)).toBe(r.prompt_tokens);
              expect(r.segments!.every((s) => s.tokens >= 1)).toBe(true);
              expect(r.segments![0]).toEqual({ key: expect.stringMatching(/^sys:\d+$/), tokens: o.prefix_tokens });
              expect(Number(r.segments![0].key!.slice(4))).toBeLessThan(o.groups);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
