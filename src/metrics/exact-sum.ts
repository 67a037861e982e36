/** An exact running sum of doubles (Shewchuk's non-overlapping expansion, the algorithm behind
 *  Python's `math.fsum`): `value()` is the exact sum of everything added, rounded once to the
 *  nearest double. Unlike a compensated sum, the result does not depend on the order of the
 *  additions, so a host may record samples in any order (the simulator's decode fast-forward records
 *  a step's inter-token gaps when the step ends, not when the API latency delivers them) and still
 *  report the same bits. Finite addends only. */
export class ExactSum {
  // Non-overlapping partials in increasing magnitude; their exact sum is the running total. For
  // non-negative addends of similar size there are rarely more than two or three.
  // Only the first `count` entries are live: the array never shrinks (setting `length` is a runtime
  // call, and this runs once per simulated engine step).
  private readonly partials: number[] = [];
  private count = 0;

  /** Adds `x` exactly. O(partials), allocates nothing once the partials have settled. */
  add(x: number): void {
    const p = this.partials;
    const n = this.count;
    let kept = 0;
    for (let j = 0; j < n; j++) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x); // exact: hi + lo === x + y (Dekker's two-sum, |x| ≥ |y|)
      if (lo !== 0) p[kept++] = lo;
      x = hi;
    }
    if (kept < p.length) p[kept] = x;
    else p.push(x);
    this.count = kept + 1;
  }

  /** The exact sum, correctly rounded (ties to even). */
  value(): number {
    const p = this.partials;
    let n = this.count;
    if (n === 0) return 0;
    let hi = p[--n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // hi + lo rounded hi to even; if the partials below lo push the same way, the exact sum lies
    // past the halfway point and the rounding must go the other way.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    // A running total that starts at +0 is never −0 (0 + −0 = +0, and an exact cancellation rounds
    // to +0), so neither is this one: a lone −0 addend must not make the sum −0.
    return hi === 0 ? 0 : hi;
  }
}
