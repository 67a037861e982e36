import { invariant } from "../../src/core/errors.ts";
import { RankedQueue } from "../../src/core/ranked-queue.ts";
import type { InstanceSnapshot, LlmCall } from "../../src/core/types.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, resetBatchShape, type BatchShape, type LatencyModel } from "../../src/model/latency-model.ts";
import { BlockManager } from "./block-manager.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import { EngineRequest } from "./request.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";
import { KvTiers, TIER_CPU, type TIER_DISK, TIER_NONE } from "./tiers.ts";

/** Where an engine reports what its requests did. Called synchronously during `enqueue` and
 *  `finishStep`. */
export interface EngineListener {
  firstToken(at_s: number, request: EngineRequest): void;
  /** `count` later tokens sampled at `at_s`, each `gap_s` after its request's previous token. A step
   *  reports its decode tokens in one call per distinct gap (usually one: the step's own span). */
  tokenGaps(at_s: number, gap_s: number, count: number): void;
  finished(at_s: number, request: EngineRequest): void;
  rejected(at_s: number, request: EngineRequest, reason: string): void;
}

/** Totals over the engine's life, for reports and invariant checks. */
export interface EngineStats {
  steps: number;
  busy_s: number;
  prefix_queried_tokens: number;
  /** Prefix-cache hits of every tier: gpu_hit_tokens + cpu_hit_tokens + disk_hit_tokens. */
  prefix_hit_tokens: number;
  /** Hits on blocks resident on the GPU (including prefetched blocks whose transfer is done). */
  gpu_hit_tokens: number;
  /** Hits swapped in from the CPU tier (or prefetched from it and still in flight). */
  cpu_hit_tokens: number;
  /** Hits swapped in from the disk tier (or prefetched from it and still in flight). */
  disk_hit_tokens: number;
  /** Seconds steps waited for KV transfers (swap-ins and unfinished prefetches), in busy_s too. */
  swap_wait_s: number;
  preemptions: number;
  peak_used_blocks: number;
  finished: number;
  rejected: number;
}

/** Rejection reasons are short stable codes, so reports can count them. */
export const REJECT_TOO_LONG = "exceeds_max_model_len";
export const REJECT_KV_CAPACITY = "exceeds_kv_capacity";
export const REJECT_QUEUE_FULL = "queue_full";

interface Waiting {
  readonly seq: number;
  /** Its rank in the waiting queue (kept so that a prefix-aware pick can put it back unchanged). */
  readonly rank: number;
  readonly request: EngineRequest;
}

/** What `Engine.prefetch` started moving. */
export interface PrefetchResult {
  /** Leading prefix blocks already on the GPU (nothing to move). */
  gpu_blocks: number;
  /** Blocks now moving up from the CPU tier, and from the disk tier. */
  cpu_blocks: number;
  disk_blocks: number;
  /** When the last of them is on the GPU (the call time when nothing moves). */
  ready_s: number;
}

/** One vLLM-like instance with V1 scheduling semantics: each step spends a token budget on the
 *  running requests first (a decode token each, or their next prefill chunk), then admits waiting
 *  requests in queue order, chunking a prefill that does not fit; KV lives in paged blocks with
 *  prefix caching; when a block cannot be allocated, the newest (or lowest-priority) running
 *  request is preempted and recomputed later. Time is supplied by the host; a step's duration comes
 *  from the latency model, plus any wait for KV transfers from the CPU/disk tiers.
 *
 *  Optional features (docs/engine.md): CPU and disk KV tiers with swap-in and `prefetch`,
 *  prefix-aware reordering of the waiting queue, and elastic capacity (`resize`, `sleep`, `wake`). */
export class Engine {
  readonly blocks: BlockManager;
  /** The CPU/disk tiers; undefined when both are off or prefix caching is off. */
  readonly tiers: KvTiers | undefined;
  private readonly waiting = new RankedQueue<Waiting>();
  private running: EngineRequest[] = [];
  private scheduled: EngineRequest[] = [];
  private stepping = false;
  private stepStarted_s = 0;
  private previousStepEnd_s = NaN;
  private seq = 0;
  private preemptSerial = 0;
  private readonly shape: BatchShape = emptyBatchShape();
  /** The prefix lookup's result: a GPU block id per hit, or -TIER_CPU / -TIER_DISK for a lower-tier hit. */
  private readonly hitBlocks: number[] = [];
  private readonly freshBlocks: number[] = [];
  private readonly windowScratch: Waiting[] = [];
  /** The engine's one host↔GPU link is busy with transfers until then (transfers queue on it). */
  private linkFree_s = 0;
  /** The step being planned cannot compute before this time (its KV transfers). */
  private stepReady_s = 0;
  private sleeping = false;
  private blocksBeforeSleep = 0;
  readonly stats: EngineStats = {
    steps: 0,
    busy_s: 0,
    prefix_queried_tokens: 0,
    prefix_hit_tokens: 0,
    gpu_hit_tokens: 0,
    cpu_hit_tokens: 0,
    disk_hit_tokens: 0,
    swap_wait_s: 0,
    preemptions: 0,
    peak_used_blocks: 0,
    finished: 0,
    rejected: 0,
  };

