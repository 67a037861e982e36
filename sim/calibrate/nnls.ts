/** Non-negative least squares: minimise ‖A·x − b‖₂ subject to x ≥ 0, by the active-set method of
 *  Lawson and Hanson ("Solving Least Squares Problems", 1974, ch. 23). Small dense problems only
 *  (calibration has a handful of columns and at most a few thousand rows).
 *
 *  Columns are scaled to unit norm before solving (non-negativity is invariant under positive
 *  scaling) because calibration features span many orders of magnitude (1 per step next to 10⁹
 *  attention pairs); each unconstrained sub-problem is solved by Householder QR, never by the normal
 *  equations, so the conditioning is that of A, not of AᵀA. */

export interface NnlsResult {
  x: number[];
  /** ‖A·x − b‖₂ at the solution. */
  residual_norm: number;
  /** Outer iterations taken (columns freed). */
  iterations: number;
}

/** `a` is row-major: a[i][j] is row i, column j. Every row must have the same length. */
export function nnls(a: readonly (readonly number[])[], b: readonly number[], options: { max_iterations?: number; tolerance?: number } = {}): NnlsResult {
  const m = a.length;
  if (m !== b.length) throw new Error(`nnls: ${m} rows but ${b.length} targets`);
  const n = m === 0 ? 0 : a[0].length;
  for (const row of a) if (row.length !== n) throw new Error("nnls: rows of different lengths");
  for (const row of a) for (const v of row) if (!Number.isFinite(v)) throw new Error("nnls: non-finite matrix entry");
  for (const v of b) if (!Number.isFinite(v)) throw new Error("nnls: non-finite target");

  // Scale columns to unit norm; all-zero columns stay out of the problem (their coefficient is 0).
  const scale = new Array<number>(n).fill(0);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += a[i][j] * a[i][j];
    scale[j] = Math.sqrt(s);
  }
  const cols: number[][] = [];
  for (let j = 0; j < n; j++) {
    const col = new Array<number>(m);
    for (let i = 0; i < m; i++) col[i] = scale[j] > 0 ? a[i][j] / scale[j] : 0;
    cols.push(col);
  }
  const bNorm = Math.sqrt(b.reduce((s, v) => s + v * v, 0));
  const tolerance = options.tolerance ?? 1e-12 * Math.max(1, bNorm) * Math.max(1, Math.sqrt(m));
  const maxIterations = options.max_iterations ?? 3 * n + 30;

  const x = new Array<number>(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const usable = scale.map((s) => s > 0);
  // A column whose own sub-problem gives it no positive weight (rounding at the optimum) is not
  // picked again until the solution moves.
  const blocked = new Set<number>();
  let iterations = 0;

  const residual = (): number[] => {
    const r = b.slice();
    for (let j = 0; j < n; j++) {
      if (x[j] === 0) continue;
      const col = cols[j];
      for (let i = 0; i < m; i++) r[i] -= col[i] * x[j];
    }
    return r;
  };

  for (;;) {
    // Gradient of ½‖Ax − b‖² is −Aᵀr; w = Aᵀr points downhill.
    const r = residual();
    let best = -1;
    let bestW = tolerance;
    for (let j = 0; j < n; j++) {
      if (passive[j] || !usable[j] || blocked.has(j)) continue;
      let w = 0;
      const col = cols[j];
      for (let i = 0; i < m; i++) w += col[i] * r[i];
      if (w > bestW) {
        bestW = w;
        best = j;
      }
    }
    if (best < 0 || iterations >= maxIterations) break;
    iterations++;
    passive[best] = true;
    const before = x.slice();

    // Inner loop: solve on the passive set; step back while any passive coefficient goes ≤ 0.
    for (let inner = 0; inner < 10 * n + 10; inner++) {
      const set = passive.flatMap((p, j) => (p ? [j] : []));
      const z = leastSquares(cols, set, b);
      let allPositive = true;
      for (let k = 0; k < set.length; k++) if (!(z[k] > 0)) allPositive = false;
      if (allPositive) {
        x.fill(0);
        set.forEach((j, k) => (x[j] = z[k]));
        break;
      }
      // Move from x toward z as far as feasibility allows, then drop the coefficients that hit 0.
      let alpha = Infinity;
      for (let k = 0; k < set.length; k++) {
        if (z[k] <= 0) {
          const j = set[k];
          const step = x[j] / (x[j] - z[k]);
          if (step < alpha) alpha = step;
        }
      }
      if (!Number.isFinite(alpha)) alpha = 0;
      for (let k = 0; k < set.length; k++) {
        const j = set[k];
        x[j] += alpha * (z[k] - x[j]);
      }
      for (const j of set) {
        if (x[j] <= 1e-15) {
          x[j] = 0;
          passive[j] = false;
        }
      }
      if (!passive.some((p) => p)) break;
    }
    if (!passive[best] && x.every((v, j) => v === before[j])) blocked.add(best);
    else blocked.clear();
  }

  const r = residual();
  const out = x.map((v, j) => (scale[j] > 0 ? v / scale[j] : 0));
  return { x: out, residual_norm: Math.sqrt(r.reduce((s, v) => s + v * v, 0)), iterations };
}

/** Least-squares solution over the columns in `set`, by Householder QR (column-pivot free: the
 *  columns are unit-norm and a rank-deficient one gets coefficient 0). */
function leastSquares(cols: readonly number[][], set: readonly number[], b: readonly number[]): number[] {
  const m = b.length;
  const k = set.length;
  // Working copy, column-major.
  const q: number[][] = set.map((j) => cols[j].slice());
  const y = b.slice();
  const rDiag = new Array<number>(k).fill(0);
  const rank = Math.min(m, k);
  for (let c = 0; c < rank; c++) {
    const col = q[c];
    let norm = 0;
    for (let i = c; i < m; i++) norm += col[i] * col[i];
    norm = Math.sqrt(norm);
    if (norm < 1e-13) {
      rDiag[c] = 0;
      continue;
    }
    const alpha = col[c] > 0 ? -norm : norm;
    // v = col[c:] − alpha·e₁, stored in col[c:].
    col[c] -= alpha;
    let vv = 0;
    for (let i = c; i < m; i++) vv += col[i] * col[i];
    if (vv > 0) {
      for (let d = c + 1; d < k; d++) {
        const other = q[d];
        let dot = 0;
        for (let i = c; i < m; i++) dot += col[i] * other[i];
        const f = (2 * dot) / vv;
        for (let i = c; i < m; i++) other[i] -= f * col[i];
      }
      let dot = 0;
      for (let i = c; i < m; i++) dot += col[i] * y[i];
      const f = (2 * dot) / vv;
      for (let i = c; i < m; i++) y[i] -= f * col[i];
    }
    rDiag[c] = alpha;
  }
  // Back substitution on R (upper triangle in q[d][c] for d > c, diagonal in rDiag).
  const z = new Array<number>(k).fill(0);
  for (let c = rank - 1; c >= 0; c--) {
    if (rDiag[c] === 0) {
      z[c] = 0;
      continue;
    }
    let s = y[c];
    for (let d = c + 1; d < rank; d++) s -= q[d][c] * z[d];
    z[c] = s / rDiag[c];
  }
  return z;
}
