/** One-dimensional classical (Torgerson) multidimensional scaling: points on a line whose distances
 *  best match a symmetric distance matrix. B = −½ J D² J (J centres), and the coordinates are the
 *  eigenvector of B's largest eigenvalue λ scaled by √λ. Deterministic (Jacobi rotations, no random
 *  start), so the same distances always give the same coordinates; the sign of the axis is
 *  arbitrary (callers that care fix it). For distances that are exactly those of points on a line,
 *  the coordinates reproduce them up to a shift and a reflection. */
export function classicalMds1d(distances: readonly (readonly number[])[]): number[] {
  const n = distances.length;
  if (n === 0) return [];
  if (n === 1) return [0];
  const sq = distances.map((row) => row.map((d) => d * d));
  const rowMean = sq.map((row) => row.reduce((s, v) => s + v, 0) / n);
  const grand = rowMean.reduce((s, v) => s + v, 0) / n;
  const b = sq.map((row, i) => row.map((v, j) => -0.5 * (v - rowMean[i] - rowMean[j] + grand)));
  const { values, vectors } = jacobiEigen(b);
  let top = 0;
  for (let k = 1; k < n; k++) if (values[k] > values[top]) top = k;
  const scale = Math.sqrt(Math.max(0, values[top]));
  return vectors.map((row) => row[top] * scale);
}

/** Eigenvalues and eigenvectors (columns of `vectors`) of a small symmetric matrix, by cyclic
 *  Jacobi rotations. */
export function jacobiEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const scale = Math.max(1e-300, ...a.flat().map(Math.abs));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    if (Math.sqrt(off) <= 1e-14 * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]), vectors: v };
}
