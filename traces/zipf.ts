import type { Random } from "../src/core/rng.ts";

/** Picks an index in [0, n) with probability ∝ 1/(i+1)^skew (skew 0 = uniform), by binary search
 *  over the precomputed cumulative weights: one uniform per draw. */
export function zipfPicker(n: number, skew: number, random: Random): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** skew;
    cumulative[i] = total;
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
