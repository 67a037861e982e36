import { invariant } from "../../src/core/errors.ts";
import type { LlmCall } from "../../src/core/types.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";
import { BlockManager } from "./block-manager.ts";
import type { EngineRequest } from "./request.ts";
import { KvTiers, TIER_CPU, TIER_NONE, type LowerTier } from "./tiers.ts";

/** Prefix-cache hits by the tier they came from, in tokens (the engine's stats carry them). */
export interface TierHitCounters {
  gpu_hit_tokens: number;
  cpu_hit_tokens: number;
  disk_hit_tokens: number;
}

/** The cached prefix `computedBlocks` found for a request: what `allocateSlots` then takes. One
 *  object per manager, overwritten by the next `computedBlocks` (the hot path allocates nothing). */
export interface ComputedPrefix {
  readonly request: EngineRequest | undefined;
  /** Leading blocks cached in any tier. */
  readonly blocks: number;
}

/** What `prefetch` started moving. */
export interface PrefetchResult {
  /** Leading prefix blocks already on the GPU (nothing to move). */
  gpu_blocks: number;
  /** Blocks now moving up from the CPU tier, and from the disk tier. */
  cpu_blocks: number;
  disk_blocks: number;
  /** When the last of them is on the GPU (the call time when nothing moves). */
  ready_s: number;
}

class FoundPrefix implements ComputedPrefix {
  request: EngineRequest | undefined = undefined;
  /** A GPU block id per hit, or -TIER_CPU / -TIER_DISK for a lower-tier hit. */
  readonly hits: number[] = [];
  /** How many of the hits are in a lower tier. */
  lower = 0;

  get blocks(): number {
    return this.hits.length;
  }
}

/** The engine's KV cache, as vLLM V1's KVCacheManager: paged GPU blocks with the prefix cache, the
 *  CPU/disk tiers below it, and the host↔GPU link their transfers queue on. The scheduler asks it
 *  for a request's cached prefix (`computedBlocks`), for room for the tokens it plans
 *  (`allocateSlots`), and gives blocks back (`free`, `freePreempted`); it never touches a block. */
export class KvCacheManager {
  /** The GPU blocks (read for reports and tests; the scheduler goes through the verbs). */
  readonly blocks: BlockManager;
  /** The CPU/disk tiers; undefined when both are off or prefix caching is off. */
  readonly tiers: KvTiers | undefined;
  private readonly found = new FoundPrefix();
  private readonly freshBlocks: number[] = [];
  /** The host↔GPU link is busy with transfers until then (transfers queue on it). */
  private linkFree_s = 0;
  private stepStart_s = 0;
  private stepReady_s = 0;

  constructor(
    private readonly config: EngineConfig,
    num_gpu_blocks: number,
    private readonly hitCounters: TierHitCounters,
  ) {
    this.blocks = new BlockManager(num_gpu_blocks);
    const cpu = config.cpu_kv_blocks ?? 0;
    const disk = config.disk_kv_blocks ?? 0;
    if (config.enable_prefix_caching && (cpu > 0 || disk > 0)) {
      invariant(config.cpu_bandwidth_bytes_per_s > 0 && config.disk_bandwidth_bytes_per_s > 0, "KV tier bandwidths must be positive");
      invariant(config.kv_block_bytes > 0, "kv_block_bytes must be positive");
      this.tiers = new KvTiers(cpu, disk);
      this.blocks.tiers = this.tiers;
    }
  }

  /** GPU blocks now (changes with resize, sleep and wake). */
  get capacityBlocks(): number {
    return this.blocks.numBlocks;
  }

  /** GPU blocks held by requests. */
  get usedBlocks(): number {
    return this.blocks.usedBlocks;
  }

  /** GPU blocks not held by any request (cached-but-free blocks count as free). */
  get freeBlocks(): number {
    return this.blocks.freeBlocks;
  }

  /** One more block for a decoding request whose next token starts a new block: what
   *  `allocateSlots(request, 1)` does when the request has no shareable block left to register.
   *  The caller has checked that a block is free (the decode fast-forward's allocation). */
  allocateDecodeBlock(request: EngineRequest): void {
    this.blocks.allocate(1, request.blocks);
  }

