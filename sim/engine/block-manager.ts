import { invariant } from "../../src/core/errors.ts";
import { BlockKeyTable } from "./block-key-table.ts";
import type { KvTiers } from "./tiers.ts";

const NO_KEY = -1;
const NONE = -1;

/** Paged KV blocks with prefix caching, as in vLLM V1's KV cache manager: blocks have reference
 *  counts; a block whose count drops to zero joins the tail of a free queue but keeps its content
 *  key, so a later request with the same prefix can take it back (a hit); allocation takes blocks
 *  from the head of the free queue (least recently freed first), evicting their cached content —
 *  into the lower KV tiers, when there are any.
 *
 *  The capacity can change (`resize`, as kvcached's elastic KV does): block ids live in arrays of a
 *  physical size that only grows; blocks beyond the capacity are parked, outside the free queue. */
export class BlockManager {
  private refCount: Int32Array;
  private blockKey: Float64Array;
  private prev: Int32Array;
  private next: Int32Array;
  private head = NONE;
  private tail = NONE;
  private free: number;
  private capacity: number;
  /** Block ids outside the capacity (parked by a shrink), reused first when growing. */
  private readonly parked: number[] = [];
  /** Content key → the block caching it (unboxed keys: see block-key-table.ts). */
  private readonly cached: BlockKeyTable;
  /** Lower tiers that receive evicted keys; undefined = none (evicted content is lost). */
  tiers: KvTiers | undefined = undefined;

  constructor(numBlocks: number) {
    invariant(numBlocks > 0, "numBlocks must be positive");
    this.refCount = new Int32Array(numBlocks);
    this.blockKey = new Float64Array(numBlocks).fill(NO_KEY);
    this.prev = new Int32Array(numBlocks);
    this.next = new Int32Array(numBlocks);
    this.free = 0;
    this.capacity = numBlocks;
    // Grown as content is cached, so its memory follows the keys held (a run with prefix caching
    // off, or many instances that share little, keeps it small).
    this.cached = new BlockKeyTable();
    for (let b = 0; b < numBlocks; b++) this.appendFree(b);
  }

  /** Blocks in the cache now (changes with `resize`). */
  get numBlocks(): number {
    return this.capacity;
  }

  /** Blocks not held by any request (cached-but-free blocks count as free, as in vLLM). */
  get freeBlocks(): number {
    return this.free;
  }

  get usedBlocks(): number {
    return this.numBlocks - this.free;
  }

  get cachedBlocks(): number {
    return this.cached.size;
  }

  /** The block holding content `key`, if cached. */
  lookup(key: number): number | undefined {
    const block = this.cached.get(key);
    return block >= 0 ? block : undefined;
  }

  isFree(block: number): boolean {
    return this.refCount[block] === 0;
  }

  /** Takes a reference on a cached block found by `lookup` (removing it from the free queue). */
  touch(block: number): void {
    if (this.refCount[block] === 0) this.unlinkFree(block);
    this.refCount[block]++;
  }

  /** Appends `count` fresh blocks to `into`; the caller has checked `freeBlocks >= count`. */
  allocate(count: number, into: number[]): void {
    if (count > this.free) throw new Error(`invariant violated: allocating ${count} blocks with ${this.free} free`);
    for (let i = 0; i < count; i++) {
      const block = this.head;
      this.unlinkFree(block);
      const key = this.blockKey[block];
      if (key !== NO_KEY) {
        this.cached.delete(key);
        this.blockKey[block] = NO_KEY;
        if (this.tiers !== undefined) this.tiers.evicted(block, key);
      }
      this.refCount[block] = 1;
      into.push(block);
    }
  }

  /** Drops one reference on each block. Freed in reverse, so a request's tail blocks (least likely
   *  to be shared) sit nearer the head of the free queue and are evicted first. */
  release(blocks: readonly number[]): void {
    for (let i = blocks.length - 1; i >= 0; i--) {
      const block = blocks[i];
      if (this.refCount[block] <= 0) throw new Error(`invariant violated: double free of block ${block}`);
      if (--this.refCount[block] === 0) this.appendFree(block);
    }
  }

  /** Records that `block` (held, full) now holds content `key`. If another block already holds the
   *  same content (computed concurrently), this one stays uncached, as in vLLM. */
  register(block: number, key: number): void {
    if (this.blockKey[block] !== NO_KEY || this.cached.has(key)) return;
    this.blockKey[block] = key;
    this.cached.set(key, block);
    if (this.tiers !== undefined) this.tiers.promoted(key);
  }

  /** Drops the content key of a held block whose content will not be computed after all. */
  unregister(block: number): void {
    const key = this.blockKey[block];
    if (key === NO_KEY) return;
    if (this.cached.get(key) === block) this.cached.delete(key);
    this.blockKey[block] = NO_KEY;
  }

  /** Changes the capacity to `target` blocks, or as close as it can: growing adds free blocks;
   *  shrinking removes free blocks from the head of the free queue (least recently used first),
   *  evicting their cached content (into the lower tiers, if any; dropped when `discard`), and never
   *  goes below the blocks held. Returns the capacity reached. */
  resize(target: number, discard = false): number {
    invariant(Number.isInteger(target) && target >= 0, `resize: expected a block count, got ${target}`);
    if (target > this.capacity) {
      const grow = target - this.capacity;
      const reuse = Math.min(grow, this.parked.length);
      const fresh = grow - reuse;
      if (fresh > 0) this.extend(this.refCount.length + fresh);
      // Parked ids first (most recently parked first), then the new ids in order.
      for (let i = 0; i < reuse; i++) this.appendFree(this.parked.pop()!);
      for (let b = this.refCount.length - fresh; b < this.refCount.length; b++) this.appendFree(b);
      this.capacity = target;
    } else {
      while (this.capacity > target && this.free > 0) {
        const block = this.head;
        this.unlinkFree(block);
        const key = this.blockKey[block];
        if (key !== NO_KEY) {
          this.cached.delete(key);
          this.blockKey[block] = NO_KEY;
          if (this.tiers !== undefined) {
            if (discard) this.tiers.inflight.delete(block);
            else this.tiers.evicted(block, key);
          }
        }
        this.parked.push(block);
        this.capacity--;
      }
    }
    return this.capacity;
  }

  /** Grows the physical arrays to `size` block ids (new ids are not yet in the free queue). */
  private extend(size: number): void {
    const grow = <A extends Int32Array | Float64Array>(old: A, made: A): A => {
      made.set(old);
      return made;
    };
    const old = this.refCount.length;
    this.refCount = grow(this.refCount, new Int32Array(size));
    this.blockKey = grow(this.blockKey, new Float64Array(size));
    this.blockKey.fill(NO_KEY, old);
    this.prev = grow(this.prev, new Int32Array(size));
    this.next = grow(this.next, new Int32Array(size));
  }

  private appendFree(block: number): void {
    this.prev[block] = this.tail;
    this.next[block] = NONE;
    if (this.tail === NONE) this.head = block;
    else this.next[this.tail] = block;
    this.tail = block;
    this.free++;
  }

  private unlinkFree(block: number): void {
    const p = this.prev[block];
    const n = this.next[block];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.free--;
  }
}
