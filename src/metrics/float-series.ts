/** A growable array of doubles: one compact Float64Array per metric instead of an object per call,
 *  so exact percentiles over millions of calls cost 8 bytes a value. */
export class FloatSeries {
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