  /** The fraction of the GPU blocks held (0 with no capacity). */
  get usage(): number {
    const capacity = this.blocks.numBlocks;
    return capacity > 0 ? this.blocks.usedBlocks / capacity : 0;
  }

  /** A step is being planned at `at_s`: the transfers its admissions start are waited for from here. */
  beginStep(at_s: number): void {
    this.stepStart_s = at_s;
    this.stepReady_s = at_s;
  }

  /** When the KV transfers the step being planned waits for are done (its start when none). */
  get stepReady_at_s(): number {
    return this.stepReady_s;
  }

  /** Walks the request's cached prefix (GPU, then CPU or disk, block by block, to the first block
   *  cached nowhere) and returns it; changes nothing. A first admission looks only within its
   *  shareable prefix; a preempted request also finds the blocks it computed itself. */
  computedBlocks(request: EngineRequest): ComputedPrefix {
    const found = this.found;
    found.request = request;
    found.lower = 0;
    const hits = found.hits;
    hits.length = 0;
    const lookupBlocks = request.state === "preempted" ? Infinity : request.sharable_blocks;
    if (!this.config.enable_prefix_caching || lookupBlocks <= 0) return found;
    const blockSize = this.config.block_size;
    const tiers = this.tiers;
    // At least one token must be computed to sample from, so a full hit backs off one block.
    const maxHitBlocks = Math.min(Math.floor((request.total_tokens - 1) / blockSize), lookupBlocks);
    for (let b = 0; b < maxHitBlocks; b++) {
      const key = request.identity.blockKey(b, blockSize);
      const block = this.blocks.lookup(key);
      if (block !== undefined) {
        hits.push(block);
        continue;
      }
      if (tiers === undefined) break;
      const tier = tiers.find(key);
      if (tier === TIER_NONE) break;
      hits.push(-tier);
      found.lower++;
    }
    return found;
  }

  /** Makes room for `tokens` more of the request's tokens: false, changing nothing, when the free
   *  blocks do not suffice. With `prefix` (from `computedBlocks`, for a request holding no blocks:
   *  an admission) the prefix's blocks are taken first: GPU hits are shared, lower-tier hits are
   *  swapped in (a fresh block each; the step waits for the transfer) and the tokens come after
   *  them. Like vLLM V1's allocate_slots, the full shareable blocks those tokens complete are cached
   *  at once, so a request admitted later in the same step can already reuse them. */
  allocateSlots(request: EngineRequest, tokens: number, prefix?: ComputedPrefix): boolean {
    // Kept small (inlined into the scheduler's loop): the running requests take this path every step.
    if (prefix !== undefined) return this.allocateAfterPrefix(request, tokens, prefix);
    const computed = request.computed_tokens;
    const needed = Math.ceil((computed + tokens) / this.config.block_size) - request.blocks.length;
    if (needed > this.blocks.freeBlocks) return false;
    if (needed > 0) this.blocks.allocate(needed, request.blocks);
    if (this.config.enable_prefix_caching && request.registered_blocks < request.sharable_blocks) {
      this.registerBlocksUpTo(request, computed + tokens, request.sharable_blocks);
    }
    return true;
  }

  /** Gives back the blocks of a request that is done with them (finished or aborted); their cached
   *  content stays findable. */
  free(request: EngineRequest): void {
    this.blocks.release(request.blocks);
    request.blocks.length = 0;
  }

  /** Gives back the blocks of a request being preempted (recompute). Its computed full blocks are
   *  cached first, so its own prefix can hit when it returns; blocks cached for tokens it will no
   *  longer compute (it was taken back out of the step being planned) are forgotten. */
  freePreempted(request: EngineRequest): void {
    if (this.config.enable_prefix_caching) {
      const valid = Math.floor(request.computed_tokens / this.config.block_size);
      for (let b = valid; b < request.registered_blocks; b++) this.blocks.unregister(request.blocks[b]);
      if (request.registered_blocks > valid) request.registered_blocks = valid;
      this.registerBlocksUpTo(request, request.computed_tokens, Infinity);
    }
    this.free(request);
    request.registered_blocks = 0;
  }

  /** Changes the GPU capacity (as close to `target` as the held blocks allow); returns it. */
  resize(target: number): number {
    return this.blocks.resize(target);
  }

