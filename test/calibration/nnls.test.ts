import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nnls } from "../../sim/calibrate/nnls.ts";

/** Karush–Kuhn–Tucker conditions of min ‖Ax − b‖ s.t. x ≥ 0: x ≥ 0, the gradient w = Aᵀ(b − Ax) is
 *  ≤ 0 everywhere and = 0 where x > 0. */
function expectKkt(a: number[][], b: number[], x: number[], tol: number) {
  const m = a.length;
  const n = x.length;
  const r = b.map((bi, i) => bi - a[i].reduce((s, v, j) => s + v * x[j], 0));
  for (let j = 0; j < n; j++) {
    expect(x[j]).toBeGreaterThanOrEqual(0);
    let w = 0;
    let colNorm = 0;
    for (let i = 0; i < m; i++) {
      w += a[i][j] * r[i];
      colNorm += a[i][j] * a[i][j];
    }
    const scale = Math.sqrt(colNorm) * Math.max(1, Math.hypot(...b));
    expect(w).toBeLessThanOrEqual(tol * scale);
    if (x[j] > 0) expect(Math.abs(w)).toBeLessThanOrEqual(tol * scale);
  }
}

describe("nnls (Lawson–Hanson)", () => {
  it("returns the least-squares solution when it is non-negative", () => {
    const a = [
      [1, 0],
      [0, 2],
      [1, 1],
    ];
    const truth = [3, 0.5];
    const b = a.map((row) => row[0] * truth[0] + row[1] * truth[1]);
    const { x, residual_norm } = nnls(a, b);
    expect(x[0]).toBeCloseTo(3, 12);
    expect(x[1]).toBeCloseTo(0.5, 12);
    expect(residual_norm).toBeLessThan(1e-12);
  });

  it("clamps a coefficient the unconstrained solution makes negative", () => {
    // Unconstrained: x = (2, −1). With x₂ ≥ 0: x₂ = 0 and x₁ the 1-D fit.
    const a = [
      [1, 1],
      [1, 2],
      [1, 3],
    ];
    const b = [1, 0, -1];
    const { x } = nnls(a, b);
    expect(x[1]).toBe(0);
    expect(x[0]).toBeCloseTo(0, 12); // mean of b = 0
    expectKkt(a, b, x, 1e-10);
  });

  it("all-zero answer when every direction increases the residual", () => {
    const { x } = nnls([[1], [2]], [-1, -2]);
    expect(x).toEqual([0]);
  });

  it("handles columns of wildly different scales (1 next to 1e9)", () => {
    const truth = [0.02, 3e-5, 1e-10, 4e-4];
    const rows: number[][] = [];
    for (const t of [128, 512, 2048, 8192]) for (const s of [1, 8, 64]) rows.push([1, t * s, (t * s * t) / 2, s]);
    const b = rows.map((r) => r.reduce((acc, v, j) => acc + v * truth[j], 0));
    const { x } = nnls(rows, b);
    x.forEach((v, j) => expect(Math.abs(v / truth[j] - 1)).toBeLessThan(1e-8));
  });

  it("an all-zero column gets coefficient 0", () => {
    const { x } = nnls(
      [
        [1, 0],
        [2, 0],
      ],
      [1, 2],
    );
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBe(0);
  });

  it("satisfies the KKT conditions on random problems", () => {
    const entry = fc.integer({ min: -1000, max: 1000 }).map((v) => v / 100);
    const problem = fc.record({ m: fc.integer({ min: 1, max: 12 }), n: fc.integer({ min: 1, max: 6 }) }).chain(({ m, n }) =>
      fc.record({
        a: fc.array(fc.array(entry, { minLength: n, maxLength: n }), { minLength: m, maxLength: m }),
        b: fc.array(entry, { minLength: m, maxLength: m }),
      }),
    );
    fc.assert(
      fc.property(problem, ({ a, b }) => {
        const { x } = nnls(a, b);
        expectKkt(a, b, x, 1e-7);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects mismatched shapes and non-finite input", () => {
    expect(() => nnls([[1]], [1, 2])).toThrow(/rows/);
    expect(() => nnls([[1, 2], [1]], [1, 2])).toThrow(/lengths/);
    expect(() => nnls([[NaN]], [1])).toThrow(/non-finite/);
  });
});
