/** Exact percentiles by linear interpolation between closest ranks — numpy's default method
 *  ("linear"), which vLLM's benchmark uses, so tandem's p50/p90/p99 match numbers people compare
 *  against. */

/** The `p_percent` percentile (0..100) of `sorted` (ascending, at least one value). */
export function percentileSorted(sorted: Float64Array, p_percent: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error("percentileSorted: no values");
  if (!(p_percent >= 0 && p_percent <= 100)) {
    throw new Error(`percentileSorted: percentile ${p_percent} is outside 0..100`);
  }
  const rank = (p_percent / 100) * (n - 1); // numpy's order of operations, for identical doubles
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return lerp(sorted[lo], sorted[hi], rank - lo);
}

/** numpy's `_lerp`: interpolating from the nearer end keeps the result bit-identical to numpy and
 *  monotonic in t. */
export function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
