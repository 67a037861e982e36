import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LogHistogram, MAX_S, MIN_S, RELATIVE_ACCURACY } from "../../src/metrics/log-histogram.ts";
import { percentileSorted } from "../../src/metrics/percentile.ts";

// Log-uniform over the histogram's dense range, 1 µs .. 10⁴ s.
const latency_s = fc.double({ min: -6, max: 4, noNaN: true }).map((exponent) => 10 ** exponent);

describe("LogHistogram", () => {
  it("quantiles are within 0.1% of the exact numpy-linear ones", () => {
    fc.assert(
      fc.property(fc.array(latency_s, { minLength: 1, maxLength: 400 }), fc.double({ min: 0, max: 100, noNaN: true }), (values, p) => {
        const h = new LogHistogram();
        for (const v of values) h.record(v);
        const exact = percentileSorted(Float64Array.from(values).sort(), p);
        for (const q of [p, 50, 90, 99]) {
          const want = q === p ? exact : percentileSorted(Float64Array.from(values).sort(), q);
          expect(Math.abs(h.percentile(q) - want)).toBeLessThanOrEqual(RELATIVE_ACCURACY * want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps count, mean and max exact", () => {
    // Multiples of 2⁻²⁰ s below 1000 s: their sum is exact in a double, so the mean has one right answer.
    const dyadic_s = fc.integer({ min: 0, max: 1000 * 2 ** 20 }).map((k) => k / 2 ** 20);
    fc.assert(
      fc.property(fc.array(dyadic_s, { minLength: 1, maxLength: 200 }), (values) => {
        const h = new LogHistogram();
        let sum = 0;
        for (const v of values) {
          h.record(v);
          sum += v;
        }
        expect(h.count).toBe(values.length);
        expect(h.mean()).toBe(sum / values.length);
        expect(h.maxValue()).toBe(Math.max(...values));
      }),
    );
  });

  it("does not drift over millions of samples", () => {
    const h = new LogHistogram();
    for (let i = 0; i < 1_000_000; i++) h.record(0.1);
    expect(h.mean()).toBe(0.1); // a plain running sum gives 0.09999999999866…
  });

  it("reports values outside 1 µs .. 10⁴ s as the exact extremes", () => {
    const h = new LogHistogram();
    for (const v of [0, 0, 0, MAX_S * 3]) h.record(v);
    expect(h.percentile(50)).toBe(0);
    expect(h.percentile(100)).toBe(MAX_S * 3);
    const tiny = new LogHistogram();
    tiny.record(MIN_S / 2);
    expect(tiny.percentile(50)).toBe(MIN_S / 2);
  });

  it("refuses negative and non-finite values", () => {
    const h = new LogHistogram();
    expect(() => h.record(-1e-3)).toThrow(/cannot record/);
    expect(() => h.record(Number.NaN)).toThrow(/cannot record/);
    expect(() => h.record(Infinity)).toThrow(/cannot record/);
    expect(h.count).toBe(0);
    expect(h.mean()).toBe(0);
  });
});
