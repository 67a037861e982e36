import { invariant } from "../../src/core/errors.ts";
import { RankedQueue } from "../../src/core/ranked-queue.ts";
import type { InstanceSnapshot, LlmCall } from "../../src/core/types.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, resetBatchShape, type BatchShape, type LatencyModel } from "../latency/model.ts";
import { BlockManager } from "./block-manager.ts";
import type { EngineConfig } from "./config.ts";
import { EngineRequest } from "./request.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";

/** Where an engine reports what its requests did. Called synchronously during `enqueue` and
 *  `finishStep`. */
export interface EngineListener {
  firstToken(at_s: number, request: EngineRequest): void;
  tokens(at_s: number, request: EngineRequest, count: number): void;
  finished(at_s: number, request: EngineRequest): void;
  rejected(at_s: number, request: EngineRequest, reason: string): void;
}

/** Totals over the engine's life, for reports and invariant checks. */
export interface EngineStats {
  steps: number;
  busy_s: number;
  prefix_queried_tokens: number;
  prefix_hit_tokens: number;
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
  readonly request: EngineRequest;
}

/** One vLLM-like instance with V1 scheduling semantics: each step spends a token budget on the
 *  running requests first (a decode token each, or their next prefill chunk), then admits waiting
 *  requests in queue order, chunking a prefill that does not fit; KV lives in paged blocks with
 *  prefix caching; when a block cannot be allocated, the newest (or lowest-priority) running
 *  request is preempted and recomputed later. Time is supplied by the host; a step's duration comes
 *  from the latency model. */
export class Engine {
  readonly blocks: BlockManager;
  readonly capacity_tokens: number;
  private readonly waiting = new RankedQueue<Waiting>();
  private running: EngineRequest[] = [];
  private scheduled: EngineRequest[] = [];
  private stepping = false;
  private stepStarted_s = 0;
  private seq = 0;
  private preemptSerial = 0;
  private readonly shape: BatchShape = emptyBatchShape();
  private readonly hitBlocks: number[] = [];
  readonly stats: EngineStats = {
    steps: 0,
    busy_s: 0,
    prefix_queried_tokens: 0,
    prefix_hit_tokens: 0,
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
    this.capacity_tokens = num_gpu_blocks * config.block_size;
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
    return this.blocks.usedBlocks / this.blocks.numBlocks;
  }

  /** Accepts a call into the waiting queue, or rejects it at once (as vLLM's API server would). */
  enqueue(at_s: number, call: LlmCall, priority: number, identity: TokenIdentity): EngineRequest {
    const request = new EngineRequest(call, priority, this.seq++, identity, Math.floor(identity.sharable_tokens / this.config.block_size));
    const total = call.prompt_tokens + call.output_tokens;
    if (total > this.max_model_len) {
      this.reject(at_s, request, REJECT_TOO_LONG);
    } else if (Math.ceil(total / this.config.block_size) > this.blocks.numBlocks) {
      this.reject(at_s, request, REJECT_KV_CAPACITY);
    } else if (this.config.max_waiting !== undefined && this.waiting.size >= this.config.max_waiting) {
      this.reject(at_s, request, REJECT_QUEUE_FULL);
    } else {
      this.waiting.push({ seq: request.seq, request }, this.waitingRank(request));
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

    // 2. Waiting requests in queue order, unless this step already had to preempt.
    while (!preempted && budget > 0 && this.running.length < this.config.max_num_seqs && this.waiting.size > 0) {
      const request = this.waiting.peek()!.request;
      if (!this.admit(request, budget)) break;
      this.waiting.pop();
      this.running.push(request);
      const tokens = Math.min(request.total_tokens - request.computed_tokens, budget);
      this.schedule(request, tokens);
      budget -= tokens;
    }

    if (scheduled.length === 0) return undefined;
    for (let i = 0; i < scheduled.length; i++) addToShape(shape, scheduled[i]);
    const used = this.blocks.usedBlocks;
    if (used > this.stats.peak_used_blocks) this.stats.peak_used_blocks = used;
    this.stepping = true;
    this.stepStarted_s = at_s;
    this.stats.steps++;
    return this.latency.stepTime_s(shape);
  }

  /** Applies the step planned by `startStep`: KV computed, tokens sampled, finished requests freed. */
  finishStep(at_s: number): void {
    if (!this.stepping) throw new Error(`invariant violated: engine ${this.id}: finishStep without a step`);
    this.stepping = false;
    this.stats.busy_s += at_s - this.stepStarted_s;
    const caching = this.config.enable_prefix_caching;
    const blockSize = this.config.block_size;
    let anyFinished = false;
    const scheduled = this.scheduled;
    for (let i = 0; i < scheduled.length; i++) {
      const request = scheduled[i];
      request.computed_tokens += request.scheduled_tokens;
      request.scheduled_tokens = 0;
      if (caching && request.registered_blocks < request.sharable_blocks) this.registerFullBlocks(request, blockSize, request.sharable_blocks);
      if (request.computed_tokens < request.total_tokens) continue; // prefill chunk, no token yet
      request.output_done++;
      request.total_tokens++;
      if (!request.first_token_sent) {
        request.first_token_sent = true;
        this.listener.firstToken(at_s, request);
      } else {
        this.listener.tokens(at_s, request, 1);
      }
      if (request.output_done >= request.target_output_tokens) {
        this.blocks.release(request.blocks);
        request.blocks.length = 0;
        request.computed_tokens = -1; // marks it finished for the compaction below
        anyFinished = true;
        this.stats.finished++;
        this.listener.finished(at_s, request);
      }
    }
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
      preemptions: this.stats.preemptions,
      awake: true,
    };
  }

