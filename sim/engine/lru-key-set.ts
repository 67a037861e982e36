import { BlockKeyTable } from "./block-key-table.ts";

const NONE = -1;

/** A set of block content keys in insertion order — what the KV tiers' `Set<number>` LRUs were,
 *  without boxing keys beyond the small-integer range: a BlockKeyTable maps each key to a node of
 *  a doubly linked list kept in typed arrays (freed nodes are reused). As with a Set, adding a key
 *  already present leaves it where it is. Keys: non-negative integers below 2^53. */
export class LruKeySet {
  private readonly index: BlockKeyTable;
  private keys: Float64Array;
  private prev: Int32Array;
  private next: Int32Array;
  private head = NONE;
  private tail = NONE;
  /** Unused nodes, chained through `next`. */
  private spare = NONE;
  private used = 0;

  /** `expected`: how many keys it will hold at most (it grows past that, at a cost). */
  constructor(expected = 0) {
    const nodes = Math.max(8, expected + 1);
    this.index = new BlockKeyTable(nodes);
    this.keys = new Float64Array(nodes);
    this.prev = new Int32Array(nodes);
    this.next = new Int32Array(nodes);
  }

  get size(): number {
    return this.index.size;
  }

  has(key: number): boolean {
    return this.index.get(key) !== NONE;
  }

  /** Appends `key` as the most recent, unless it is already here. */
  add(key: number): void {
    if (this.index.get(key) !== NONE) return;
    const node = this.takeNode();
    this.keys[node] = key;
    this.prev[node] = this.tail;
    this.next[node] = NONE;
    if (this.tail === NONE) this.head = node;
    else this.next[this.tail] = node;
    this.tail = node;
    this.index.set(key, node);
  }

  /** Removes `key`; false when it was not here. */
  delete(key: number): boolean {
    const node = this.index.get(key);
    if (node === NONE) return false;
    this.index.delete(key);
    const p = this.prev[node];
    const n = this.next[node];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.next[node] = this.spare;
    this.spare = node;
    return true;
  }

  /** The least recently added key; the set must not be empty. */
  oldest(): number {
    if (this.head === NONE) throw new Error("invariant violated: oldest() of an empty key set");
    return this.keys[this.head];
  }

  private takeNode(): number {
    if (this.spare !== NONE) {
      const node = this.spare;
      this.spare = this.next[node];
      return node;
    }
    if (this.used === this.keys.length) {
      const size = this.keys.length * 2;
      const keys = new Float64Array(size);
      keys.set(this.keys);
      const prev = new Int32Array(size);
      prev.set(this.prev);
      const next = new Int32Array(size);
      next.set(this.next);
      this.keys = keys;
      this.prev = prev;
      this.next = next;
    }
    return this.used++;
  }
}
