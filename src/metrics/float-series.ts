/** Where a metric's values are kept for exact percentiles: in memory (FloatSeries), or wherever a
 *  host puts them (the gateway spills them to a file, so a server that runs for days stays flat). */
export interface SampleSeries {
  readonly length: number;
  push(value: number): void;
  /** A sorted copy of every value pushed so far; the series can keep growing. */
  sortedCopy(): Float64Array;
}

/** Makes the series of one metric (`name`: ttft_s, tpot_s, e2e_s, queue_s, makespan_s, slowdown). */
export type SampleSeriesFactory = (name: string) => SampleSeries;

/** A growable array of doubles: one compact Float64Array per metric instead of an object per call,
 *  so exact percentiles over millions of calls cost 8 bytes a value. */
export class FloatSeries implements SampleSeries {
  private values: Float64Array;
  private size = 0;

  constructor(initialCapacity = 1024) {
    this.values = new Float64Array(Math.max(1, initialCapacity));
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  /** A sorted copy; the series itself keeps arrival order and can keep growing. */
  sortedCopy(): Float64Array {
    return this.values.slice(0, this.size).sort();
  }
}
