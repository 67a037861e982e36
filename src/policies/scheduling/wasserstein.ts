/** Wasserstein-1 (earth mover's) distance between two empirical distributions on the real line:
 *  ∫ |F_a(x) − F_b(x)| dx, the area between their CDFs (equivalently ∫₀¹ |F_a⁻¹(q) − F_b⁻¹(q)| dq).
 *  Samples need not be sorted or of equal count; each sample of a weighs 1/|a|, each of b 1/|b|.
 *  Both must be non-empty. */
export function wasserstein1(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) throw new Error("wasserstein1: empty distribution");
  const xs = [...a].sort((p, q) => p - q);
  const ys = [...b].sort((p, q) => p - q);
  // Sweep the merged sample points; between consecutive points both CDFs are constant.
  let i = 0;
  let j = 0;
  let fa = 0;
  let fb = 0;
  let prev = Math.min(xs[0], ys[0]);
  let area = 0;
  while (i < xs.length || j < ys.length) {
    const x = Math.min(i < xs.length ? xs[i] : Infinity, j < ys.length ? ys[j] : Infinity);
    area += Math.abs(fa - fb) * (x - prev);
    while (i < xs.length && xs[i] === x) i++;
    while (j < ys.length && ys[j] === x) j++;
    fa = i / xs.length;
    fb = j / ys.length;
    prev = x;
  }
  return area;
}
