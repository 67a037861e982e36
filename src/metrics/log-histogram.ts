import { ExactSum } from "./exact-sum.ts";
import { lerp } from "./percentile.ts";

/** A streaming histogram with logarithmic buckets (the DDSketch idea, dense bucket array) for
 *  latencies too numerous to keep one by one, such as inter-token gaps: hundreds of millions per
 *  big run. Quantiles are within RELATIVE_ACCURACY of the exact ones (numpy-linear, as
 *  `percentileSorted`); count, mean, min and max are exact.
 *
 *  Bucket i covers (MIN_S·γ^(i−1), MIN_S·γ^i] and stands for the point whose relative distance to
 *  both edges is α = (γ−1)/(γ+1). Values below MIN_S (including 0) and above MAX_S fall in an
 *  underflow and an overflow bucket that stand for the exact smallest and largest value seen. */

/** Guaranteed relative accuracy of quantiles for values in [MIN_S, MAX_S]. */
export const RELATIVE_ACCURACY = 0.001;
export const MIN_S = 1e-6;
export const MAX_S = 1e4;

/** Range and accuracy of one histogram; the defaults suit latencies in seconds. Token counts use
 *  a range like [1, 1e6]; per-agent profiles a coarser accuracy to stay small. */
export interface LogHistogramOptions {
  min?: number;
  max?: number;
  relative_accuracy?: number;
}

export class LogHistogram {
  private readonly minValue: number;
  private readonly maxValueBound: number;
  private readonly gamma: number;
  private readonly invLogGamma: number;
  private readonly buckets: number;
  // counts[0] = underflow, counts[1 + i] = bucket i, counts[buckets + 1] = overflow.
  private readonly counts: Float64Array;
  private n = 0;
  // Exact sum of the recorded value × count products: hundreds of millions of small gaps would
  // otherwise drift the mean, and an exact sum gives the same bits whatever the recording order.
  private readonly sum = new ExactSum();
  private min = Infinity;
  private max = -Infinity;
  // One-entry memo of the last bucket: the simulator records the same gap (a step's duration) for
  // every call decoding in that step, so most records skip the logarithm.
  private lastValue = NaN;
  private lastSlot = 0;

  constructor(options: LogHistogramOptions = {}) {
    this.minValue = options.min ?? MIN_S;
    this.maxValueBound = options.max ?? MAX_S;
    // A hair tighter than promised so that rounding in Math.log near a bucket edge cannot push the
    // error past the promised accuracy.
    const alpha = (options.relative_accuracy ?? RELATIVE_ACCURACY) * (1 - 1e-6);
    this.gamma = (1 + alpha) / (1 - alpha);
    this.invLogGamma = 1 / Math.log(this.gamma);
    this.buckets = Math.ceil(Math.log(this.maxValueBound / this.minValue) * this.invLogGamma) + 1;
    this.counts = new Float64Array(this.buckets + 2);
  }

  /** Record one value (≥ 0, finite). O(1), allocates nothing. */
  record(value: number): void {
    this.recordMany(value, 1);
  }

  /** Record `count` samples of the same value (a simulator step gives every call that decoded in it
   *  the same inter-token gap). Same result as `count` calls of record(). */
  recordMany(value: number, count: number): void {
    if (!(value >= 0 && value < Infinity) || !(count >= 1)) {
      throw new Error(`LogHistogram: cannot record ${value} × ${count} (values must be finite and ≥ 0, counts ≥ 1)`);
    }
    let slot: number;
    if (value === this.lastValue) slot = this.lastSlot;
    else {
      const buckets = this.buckets;
      if (value < this.minValue) slot = 0;
      else if (value > this.maxValueBound) slot = buckets + 1;
      else slot = 1 + Math.min(buckets - 1, Math.max(0, Math.ceil(Math.log(value / this.minValue) * this.invLogGamma)));
      this.lastValue = value;
      this.lastSlot = slot;
    }
    this.counts[slot] += count;
    this.n += count;
    this.sum.add(value * count);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  get count(): number {
    return this.n;
  }

  /** Mean of every recorded value (the exact sum rounded once, then divided); 0 when empty.
   *  Independent of the order in which values were recorded. */
  mean(): number {
    return this.n === 0 ? 0 : this.sum.value() / this.n;
  }

  /** Exact largest value; 0 when empty. */
  maxValue(): number {
    return this.n === 0 ? 0 : this.max;
  }

  /** The `p_percent` percentile (0..100), interpolated between closest ranks as numpy's default. */
  percentile(p_percent: number): number {
    if (this.n === 0) throw new Error("LogHistogram: percentile of an empty histogram");
    if (!(p_percent >= 0 && p_percent <= 100)) {
      throw new Error(`LogHistogram: percentile ${p_percent} is outside 0..100`);
    }
    const rank = (p_percent / 100) * (this.n - 1);
    const lo = Math.floor(rank);
    const hi = Math.min(lo + 1, this.n - 1);
    // Both ends are within α of the exact order statistics, so their interpolation is within α of
    // the exact interpolated percentile.
    return lerp(this.valueAtRank(lo), this.valueAtRank(hi), rank - lo);
  }

  /** Estimate of the value with 0-based rank `rank` in sorted order. */
  private valueAtRank(rank: number): number {
    let seen = 0;
    for (let slot = 0; slot < this.counts.length; slot++) {
      seen += this.counts[slot];
      if (seen > rank) return this.slotValue(slot);
    }
    return this.max;
  }

  private slotValue(slot: number): number {
    if (slot === 0) return this.min;
    if (slot === this.buckets + 1) return this.max;
    const upper = this.minValue * this.gamma ** (slot - 1);
    const representative = (2 * upper) / (this.gamma + 1);
    // Every value in the bucket lies in [min, max]; clamping can only move closer to it.
    return Math.min(this.max, Math.max(this.min, representative));
  }
}
