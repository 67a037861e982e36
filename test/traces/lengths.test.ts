import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { lengthSampler, parseLengthDistribution } from "../../traces/lengths.ts";
import { zipfPicker } from "../../traces/zipf.ts";

describe("length distributions", () => {
  it("parses the three forms", () => {
    expect(parseLengthDistribution("fixed:128", "p")).toEqual({ kind: "fixed", tokens: 128 });
    expect(parseLengthDistribution("uniform:1, 64", "p")).toEqual({ kind: "uniform", min_tokens: 1, max_tokens: 64 });
    expect(parseLengthDistribution("lognormal:1024,1.5", "p")).toEqual({ kind: "lognormal", mean_tokens: 1024, cv: 1.5 });
  });

  it.each(["", "fixed", "fixed:", "fixed:0", "fixed:1.5", "fixed:1,2", "uniform:5", "uniform:9,3", "uniform:a,3", "lognormal:0,1", "lognormal:10,-1", "normal:3,1", "lognormal:10"])(
    "rejects %j naming the option",
    (spec) => {
      expect(() => parseLengthDistribution(spec, "generate.prompt")).toThrow(InputError);
      expect(() => parseLengthDistribution(spec, "generate.prompt")).toThrow(/^generate\.prompt: .*expected/);
    },
  );

  it("samples a lognormal with the requested mean and cv", () => {
    const sample = lengthSampler(parseLengthDistribution("lognormal:1000,0.8", "p"), new RngStreams(3).stream("x"), 1, 1e9);
    const xs = Array.from({ length: 40_000 }, sample);
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean - 1000) / 1000).toBeLessThan(0.03);
    expect(Math.abs(sd / mean - 0.8) / 0.8).toBeLessThan(0.06);
    expect(xs.every(Number.isInteger)).toBe(true);
  });

  it("samples uniform integers over both ends and clamps", () => {
    const sample = lengthSampler(parseLengthDistribution("uniform:1,4", "p"), new RngStreams(3).stream("x"), 2, 3);
    const seen = new Set(Array.from({ length: 1000 }, sample));
    expect([...seen].sort()).toEqual([2, 3]);
    const raw = lengthSampler(parseLengthDistribution("uniform:1,4", "p"), new RngStreams(3).stream("x"), 1, 100);
    expect([...new Set(Array.from({ length: 1000 }, raw))].sort()).toEqual([1, 2, 3, 4]);
  });
});

describe("zipf picker", () => {
  it("is uniform at skew 0 and favours low indexes as 1/(i+1)^s", () => {
    const counts = (skew: number) => {
      const pick = zipfPicker(4, skew, new RngStreams(5).stream("z"));
      const c = [0, 0, 0, 0];
      for (let i = 0; i < 40_000; i++) c[pick()]++;
      return c.map((n) => n / 40_000);
    };
    for (const p of counts(0)) expect(Math.abs(p - 0.25)).toBeLessThan(0.015);
    const harmonic = 1 + 1 / 2 + 1 / 3 + 1 / 4;
    counts(1).forEach((p, i) => expect(Math.abs(p - 1 / (i + 1) / harmonic)).toBeLessThan(0.015));
  });
});