  constructor(
    readonly id: string,
    readonly config: EngineConfig,
    readonly max_model_len: number,
    num_gpu_blocks: number,
    private readonly latency: LatencyModel,
    private readonly listener: EngineListener,
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

  /** KV capacity in tokens now (changes with resize, sleep and wake). */
  get capacity_tokens(): number {
    return this.blocks.numBlocks * this.config.block_size;
  }

  /** True between `sleep` and `wake`: no KV cache, no capacity; enqueueing is an error. */
  get asleep(): boolean {
    return this.sleeping;
  }

  get runningCount(): number {
    return this.running.length;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** True while a step is in progress (between startStep and finishStep). */
  get busy(): boolean {
    return this.stepping;
  }

  get hasWork(): boolean {
    return this.running.length > 0 || this.waiting.size > 0;
  }

  get kvUsage(): number {
    const capacity = this.blocks.numBlocks;
    return capacity > 0 ? this.blocks.usedBlocks / capacity : 0;
  }

  /** Accepts a call into the waiting queue, or rejects it at once (as vLLM's API server would). */
  enqueue(at_s: number, call: LlmCall, priority: number, identity: TokenIdentity): EngineRequest {
    if (this.sleeping) throw new Error(`invariant violated: engine ${this.id}: call ${call.id} enqueued while asleep (wake it first)`);
    const request = new EngineRequest(call, priority, this.seq++, identity, Math.floor(identity.sharable_tokens / this.config.block_size));
    const total = call.prompt_tokens + call.output_tokens;
    if (total > this.max_model_len) {
      this.reject(at_s, request, REJECT_TOO_LONG);
    } else if (Math.ceil(total / this.config.block_size) > this.blocks.numBlocks) {
      this.reject(at_s, request, REJECT_KV_CAPACITY);
    } else if (this.config.max_waiting !== undefined && this.waiting.size >= this.config.max_waiting) {
      this.reject(at_s, request, REJECT_QUEUE_FULL);
    } else {
      const rank = this.waitingRank(request);
      this.waiting.push({ seq: request.seq, rank, request }, rank);
    }
    return request;
  }

  /** Plans the next step at `at_s`; returns its duration, or undefined when there is nothing to run. */
  startStep(at_s: number): number | undefined {
    if (this.stepping) throw new Error(`invariant violated: engine ${this.id}: step started twice`);
    const shape = this.shape;
    resetBatchShape(shape);
    const scheduled = this.scheduled;
    scheduled.length = 0;
    let budget = this.config.max_num_batched_tokens;
    const blockSize = this.config.block_size;
    let preempted = false;
    this.stepReady_s = at_s;

    // 1. Running requests, in order; allocation failures preempt from the back.
    for (let i = 0; i < this.running.length && budget > 0; ) {
      const request = this.running[i];
      const tokens = Math.min(request.total_tokens - request.computed_tokens, budget);
      const needed = Math.ceil((request.computed_tokens + tokens) / blockSize) - request.blocks.length;
      let self = false;
      while (needed > this.blocks.freeBlocks) {
        const victim = this.pickVictim();
        const victimIndex = this.running.indexOf(victim);
        if (victim.scheduled_tokens > 0) {
          // Priority mode can preempt a request already planned for this step: take it back out.
          budget += victim.scheduled_tokens;
          addToShape(shape, victim, -1);
          victim.scheduled_tokens = 0;
          scheduled.splice(scheduled.indexOf(victim), 1);
        }
        this.preempt(victim);
        preempted = true;
        if (victimIndex < i) i--;
        if (victim === request) {
          self = true;
          break;
        }
      }
      if (self) continue; // `request` left the running list; index i now holds the next one
      if (needed > 0) this.blocks.allocate(needed, request.blocks);
      this.schedule(request, tokens);
      budget -= tokens;
      i++;
    }

    // 2. Waiting requests in queue order (or, with a reorder window, the longest cached prefix among
    //    the first few), unless this step already had to preempt.
    const window = this.config.enable_prefix_caching ? this.config.waiting_reorder_window : 0;
    while (!preempted && budget > 0 && this.running.length < this.config.max_num_seqs && this.waiting.size > 0) {
      let request: EngineRequest;
      if (window > 1 && this.waiting.size > 1) {
        const entry = this.takeLongestPrefix(window);
        request = entry.request;
        if (!this.admit(request, budget, at_s)) {
          this.waiting.push(entry, entry.rank);
          break;
        }
      } else {
        request = this.waiting.peek()!.request;
        if (!this.admit(request, budget, at_s)) break;
        this.waiting.pop();
      }
      this.running.push(request);
      const tokens = Math.min(request.total_tokens - request.computed_tokens, budget);
      this.schedule(request, tokens);
      budget -= tokens;
    }

    if (scheduled.length === 0) return undefined;
    const used = this.blocks.usedBlocks;
    if (used > this.stats.peak_used_blocks) this.stats.peak_used_blocks = used;
    this.stepping = true;
    this.stepStarted_s = at_s;
    this.stats.steps++;
    const compute_s = this.latency.stepTime_s(shape);
    const wait_s = this.stepReady_s - at_s;
    if (wait_s > 0) {
      this.stats.swap_wait_s += wait_s;
      return compute_s + wait_s;
    }
    return compute_s;
  }

  /** Applies the step planned by `startStep`: KV computed, tokens sampled, finished requests freed. */
  finishStep(at_s: number): void {
    if (!this.stepping) throw new Error(`invariant violated: engine ${this.id}: finishStep without a step`);
    this.stepping = false;
    this.stats.busy_s += at_s - this.stepStarted_s;
    let anyFinished = false;
    // Requests that also got a token at the previous step's end share one gap: count them.
    let continuing = 0;
    const previousEnd_s = this.previousStepEnd_s;
    const scheduled = this.scheduled;
    for (let i = 0; i < scheduled.length; i++) {
      const request = scheduled[i];
      request.computed_tokens += request.scheduled_tokens;
      request.scheduled_tokens = 0;
      if (request.computed_tokens < request.total_tokens) continue; // prefill chunk, no token yet
      request.output_done++;
      request.total_tokens++;
      if (!request.first_token_sent) {
        request.first_token_sent = true;
        this.listener.firstToken(at_s, request);
      } else if (request.last_token_s === previousEnd_s) {
        continuing++;
      } else {
        this.listener.tokenGaps(at_s, at_s - request.last_token_s, 1);
      }
      request.last_token_s = at_s;
      if (request.output_done >= request.target_output_tokens) {
        this.blocks.release(request.blocks);
        request.blocks.length = 0;
        request.computed_tokens = -1; // marks it finished for the compaction below
        anyFinished = true;
        this.stats.finished++;
        this.listener.finished(at_s, request);
      }
    }
    if (continuing > 0) this.listener.tokenGaps(at_s, at_s - previousEnd_s, continuing);
    this.previousStepEnd_s = at_s;
    if (anyFinished) removeFinished(this.running);
    scheduled.length = 0;
  }

  /** What a router scraping this instance's /metrics would see now. */
  snapshot(at_s: number): InstanceSnapshot {
    return {
      instance: this.id,
      at_s,
      running: this.running.length,
      waiting: this.waiting.size,
      kv_usage: this.kvUsage,
      prefix_queried_tokens: this.stats.prefix_queried_tokens,
      prefix_hit_tokens: this.stats.prefix_hit_tokens,
      gpu_hit_tokens: this.stats.gpu_hit_tokens,
      cpu_hit_tokens: this.stats.cpu_hit_tokens,
      disk_hit_tokens: this.stats.disk_hit_tokens,
      preemptions: this.stats.preemptions,
      awake: !this.sleeping,
      kv_capacity_tokens: this.capacity_tokens,
    };
  }

  /** How long before a call's release a prefetch should start: the time to move its whole
   *  shareable prefix over the slowest configured tier's link, plus a fifth for slack. 0 without tiers. */
  prefetchLead_s(call: LlmCall, identity: TokenIdentity): number {
    if (this.tiers === undefined) return 0;
    const blocks = Math.min(Math.floor(identity.sharable_tokens / this.config.block_size), Math.floor((call.prompt_tokens - 1) / this.config.block_size));
    const bandwidth = this.config.disk_kv_blocks > 0 ? this.config.disk_bandwidth_bytes_per_s : this.config.cpu_bandwidth_bytes_per_s;
    return (1.2 * blocks * this.config.kv_block_bytes) / bandwidth;
  }

  /** Starts moving the CPU/disk-resident blocks of `call`'s cached prefix up to the GPU ahead of its
   *  admission (the orchestrator knows the call is next). Walks the prefix in order — GPU-resident
   *  blocks are kept, lower-tier blocks are moved, the walk stops at the first block cached nowhere —
   *  taking at most the free blocks (evicting the least recently used cached ones, as any allocation
   *  does). Moved blocks are GPU-cached at once (free, findable, evictable) but their KV arrives one
   *  by one over the engine's host link, after the transfers already queued on it; a request that
   *  uses a block before it arrives waits for it in its step. No-op without tiers, or asleep. */
  prefetch(at_s: number, call: LlmCall, identity: TokenIdentity): PrefetchResult {
    const result: PrefetchResult = { gpu_blocks: 0, cpu_blocks: 0, disk_blocks: 0, ready_s: at_s };
    const tiers = this.tiers;
    if (tiers === undefined || this.sleeping) return result;
    const blockSize = this.config.block_size;
    const maxBlocks = Math.min(Math.floor(identity.sharable_tokens / blockSize), Math.floor((call.prompt_tokens - 1) / blockSize));
    const held: number[] = [];
    const moving: number[] = []; // positions in `held` of blocks to move, with their tier and key
    const movingTier: number[] = [];
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
        const tier = movingTier[i] as typeof TIER_CPU | typeof TIER_DISK;
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

  /** Changes the KV capacity (kvcached-style elastic KV): growing adds free blocks; shrinking
   *  removes free blocks, least recently used first, evicting their cached content (into the lower
   *  tiers, if any). Never goes below the blocks held now, nor below what the largest request in the
   *  engine needs to finish (so nothing in it becomes unservable), nor below 1. Returns the capacity
   *  reached, in blocks. Calls enqueued later that need more than the capacity are rejected
   *  (`exceeds_kv_capacity`). Not while asleep: use `wake`. */
  resize(num_blocks: number): number {
    if (this.sleeping) throw new Error(`invariant violated: engine ${this.id}: resize while asleep (wake it instead)`);
    invariant(Number.isInteger(num_blocks) && num_blocks >= 0, `engine ${this.id}: resize to ${num_blocks} blocks: expected a block count`);
    return this.blocks.resize(Math.max(num_blocks, this.minimumBlocks()));
  }

  /** vLLM sleep mode (level 1): only when idle (no running or waiting request; false otherwise).
   *  Discards the whole GPU KV cache (cached blocks are not moved to the lower tiers; the CPU and
   *  disk tiers, in host memory, keep their content) and releases every block: capacity 0. */
  sleep(): boolean {
    if (this.sleeping) return true;
    if (this.hasWork || this.stepping) return false;
    this.blocksBeforeSleep = this.blocks.numBlocks;
    this.blocks.resize(0, true);
    this.tiers?.clearInflight();
    this.sleeping = true;
    return true;
  }

  /** Ends sleep with a capacity of `num_blocks` (default: the capacity before sleeping), with an
   *  empty GPU KV cache; returns the capacity. A no-op on an awake engine. */
  wake(num_blocks: number = this.blocksBeforeSleep): number {
    if (!this.sleeping) return this.blocks.numBlocks;
    invariant(Number.isInteger(num_blocks) && num_blocks >= 1, `engine ${this.id}: wake with ${num_blocks} blocks: expected at least 1`);
    this.sleeping = false;
    return this.blocks.resize(num_blocks);
  }

  /** Drops a request whose client went away (vLLM's abort): a running request's blocks are freed
   *  (their cached content stays findable, as after finishing), a waiting one leaves the queue. No
   *  listener call. Not during a step (call it between finishStep and startStep). Returns false
   *  when the engine does not hold the request (finished, rejected, or never enqueued). */
  abort(requestId: string): boolean {
    if (this.stepping) throw new Error(`invariant violated: engine ${this.id}: abort of ${requestId} during a step`);
    const index = this.running.findIndex((r) => r.id === requestId);
    if (index >= 0) {
      const request = this.running[index];
      this.running.splice(index, 1);
      this.blocks.release(request.blocks);
      request.blocks.length = 0;
      return true;
    }
    return this.waiting.removeWhere((entry) => entry.request.id === requestId).length > 0;
  }

  private reject(at_s: number, request: EngineRequest, reason: string): void {
    this.stats.rejected++;
    this.listener.rejected(at_s, request, reason);
  }

  private waitingRank(request: EngineRequest): number {
    return this.config.scheduling_policy === "priority" ? request.priority : 0;
  }

  /** Plans `tokens` for the request in this step. Like vLLM V1's allocate_slots, the full blocks
   *  those tokens complete are cached at once, so a request admitted later in the same step can
   *  already reuse them (its attention reads KV written earlier in the same forward pass). */
  private schedule(request: EngineRequest, tokens: number): void {
    request.scheduled_tokens = tokens;
    this.scheduled.push(request);
    addToShape(this.shape, request, 1);
    if (this.config.enable_prefix_caching && request.registered_blocks < request.sharable_blocks) {
      this.registerBlocksUpTo(request, request.computed_tokens + tokens, request.sharable_blocks);
    }
  }

  /** Walks the request's cached prefix into `hitBlocks` (GPU block ids, or -TIER_CPU / -TIER_DISK
   *  for lower-tier hits) and returns the number of lower-tier hits. Changes nothing. */
  private lookupPrefix(request: EngineRequest): number {
    const hits = this.hitBlocks;
    hits.length = 0;
    const lookupBlocks = request.preemptions > 0 ? Infinity : request.sharable_blocks;
    if (!this.config.enable_prefix_caching || lookupBlocks <= 0) return 0;
    const blockSize = this.config.block_size;
    const tiers = this.tiers;
    let lower = 0;
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
      lower++;
    }
    return lower;
  }

  /** Pops the first `window` waiting requests and takes the one with the longest cached prefix (any
   *  tier; ties keep queue order) out of the queue; the others go back unchanged. */
  private takeLongestPrefix(window: number): Waiting {
    const candidates = this.windowScratch;
    candidates.length = 0;
    const count = Math.min(window, this.waiting.size);
    for (let i = 0; i < count; i++) candidates.push(this.waiting.pop()!);
    let best = 0;
    let bestBlocks = -1;
    for (let i = 0; i < count; i++) {
      this.lookupPrefix(candidates[i].request);
      if (this.hitBlocks.length > bestBlocks) {
        best = i;
        bestBlocks = this.hitBlocks.length;
      }
    }
    for (let i = 0; i < count; i++) if (i !== best) this.waiting.push(candidates[i], candidates[i].rank);
    const chosen = candidates[best];
    candidates.length = 0;
    return chosen;
  }

  /** Finds the request's cached prefix and reserves blocks for its first chunk; false if they do
   *  not fit now (the request stays waiting, and so does everything behind it). Lower-tier hits are
   *  swapped in: each gets a GPU block now, and the step waits for their transfer. */
  private admit(request: EngineRequest, budget: number, at_s: number): boolean {
    const blockSize = this.config.block_size;
    const total = request.total_tokens;
    const hits = this.hitBlocks;
    const lower = this.lookupPrefix(request);
    const hitTokens = hits.length * blockSize;
    let tokens = total - hitTokens;
    if (!this.config.enable_chunked_prefill && tokens > budget) return false;
    tokens = Math.min(tokens, budget);
    const needed = Math.ceil((hitTokens + tokens) / blockSize) - hits.length;
    let evictableHits = 0;
    for (let i = 0; i < hits.length; i++) if (hits[i] >= 0 && this.blocks.isFree(hits[i])) evictableHits++;
    if (needed + lower + evictableHits > this.blocks.freeBlocks) return false;
    if (this.tiers === undefined) {
      for (let i = 0; i < hits.length; i++) {
        this.blocks.touch(hits[i]);
        request.blocks.push(hits[i]);
      }
      this.blocks.allocate(needed, request.blocks);
      this.stats.gpu_hit_tokens += hitTokens;
    } else {
      this.placeTieredHits(request, needed, lower, at_s);
    }
    request.computed_tokens = hitTokens;
    request.registered_blocks = hits.length;
    this.stats.prefix_queried_tokens += total;
    this.stats.prefix_hit_tokens += hitTokens;
    if (!request.admitted_once) {
      request.admitted_once = true;
      request.cached_tokens = Math.min(hitTokens, request.call.prompt_tokens);
    }
    return true;
  }

  /** Admission with tiers: takes the GPU hits, swaps the lower-tier hits in (a fresh GPU block each,
   *  registered under its key; the transfer queues on the host link and the step waits for it),
   *  allocates `needed` more blocks, and counts hits per tier. A GPU hit on a prefetched block still
   *  in flight counts for the tier it comes from, and the step waits for it too. */
  private placeTieredHits(request: EngineRequest, needed: number, lower: number, at_s: number): void {
    const tiers = this.tiers!;
    const hits = this.hitBlocks;
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
    this.stats.gpu_hit_tokens += gpu * blockSize;
    this.stats.cpu_hit_tokens += cpu * blockSize;
    this.stats.disk_hit_tokens += disk * blockSize;
  }

  /** The capacity `resize` may not go below: the largest request in the engine must still fit. */
  private minimumBlocks(): number {
    const blockSize = this.config.block_size;
    let most = 1;
    const need = (request: EngineRequest) =>
      Math.ceil((request.call.prompt_tokens + request.target_output_tokens) / blockSize);
    for (const request of this.running) most = Math.max(most, need(request));
    // The queue has no iterator; a removal that removes nothing visits every entry, order unchanged.
    this.waiting.removeWhere((entry) => {
      most = Math.max(most, need(entry.request));
      return false;
    });
    return most;
  }

  /** Registers the request's computed full blocks, up to `limit` blocks, in the prefix cache. */
  /** Registers the request's full blocks holding its first `tokens` tokens, up to `limit` blocks. */
  private registerBlocksUpTo(request: EngineRequest, tokens: number, limit: number): void {
    const blockSize = this.config.block_size;
    const full = Math.min(Math.floor(tokens / blockSize), limit);
    for (let b = request.registered_blocks; b < full; b++) {
      this.blocks.register(request.blocks[b], request.identity.blockKey(b, blockSize));
    }
    if (full > request.registered_blocks) request.registered_blocks = full;
  }

  /** FCFS preempts the newest running request; priority mode the lowest-priority, newest one. */
  private pickVictim(): EngineRequest {
    if (this.config.scheduling_policy !== "priority") return this.running[this.running.length - 1];
    let victim = this.running[0];
    for (const r of this.running) {
      if (r.priority > victim.priority || (r.priority === victim.priority && r.seq > victim.seq)) victim = r;
    }
    return victim;
  }

  /** Recompute preemption: free the request's blocks (kept in the prefix cache, so its own prefix
   *  can hit when it returns) and put it at the front of the waiting queue. */
  private preempt(request: EngineRequest): void {
    const index = this.running.lastIndexOf(request);
    this.running.splice(index, 1);
    if (this.config.enable_prefix_caching) {
      // Blocks registered for tokens this step will no longer compute (a request taken back out of
      // the step in priority mode) hold no valid content: forget them.
      const valid = Math.floor(request.computed_tokens / this.config.block_size);
      for (let b = valid; b < request.registered_blocks; b++) this.blocks.unregister(request.blocks[b]);
      if (request.registered_blocks > valid) request.registered_blocks = valid;
      // Its computed blocks stay findable, so the recompute can hit them if they are not evicted first.
      this.registerBlocksUpTo(request, request.computed_tokens, Infinity);
    }
    this.blocks.release(request.blocks);
    request.blocks.length = 0;
    request.computed_tokens = 0;
    request.registered_blocks = 0;
    request.preemptions++;
    this.stats.preemptions++;
    const rank = this.config.scheduling_policy === "priority" ? request.priority : -++this.preemptSerial;
    this.waiting.push({ seq: request.seq, rank, request }, rank);
  }
}

/** Drops finished requests (marked computed_tokens = -1) from `running` in place, keeping order. */
function removeFinished(running: EngineRequest[]): void {
  let kept = 0;
  for (let i = 0; i < running.length; i++) {
    const request = running[i];
    if (request.computed_tokens >= 0) running[kept++] = request;
  }
  running.length = kept;
}

/** Adds (sign 1) or takes back (sign −1) one scheduled request's share of the step's shape: a
 *  decode token, or a prefill chunk. */
function addToShape(shape: BatchShape, request: EngineRequest, sign: 1 | -1): void {
  const tokens = request.scheduled_tokens;
  const before = request.computed_tokens;
  if (tokens === 1 && request.output_done > 0 && before === request.total_tokens - 1) addDecode(shape, before + 1, sign);
  else addPrefillChunk(shape, tokens, before, sign);
}
