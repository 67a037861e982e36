/** Lower KV tiers (CPU, disk) below the GPU prefix cache, as in multi-tier prefix caching (LMCache,
 *  vLLM's CPU offloading): each tier is a bounded LRU set of block content keys. Tiers are
 *  exclusive: a key lives in at most one of GPU, CPU or disk. A key evicted from the GPU moves to the
 *  CPU tier (or straight to disk when there is no CPU tier); a key pushed out of the CPU tier moves
 *  to disk; a key pushed out of disk is gone. A key that comes back to the GPU (a swap-in, a
 *  prefetch, or a recompute that registers it) leaves its lower tier. */

import { LruKeySet } from "./lru-key-set.ts";

export const TIER_NONE = 0;
export const TIER_CPU = 1;
export const TIER_DISK = 2;
export type LowerTier = typeof TIER_CPU | typeof TIER_DISK;

/** A GPU block brought in by `Engine.prefetch` whose transfer may still be in flight. */
export interface InFlight {
  /** When the block's KV is on the GPU (engine time). */
  readonly ready_s: number;
  /** Where it came from: a request that uses it before `ready_s` counts a hit of this tier. */
  readonly tier: LowerTier;
}

export interface TierStats {
  /** Keys that moved down from the GPU into a lower tier. */
  demoted_blocks: number;
  /** Keys pushed out of the last tier (lost). */
  dropped_blocks: number;
  /** Blocks brought back to the GPU by admissions (swap-ins) and prefetches. */
  swapped_in_blocks: number;
  prefetched_blocks: number;
}

const INITIAL_KEYS = 4096;

export class KvTiers {
  /** Insertion order is recency: the oldest key is the least recently used. */
  private readonly cpu: LruKeySet;
  private readonly disk: LruKeySet;
  /** GPU blocks brought in by a prefetch, until used, evicted or found ready. */
  readonly inflight = new Map<number, InFlight>();
  readonly stats: TierStats = { demoted_blocks: 0, dropped_blocks: 0, swapped_in_blocks: 0, prefetched_blocks: 0 };

  constructor(
    readonly cpuCapacity: number,
    readonly diskCapacity: number,
  ) {
    // Sized for a start only: a disk tier can be far larger than what a run ever fills.
    this.cpu = new LruKeySet(Math.min(cpuCapacity, INITIAL_KEYS));
    this.disk = new LruKeySet(Math.min(diskCapacity, INITIAL_KEYS));
  }

  get cpuBlocks(): number {
    return this.cpu.size;
  }

  get diskBlocks(): number {
    return this.disk.size;
  }

  /** Which lower tier holds `key`, or TIER_NONE. */
  find(key: number): LowerTier | typeof TIER_NONE {
    if (this.cpu.has(key)) return TIER_CPU;
    if (this.disk.has(key)) return TIER_DISK;
    return TIER_NONE;
  }

  /** The GPU evicted `block` holding `key`: the key moves down. */
  evicted(block: number, key: number): void {
    if (this.inflight.size > 0) this.inflight.delete(block);
    this.stats.demoted_blocks++;
    if (this.cpuCapacity > 0) {
      this.cpu.add(key);
      if (this.cpu.size > this.cpuCapacity) {
        const oldest = this.cpu.oldest();
        this.cpu.delete(oldest);
        this.toDisk(oldest);
      }
    } else {
      this.toDisk(key);
    }
  }

  /** `key` is on the GPU again: it leaves whichever lower tier held it. */
  promoted(key: number): void {
    if (!this.cpu.delete(key)) this.disk.delete(key);
  }

  /** Forgets the in-flight state of every GPU block (their content was dropped). */
  clearInflight(): void {
    this.inflight.clear();
  }

  private toDisk(key: number): void {
    if (this.diskCapacity > 0) {
      this.disk.add(key);
      if (this.disk.size > this.diskCapacity) {
        const oldest = this.disk.oldest();
        this.disk.delete(oldest);
        this.stats.dropped_blocks++;
      }
    } else {
      this.stats.dropped_blocks++;
    }
  }
}