  /** Drops the whole GPU cache and every block (sleep): lower tiers keep their content. */
  discardAll(): void {
    this.blocks.resize(0, true);
    this.tiers?.clearInflight();
  }

  /** How long before a call's release a prefetch should start: the time to move its whole
   *  shareable prefix over the slowest configured tier's link, plus a fifth for slack. 0 without tiers. */
  prefetchLead_s(call: LlmCall, identity: TokenIdentity): number {
    if (this.tiers === undefined) return 0;
    const blocks = Math.min(Math.floor(identity.sharable_tokens / this.config.block_size), Math.floor((call.prompt_tokens - 1) / this.config.block_size));
    const bandwidth = this.config.disk_kv_blocks > 0 ? this.config.disk_bandwidth_bytes_per_s : this.config.cpu_bandwidth_bytes_per_s;
    return (1.2 * blocks * this.config.kv_block_bytes) / bandwidth;
  }

  /** Starts moving the CPU/disk-resident blocks of `call`'s cached prefix up to the GPU (see
   *  Engine.prefetch). No-op without tiers. */
  prefetch(at_s: number, call: LlmCall, identity: TokenIdentity): PrefetchResult {
    const result: PrefetchResult = { gpu_blocks: 0, cpu_blocks: 0, disk_blocks: 0, ready_s: at_s };
    const tiers = this.tiers;
    if (tiers === undefined) return result;
    const blockSize = this.config.block_size;
    const maxBlocks = Math.min(Math.floor(identity.sharable_tokens / blockSize), Math.floor((call.prompt_tokens - 1) / blockSize));
    const held: number[] = [];
    const moving: number[] = []; // positions in `held` of blocks to move, with their tier and key
    const movingTier: LowerTier[] = [];
    const movingKey: number[] = [];
    // GPU-resident blocks are referenced at once, so that the allocation below cannot evict them.
    for (let b = 0; b < maxBlocks; b++) {
      const key = identity.blockKey(b, blockSize);
      const block = this.blocks.lookup(key);
      if (block !== undefined) {
        if (this.blocks.isFree(block) && moving.length >= this.blocks.freeBlocks) break; // no room left
        this.blocks.touch(block);
        held.push(block);
        result.gpu_blocks++;
        continue;
      }
      const tier = tiers.find(key);
      if (tier === TIER_NONE || moving.length >= this.blocks.freeBlocks) break;
      moving.push(held.length);
      movingTier.push(tier);
      movingKey.push(key);
      held.push(-1);
    }
    if (moving.length > 0) {
      for (const key of movingKey) tiers.promoted(key);
      const fresh = this.freshBlocks;
      fresh.length = 0;
      this.blocks.allocate(moving.length, fresh);
      let t = Math.max(at_s, this.linkFree_s);
      const bytes = this.config.kv_block_bytes;
      for (let i = 0; i < moving.length; i++) {
        const block = fresh[i];
        held[moving[i]] = block;
        this.blocks.register(block, movingKey[i]);
        const tier = movingTier[i];
        if (tier === TIER_CPU) {
          t += bytes / this.config.cpu_bandwidth_bytes_per_s;
          result.cpu_blocks++;
        } else {
          t += bytes / this.config.disk_bandwidth_bytes_per_s;
          result.disk_blocks++;
        }
        tiers.inflight.set(block, { ready_s: t, tier });
      }
      this.linkFree_s = t;
      result.ready_s = t;
      tiers.stats.prefetched_blocks += moving.length;
    }
    // Everything goes back to the free queue's tail, the prefix's head most recent.
    this.blocks.release(held);
    return result;
  }

  /** `allocateSlots` for an admission: the prefix's blocks first, then room for `tokens` after them. */
  private allocateAfterPrefix(request: EngineRequest, tokens: number, prefix: ComputedPrefix): boolean {
    const blockSize = this.config.block_size;
    const found = this.found;
    invariant(prefix === found && found.request === request && request.blocks.length === 0, `allocateSlots: the prefix of ${request.id} is not its latest lookup`);
    const hits = found.hits;
    const computed = hits.length * blockSize;
    const needed = Math.ceil((computed + tokens) / blockSize) - hits.length;
    let evictableHits = 0;
    for (let i = 0; i < hits.length; i++) if (hits[i] >= 0 && this.blocks.isFree(hits[i])) evictableHits++;
    if (needed + found.lower + evictableHits > this.blocks.freeBlocks) return false;
    if (this.tiers === undefined) {
      for (let i = 0; i < hits.length; i++) {
        this.blocks.touch(hits[i]);
        request.blocks.push(hits[i]);
      }
      this.blocks.allocate(needed, request.blocks);
      this.hitCounters.gpu_hit_tokens += computed;
    } else {
      this.placeTieredHits(request, needed, this.tiers);
    }
    request.registered_blocks = hits.length;
    if (this.config.enable_prefix_caching && request.registered_blocks < request.sharable_blocks) {
      this.registerBlocksUpTo(request, computed + tokens, request.sharable_blocks);
    }
    return true;
  }

