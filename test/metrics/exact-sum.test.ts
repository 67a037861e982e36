import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExactSum } from "../../src/metrics/exact-sum.ts";

const sumOf = (values: number[]) => {
  const s = new ExactSum();
  for (const v of values) s.add(v);
  return s.value();
};

/** The exact sum as a rational with a power-of-two denominator, rounded to a double by BigInt
 *  arithmetic: an independent reference. Doubles are integers times 2^-1074. */
function referenceSum(values: number[]): number {
  let total = 0n; // in units of 2^-1074, the smallest subnormal: every double is a whole multiple
  for (const v of values) {
    if (v === 0) continue;
    let e = -1074; // v = m · 2^e with m an integer of at most 53 bits
    while (!Number.isInteger(v / 2 ** e) || Math.abs(v / 2 ** e) >= 2 ** 53) e++;
    total += BigInt(v / 2 ** e) << BigInt(e + 1074);
  }
  const negative = total < 0n;
  const magnitude = negative ? -total : total;
  // Keep the top 53 bits, rounding the rest to nearest, ties to even.
  const shift = Math.max(0, magnitude.toString(2).length - 53);
  let kept = magnitude >> BigInt(shift);
  if (shift > 0) {
    const rest = magnitude - (kept << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rest > half || (rest === half && (kept & 1n) === 1n)) kept++;
  }
  const value = Number(kept) * 2 ** (shift - 1074);
  return negative ? -value : value;
}

describe("ExactSum", () => {
  it("is exact where a plain sum loses the small terms", () => {
    expect(sumOf([1e16, 1, 1, -1e16])).toBe(2);
    expect(sumOf([0.1, 0.2, 0.3, -0.6])).toBe(referenceSum([0.1, 0.2, 0.3, -0.6]));
    expect(sumOf([])).toBe(0);
    // As a running total from +0: a lone −0 (or −0s with +0s) sums to +0.
    expect(Object.is(sumOf([-0]), 0)).toBe(true);
    expect(Object.is(sumOf([-0, 0, -0]), 0)).toBe(true);
  });

  it("rounds the exact sum once, to nearest even, when the tail decides a tie", () => {
    // 1 + 2^-53 is a tie that rounds down to 1; a further 2^-106 makes it round up.
    expect(sumOf([1, 2 ** -53])).toBe(1);
    expect(sumOf([1, 2 ** -53, 2 ** -106])).toBe(1 + 2 ** -52);
  });

  it("equals the correctly rounded exact sum, whatever the order of the additions", () => {
    const value = fc.oneof(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(1e-9, 2 ** -60, 3e15));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), fc.integer(), (values, seed) => {
        const expected = referenceSum(values);
        expect(sumOf(values)).toBe(expected);
        const shuffled = [...values];
        let s = seed >>> 0;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        expect(sumOf(shuffled)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
