/** A hash map from prefix-cache block keys to block ids, for the KV cache's hot lookups.
 *
 *  Block keys (`chain × 2^21 + offset`, src/core/prefix-identity.ts) are integers above V8's
 *  small-integer range, so a `Map<number, number>` boxes every key it hashes into a heap number
 *  (an allocation per operation, and a slower hash). This table keeps keys unboxed in a
 *  Float64Array and values in an Int32Array: open addressing with linear probing, deletion by
 *  backward shift (no tombstones, so probe runs never degrade), doubling at half full.
 *
 *  Keys must be non-negative integers below 2^53; values are non-negative int32 (block ids).
 *  Nothing iterates it, so its slot order does not matter to anything the simulator reports. */

const EMPTY = -1;
const MIN_SLOTS = 16;

export class BlockKeyTable {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  private count = 0;

  /** `expected`: how many keys it will hold at most (it grows past that, at a cost). */
  constructor(expected = 0) {
    let slots = MIN_SLOTS;
    while (slots < expected * 2) slots *= 2;
    this.keys = new Float64Array(slots).fill(EMPTY);
    this.values = new Int32Array(slots);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored under `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY) return -1;
      i = (i + 1) & mask;
    }
  }

  has(key: number): boolean {
    return this.get(key) !== -1;
  }

  /** Stores `value` under `key` (replacing any value there). */
  set(key: number, value: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i];
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY) break;
      i = (i + 1) & mask;
    }
    keys[i] = key;
    this.values[i] = value;
    if (++this.count * 2 > keys.length) this.rehash(keys.length * 2);
  }

  /** Removes `key`; false when it was not there. */
  delete(key: number): boolean {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = slotOf(key, mask);
    for (;;) {
      const k = keys[i];
      if (k === key) break;
      if (k === EMPTY) return false;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the probe run into the hole when their home slot
    // does not lie (cyclically) between the hole and them, so every key stays reachable.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j];
      if (k === EMPTY) break;
      const home = slotOf(k, mask);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        values[hole] = values[j];
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    this.count--;
    return true;
  }

  private rehash(slots: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const keys = new Float64Array(slots).fill(EMPTY);
    const values = new Int32Array(slots);
    const mask = slots - 1;
    for (let s = 0; s < oldKeys.length; s++) {
      const k = oldKeys[s];
      if (k === EMPTY) continue;
      let i = slotOf(k, mask);
      while (keys[i] !== EMPTY) i = (i + 1) & mask;
      keys[i] = k;
      values[i] = oldValues[s];
    }
    this.keys = keys;
    this.values = values;
    this.mask = mask;
  }
}

/** The key's home slot: both 32-bit halves mixed (murmur3's finalizer), so keys that differ only
 *  in the chain id (the high bits) spread as well as keys that differ in the offset. */
function slotOf(key: number, mask: number): number {
  const lo = key >>> 0;
  const hi = ((key - lo) / 4294967296) | 0;
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}