  /** Admission with tiers: takes the GPU hits, swaps the lower-tier hits in (a fresh GPU block each,
   *  registered under its key; the transfer queues on the host link and the step waits for it),
   *  allocates `needed` more blocks, and counts hits per tier. A GPU hit on a prefetched block still
   *  in flight counts for the tier it comes from, and the step waits for it too. */
  private placeTieredHits(request: EngineRequest, needed: number, tiers: KvTiers): void {
    const at_s = this.stepStart_s;
    const hits = this.found.hits;
    const lower = this.found.lower;
    const blockSize = this.config.block_size;
    let gpu = 0;
    let cpu = 0;
    let disk = 0;
    let ready = this.stepReady_s;
    // GPU hits first, out of the free queue, so that the allocation below cannot evict them.
    for (let i = 0; i < hits.length; i++) {
      const block = hits[i];
      if (block < 0) continue;
      this.blocks.touch(block);
      if (tiers.inflight.size > 0) {
        const moving = tiers.inflight.get(block);
        if (moving !== undefined) {
          if (moving.ready_s > at_s) {
            if (moving.ready_s > ready) ready = moving.ready_s;
            if (moving.tier === TIER_CPU) cpu++;
            else disk++;
            continue;
          }
          tiers.inflight.delete(block); // arrived: an ordinary GPU block from now on
        }
      }
      gpu++;
    }
    const fresh = this.freshBlocks;
    fresh.length = 0;
    let swapped_s = 0;
    if (lower > 0) {
      // The swapped keys leave their tier before the allocation demotes evicted keys into it.
      const bytes = this.config.kv_block_bytes;
      for (let i = 0; i < hits.length; i++) {
        if (hits[i] >= 0) continue;
        tiers.promoted(request.identity.blockKey(i, blockSize));
        if (hits[i] === -TIER_CPU) {
          cpu++;
          swapped_s += bytes / this.config.cpu_bandwidth_bytes_per_s;
        } else {
          disk++;
          swapped_s += bytes / this.config.disk_bandwidth_bytes_per_s;
        }
      }
      tiers.stats.swapped_in_blocks += lower;
    }
    this.blocks.allocate(lower + needed, fresh);
    let next = 0;
    for (let i = 0; i < hits.length; i++) {
      if (hits[i] >= 0) {
        request.blocks.push(hits[i]);
      } else {
        const block = fresh[next++];
        this.blocks.register(block, request.identity.blockKey(i, blockSize));
        request.blocks.push(block);
      }
    }
    for (; next < fresh.length; next++) request.blocks.push(fresh[next]);
    fresh.length = 0;
    if (lower > 0) {
      this.linkFree_s = Math.max(at_s, this.linkFree_s) + swapped_s;
      if (this.linkFree_s > ready) ready = this.linkFree_s;
    }
    this.stepReady_s = ready;
    this.hitCounters.gpu_hit_tokens += gpu * blockSize;
    this.hitCounters.cpu_hit_tokens += cpu * blockSize;
    this.hitCounters.disk_hit_tokens += disk * blockSize;
  }

  /** Registers the request's full blocks holding its first `tokens` tokens, up to `limit` blocks. */
  private registerBlocksUpTo(request: EngineRequest, tokens: number, limit: number): void {
    const blockSize = this.config.block_size;
    const full = Math.min(Math.floor(tokens / blockSize), limit);
    for (let b = request.registered_blocks; b < full; b++) {
      this.blocks.register(request.blocks[b], request.identity.blockKey(b, blockSize));
    }
    if (full > request.registered_blocks) request.registered_blocks = full;
  }
}