  private reject(at_s: number, request: EngineRequest, reason: string): void {
    this.stats.rejected++;
    this.listener.rejected(at_s, request, reason);
  }

  private waitingRank(request: EngineRequest): number {
    return this.config.scheduling_policy === "priority" ? request.priority : 0;
  }

  private schedule(request: EngineRequest, tokens: number): void {
    request.scheduled_tokens = tokens;
    this.scheduled.push(request);
  }

  /** Finds the request's cached prefix and reserves blocks for its first chunk; false if they do
   *  not fit now (the request stays waiting, and so does everything behind it). */
  private admit(request: EngineRequest, budget: number): boolean {
    const blockSize = this.config.block_size;
    const total = request.total_tokens;
    const hits = this.hitBlocks;
    hits.length = 0;
    const lookupBlocks = request.preemptions > 0 ? Infinity : request.sharable_blocks;
    if (this.config.enable_prefix_caching && lookupBlocks > 0) {
      // At least one token must be computed to sample from, so a full hit backs off one block.
      const maxHitBlocks = Math.min(Math.floor((total - 1) / blockSize), lookupBlocks);
      for (let b = 0; b < maxHitBlocks; b++) {
        const block = this.blocks.lookup(request.identity.blockKey(b, blockSize));
        if (block === undefined) break;
        hits.push(block);
      }
    }
    const hitTokens = hits.length * blockSize;
    let tokens = total - hitTokens;
    if (!this.config.enable_chunked_prefill && tokens > budget) return false;
    tokens = Math.min(tokens, budget);
    const needed = Math.ceil((hitTokens + tokens) / blockSize) - hits.length;
    let evictableHits = 0;
    for (const block of hits) if (this.blocks.isFree(block)) evictableHits++;
    if (needed + evictableHits > this.blocks.freeBlocks) return false;
    for (const block of hits) {
      this.blocks.touch(block);
      request.blocks.push(block);
    }
    this.blocks.allocate(needed, request.blocks);
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

  /** Registers the request's computed full blocks, up to `limit` blocks, in the prefix cache. */
  private registerFullBlocks(request: EngineRequest, blockSize: number, limit: number): void {
    const full = Math.min(Math.floor(request.computed_tokens / blockSize), limit);
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
      // Its own blocks stay findable, so the recompute can hit them if they are not evicted first.
      this.registerFullBlocks(request, this.config.block_size, Infinity);
    }
    this.blocks.release(request.blocks);
    request.blocks.length = 0;
    request.computed_tokens = 0;
    request.registered_blocks = 0;
    request.preemptions++;
    this.stats.preemptions++;
    const rank = this.config.scheduling_policy === "priority" ? request.priority : -++this.preemptSerial;
    this.waiting.push({ seq: request.seq, request }, rank);
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

/** Adds one scheduled request to the step's shape: a decode token, or a prefill chunk. */
function addToShape(shape: BatchShape, request: EngineRequest): void {
  const tokens = request.scheduled_tokens;
  const before = request.computed_tokens;
  if (tokens === 1 && request.output_done > 0 && before === request.total_tokens - 1) addDecode(shape, before + 1);
  else addPrefillChunk(shape, tokens, before);
}
