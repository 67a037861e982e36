/** Minimises `f` over R^n from `start` with the Nelder–Mead simplex (deterministic: a fixed initial
 *  simplex of ±`step` along each axis). For the handful of smooth, bounded-by-transform parameters of
 *  the step-time fit; returns the best point found. */
export function nelderMead(f: (x: number[]) => number, start: number[], options: { step?: number; iterations?: number; tolerance?: number } = {}): { x: number[]; value: number } {
  const n = start.length;
  const step = options.step ?? 0.3;
  const iterations = options.iterations ?? 400 * n;
  const tolerance = options.tolerance ?? 1e-7;
  let simplex = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] += step;
    simplex.push(p);
  }
  let values = simplex.map(f);
  const combine = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i] - v));
  for (let it = 0; it < iterations; it++) {
    const order = values.map((_v, i) => i).sort((a, b) => values[a] - values[b]);
    simplex = order.map((i) => simplex[i]);
    values = order.map((i) => values[i]);
    if (Math.abs(values[n] - values[0]) <= tolerance * (Math.abs(values[0]) + 1e-12)) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += simplex[i][j] / n;
    const reflected = combine(centroid, simplex[n], -1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = combine(centroid, simplex[n], -2);
      const fe = f(expanded);
      if (fe < fr) [simplex[n], values[n]] = [expanded, fe];
      else [simplex[n], values[n]] = [reflected, fr];
    } else if (fr < values[n - 1]) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = fr < values[n] ? combine(centroid, reflected, 0.5) : combine(centroid, simplex[n], 0.5);
      const fc = f(contracted);
      if (fc < Math.min(fr, values[n])) [simplex[n], values[n]] = [contracted, fc];
      else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = combine(simplex[0], simplex[i], 0.5);
          values[i] = f(simplex[i]);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= n; i++) if (values[i] < values[best]) best = i;
  return { x: simplex[best], value: values[best] };
}
