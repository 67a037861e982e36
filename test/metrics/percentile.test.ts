import { describe, expect, it } from "vitest";
import { percentileSorted } from "../../src/metrics/percentile.ts";

const sorted = (values: number[]): Float64Array => Float64Array.from(values).sort();

describe("percentileSorted (numpy linear)", () => {
  it("interpolates between closest ranks: rank = p/100 × (n − 1)", () => {
    const a = sorted([4, 1, 3, 2]);
    expect(percentileSorted(a, 0)).toBe(1);
    expect(percentileSorted(a, 25)).toBeCloseTo(1.75, 12); // rank 0.75
    expect(percentileSorted(a, 40)).toBeCloseTo(2.2, 12); // rank 1.2
    expect(percentileSorted(a, 50)).toBeCloseTo(2.5, 12); // rank 1.5
    expect(percentileSorted(a, 90)).toBeCloseTo(3.7, 12); // rank 2.7
    expect(percentileSorted(a, 99)).toBeCloseTo(3.97, 12); // rank 2.97
    expect(percentileSorted(a, 100)).toBe(4);
  });

  it("hits sample values exactly at integral ranks", () => {
    const a = sorted([15, 20, 35, 40, 50]);
    expect(percentileSorted(a, 25)).toBe(20); // rank 1
    expect(percentileSorted(a, 50)).toBe(35); // rank 2
    expect(percentileSorted(a, 40)).toBeCloseTo(29, 12); // rank 1.6: 20 + 0.6 × 15
    expect(percentileSorted(a, 90)).toBeCloseTo(46, 12); // rank 3.6: 40 + 0.6 × 10
  });

  it("gives numpy's exact doubles", () => {
    // np.percentile([1, 2, 3, 4], 99) and np.percentile([0.1, 0.2, 0.3], 25)
    expect(percentileSorted(sorted([1, 2, 3, 4]), 99)).toBe(3.9699999999999998);
    expect(percentileSorted(sorted([0.1, 0.2, 0.3]), 25)).toBe(0.15000000000000002);
  });

  it("returns the only value of a single-value array", () => {
    for (const p of [0, 50, 99, 100]) expect(percentileSorted(sorted([7]), p)).toBe(7);
  });

  it("refuses empty input and percentiles outside 0..100", () => {
    expect(() => percentileSorted(new Float64Array(0), 50)).toThrow(/no values/);
    expect(() => percentileSorted(sorted([1]), 101)).toThrow(/outside/);
    expect(() => percentileSorted(sorted([1]), Number.NaN)).toThrow(/outside/);
  });
});
