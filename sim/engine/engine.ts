import { invariant } from "../../src/core/errors.ts";
import type { InstanceSnapshot, LlmCall } from "../../src/core/types.ts";
import { addDecode, addPrefillChunk, emptyBatchShape, resetBatchShape, type BatchShape, type LatencyModel } from "../../src/model/latency-model.ts";
import type { BlockManager } from "./block-manager.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import { EngineRequest } from "./request.ts";
import type { TokenIdentity } from "../../src/core/prefix-identity.ts";
import type { KvTiers } from "./tiers.ts";
import { KvCacheManager, type PrefetchResult } from "./kv-cache-manager.ts";
import { requestQueueFor, type QueuedRequest, type RequestQueue } from "./request-queue.ts";
import { DecodeRun } from "./decode-run.ts";

export type { PrefetchResult } from "./kv-cache-manager.ts";

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

/** One vLLM-like instance with V1 scheduling semantics: each step spends a token budget on the
 *  running requests first (a decode token each, or their next prefill chunk), then admits waiting
 *  requests in queue order, chunking a prefill that does not fit; when the KV cache cannot hold a
 *  running request's next tokens, the queue's discipline picks a running request to preempt, which
 *  is recomputed later. Time is supplied by the host; a step's duration comes from the latency
 *  model, plus any wait for KV transfers from the CPU/disk tiers.
 *
 *  The engine is the scheduler only: KV blocks, the prefix cache and its tiers sit behind
 *  `KvCacheManager`, the waiting order and preemption choice behind a `RequestQueue`.
 *
 *  Optional features (docs/engine.md): CPU and disk KV tiers with swap-in and `prefetch`,
 *  prefix-aware reordering of the waiting queue, and elastic capacity (`resize`, `sleep`, `wake`). */
export class Engine {
  readonly kv: KvCacheManager;
  private readonly waiting: RequestQueue;
  private running: EngineRequest[] = [];
  private scheduled: EngineRequest[] = [];
  private stepping = false;
  private stepStarted_s = 0;
  private previousStepEnd_s = NaN;
  private seq = 0;
  private readonly shape: BatchShape = emptyBatchShape();
  private readonly windowScratch: QueuedRequest[] = [];
  private sleeping = false;
  private blocksBeforeSleep = 0;
  /** The decode fast-forward in progress, when `fastForward` is on (docs/engine.md). */
  private readonly run: DecodeRun | undefined;
  /** The step in progress is a fast-forwarded one (planned by the run, not the scheduler). */
  private steppingInRun = false;
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
    /** Decode fast-forward: steps in which every running request just decodes a token cost O(1)
     *  instead of a pass over the batch, with the same results (docs/engine.md). The simulator turns
     *  it on; hosts that read requests between steps (the emulator) leave it off. */
    fastForward = false,
  ) {
    this.kv = new KvCacheManager(config, num_gpu_blocks, this.stats);
    this.waiting = requestQueueFor(config.scheduling_policy);
    this.run = fastForward ? new DecodeRun(config.block_size) : undefined;
  }

  /** The GPU blocks, for inspection (reports, tests). */
  get blocks(): BlockManager {
    return this.kv.blocks;
  }

  /** The CPU/disk tiers, for inspection; undefined when both are off or prefix caching is off. */
  get tiers(): KvTiers | undefined {
    return this.kv.tiers;
  }

  /** KV capacity in tokens now (changes with resize, sleep and wake). */
  get capacity_tokens(): number {
    return this.kv.capacityBlocks * this.config.block_size;
  }

  /** True between `sleep` and `wake`: no KV cache, no capacity; enqueueing is an error. */
  get asleep(): boolean {
    return this.sleeping;
  }

  /** Steps planned by the decode fast-forward so far (0 with it off). */
  get fastForwardedSteps(): number {
    return this.run?.total ?? 0;
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
    return this.kv.usage;
  }

  /** Accepts a call into the waiting queue, or rejects it at once (as vLLM's API server would). */
  enqueue(at_s: number, call: LlmCall, priority: number, identity: TokenIdentity): EngineRequest {
    if (this.sleeping) throw new Error(`invariant violated: engine ${this.id}: call ${call.id} enqueued while asleep (wake it first)`);
    const request = new EngineRequest(call, priority, this.seq++, identity, Math.floor(identity.sharable_tokens / this.config.block_size));
    const total = call.prompt_tokens + call.output_tokens;
    if (total > this.max_model_len) {
      this.reject(at_s, request, REJECT_TOO_LONG);
    } else if (Math.ceil(total / this.config.block_size) > this.kv.capacityBlocks) {
      this.reject(at_s, request, REJECT_KV_CAPACITY);
    } else if (this.config.max_waiting !== undefined && this.waiting.size >= this.config.max_waiting) {
      this.reject(at_s, request, REJECT_QUEUE_FULL);
    } else {
      this.waiting.add(request);
    }
    return request;
  }

  /** Plans the next step at `at_s`; returns its duration, or undefined when there is nothing to run. */
  startStep(at_s: number): number | undefined {
    if (this.stepping) throw new Error(`invariant violated: engine ${this.id}: step started twice`);
    const run = this.run;
    if (run !== undefined && this.waiting.size === 0 && this.running.length > 0) {
      if (!run.active) run.enter(this.running, this.previousStepEnd_s, this.config);
      if (run.active && run.canStep(this.kv.freeBlocks)) return this.startRunStep(at_s, run);
    }
    if (run?.active) run.leave(this.running, this.previousStepEnd_s);
    resetBatchShape(this.shape);
    this.scheduled.length = 0;
    this.kv.beginStep(at_s);
    const budget = this.scheduleRunning(this.config.max_num_batched_tokens);
    if (budget !== undefined) this.admitWaiting(budget);
    if (this.scheduled.length === 0) return undefined;
    return this.launchStep(at_s);
  }

  /** Applies the step planned by `startStep`: KV computed, tokens sampled, finished requests freed. */
  finishStep(at_s: number): void {
    if (!this.stepping) throw new Error(`invariant violated: engine ${this.id}: finishStep without a step`);
    this.stepping = false;
    this.stats.busy_s += at_s - this.stepStarted_s;
    if (this.steppingInRun) {
      // Every running request decoded a token and none finished: all share the step's gap.
      this.steppingInRun = false;
      this.run!.stepDone();
      this.listener.tokenGaps(at_s, at_s - this.previousStepEnd_s, this.running.length);
      this.previousStepEnd_s = at_s;
      return;
    }
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
        this.kv.free(request);
        request.state = "finished";
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

  /** A fast-forwarded step: the shape and the block allocations come from the run (O(batch/block
   *  size) instead of a pass over the batch); the rest is `startStep`'s own bookkeeping. */
  private startRunStep(at_s: number, run: DecodeRun): number {
    this.kv.beginStep(at_s);
    run.allocate(this.kv);
    run.shapeOf(this.shape);
    this.steppingInRun = true;
    return this.launchStep(at_s);
  }

  /** A planned step (its batch in `shape`, its blocks allocated) begins: the stats, and its
   *  duration — compute, plus any wait for blocks still arriving from a lower KV tier. */
  private launchStep(at_s: number): number {
    const used = this.kv.usedBlocks;
    if (used > this.stats.peak_used_blocks) this.stats.peak_used_blocks = used;
    this.stepping = true;
    this.stepStarted_s = at_s;
    this.stats.steps++;
    const compute_s = this.latency.stepTime_s(this.shape);
    const wait_s = this.kv.stepReady_at_s - at_s;
    if (wait_s > 0) {
      this.stats.swap_wait_s += wait_s;
      return compute_s + wait_s;
    }
    return compute_s;
  }

  /** Brings every running request's token counts up to date (they lag during a fast-forward run);
   *  a no-op otherwise. Call between steps before reading requests from outside. */
  settle(): void {
    if (this.stepping) throw new Error(`invariant violated: engine ${this.id}: settle during a step`);
    if (this.run?.active) this.run.leave(this.running, this.previousStepEnd_s);
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
    return this.kv.prefetchLead_s(call, identity);
  }

  /** Starts moving the CPU/disk-resident blocks of `call`'s cached prefix up to the GPU ahead of its
   *  admission (the orchestrator knows the call is next). Walks the prefix in order — GPU-resident
   *  blocks are kept, lower-tier blocks are moved, the walk stops at the first block cached nowhere —
   *  taking at most the free blocks (evicting the least recently used cached ones, as any allocation
   *  does). Moved blocks are GPU-cached at once (free, findable, evictable) but their KV arrives one
   *  by one over the engine's host link, after the transfers already queued on it; a request that
   *  uses a block before it arrives waits for it in its step. No-op without tiers, or asleep. */
  prefetch(at_s: number, call: LlmCall, identity: TokenIdentity): PrefetchResult {
    if (this.sleeping) return { gpu_blocks: 0, cpu_blocks: 0, disk_blocks: 0, ready_s: at_s };
    return this.kv.prefetch(at_s, call, identity);
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
    return this.kv.resize(Math.max(num_blocks, this.minimumBlocks()));
  }

  /** vLLM sleep mode (level 1): only when idle (no running or waiting request; false otherwise).
   *  Discards the whole GPU KV cache (cached blocks are not moved to the lower tiers; the CPU and
   *  disk tiers, in host memory, keep their content) and releases every block: capacity 0. */
  sleep(): boolean {
    if (this.sleeping) return true;
    if (this.hasWork || this.stepping) return false;
    this.blocksBeforeSleep = this.kv.capacityBlocks;
    this.kv.discardAll();
    this.sleeping = true;
    return true;
  }

  /** Ends sleep with a capacity of `num_blocks` (default: the capacity before sleeping), with an
   *  empty GPU KV cache; returns the capacity. A no-op on an awake engine. */
  wake(num_blocks: number = this.blocksBeforeSleep): number {
    if (!this.sleeping) return this.kv.capacityBlocks;
    invariant(Number.isInteger(num_blocks) && num_blocks >= 1, `engine ${this.id}: wake with ${num_blocks} blocks: expected at least 1`);
    this.sleeping = false;
    return this.kv.resize(num_blocks);
  }

  /** Drops a request whose client went away (vLLM's abort): a running request's blocks are freed
   *  (their cached content stays findable, as after finishing), a waiting one leaves the queue. No
   *  listener call. Not during a step (call it between finishStep and startStep). Returns false
   *  when the engine does not hold the request (finished, rejected, or never enqueued). */
  abort(requestId: string): boolean {
    if (this.stepping) throw new Error(`invariant violated: engine ${this.id}: abort of ${requestId} during a step`);
    this.settle();
    const index = this.running.findIndex((r) => r.id === requestId);
    if (index >= 0) {
      const request = this.running[index];
      this.running.splice(index, 1);
      this.kv.free(request);
      request.state = "aborted";
      return true;
    }
    return this.waiting.remove(requestId);
  }

  private reject(at_s: number, request: EngineRequest, reason: string): void {
    request.state = "rejected";
    this.stats.rejected++;
    this.listener.rejected(at_s, request, reason);
  }

  /** Step part 1: the running requests, in order, each get a decode token or their next prefill
   *  chunk. When the KV cache cannot hold a request's tokens, the queue's discipline picks running
   *  requests to preempt (possibly this one) until it can. Returns the budget left, or undefined when
   *  anything was preempted (such a step admits nobody). */
  private scheduleRunning(budget: number): number | undefined {
    const running = this.running;
    let preempted = false;
    for (let i = 0; i < running.length && budget > 0; ) {
      const request = running[i];
      const tokens = Math.min(request.total_tokens - request.computed_tokens, budget);
      let self = false;
      while (!this.kv.allocateSlots(request, tokens)) {
        const victim = this.waiting.victim(running);
        const victimIndex = running.indexOf(victim);
        if (victim.scheduled_tokens > 0) {
          // Priority mode can preempt a request already planned for this step: take it back out.
          budget += victim.scheduled_tokens;
          this.unschedule(victim);
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
      this.schedule(request, tokens);
      budget -= tokens;
      i++;
    }
    return preempted ? undefined : budget;
  }

  /** Step part 2: waiting requests in queue order (or, with a reorder window, the longest cached
   *  prefix among the first few) while budget and sequence slots remain; stops at the first that
   *  does not fit. */
  private admitWaiting(budget: number): void {
    const window = this.config.enable_prefix_caching ? this.config.waiting_reorder_window : 0;
    while (budget > 0 && this.running.length < this.config.max_num_seqs && this.waiting.size > 0) {
      let request: EngineRequest | undefined;
      if (window > 1 && this.waiting.size > 1) {
        const place = this.takeLongestPrefix(window);
        request = place.request;
        if (!this.admit(request, budget)) {
          this.waiting.putBack(place);
          return;
        }
      } else {
        request = this.waiting.peek();
        if (request === undefined || !this.admit(request, budget)) return;
        this.waiting.pop();
      }
      this.running.push(request);
      const tokens = Math.min(request.total_tokens - request.computed_tokens, budget);
      this.schedule(request, tokens);
      budget -= tokens;
    }
  }

  /** Plans `tokens` (for which `allocateSlots` made room) for the request in this step. */
  private schedule(request: EngineRequest, tokens: number): void {
    request.scheduled_tokens = tokens;
    this.scheduled.push(request);
    addToShape(this.shape, request, 1);
  }

  /** Takes a request planned for this step back out of it. */
  private unschedule(request: EngineRequest): void {
    addToShape(this.shape, request, -1);
    request.scheduled_tokens = 0;
    this.scheduled.splice(this.scheduled.indexOf(request), 1);
  }

  /** Takes the first `window` waiting places out and returns the one with the longest cached prefix
   *  (any tier; ties keep queue order), out of the queue; the others go back unchanged. */
  private takeLongestPrefix(window: number): QueuedRequest {
    const candidates = this.windowScratch;
    candidates.length = 0;
    this.waiting.takeFirst(window, candidates);
    let best = 0;
    let bestBlocks = -1;
    for (let i = 0; i < candidates.length; i++) {
      const blocks = this.kv.computedBlocks(candidates[i].request).blocks;
      if (blocks > bestBlocks) {
        best = i;
        bestBlocks = blocks;
      }
    }
    for (let i = 0; i < candidates.length; i++) if (i !== best) this.waiting.putBack(candidates[i]);
    const chosen = candidates[best];
    candidates.length = 0;
    return chosen;
  }

  /** Finds the request's cached prefix and makes room for it and its first chunk; false if they do
   *  not fit now (the request stays waiting, and so does everything behind it). */
  private admit(request: EngineRequest, budget: number): boolean {
    const total = request.total_tokens;
    const prefix = this.kv.computedBlocks(request);
    const hitTokens = prefix.blocks * this.config.block_size;
    let tokens = total - hitTokens;
    if (!this.config.enable_chunked_prefill && tokens > budget) return false;
    tokens = Math.min(tokens, budget);
    if (!this.kv.allocateSlots(request, tokens, prefix)) return false;
    request.computed_tokens = hitTokens;
    this.stats.prefix_queried_tokens += total;
    this.stats.prefix_hit_tokens += hitTokens;
    // OpenAI's cached_tokens is the hit of the first admission, not of a recompute after preemption.
    if (request.state === "waiting") request.cached_tokens = Math.min(hitTokens, request.call.prompt_tokens);
    request.state = "running";
    return true;
  }

  /** The capacity `resize` may not go below: the largest request in the engine must still fit. */
  private minimumBlocks(): number {
    const blockSize = this.config.block_size;
    let most = 1;
    const need = (request: EngineRequest) => Math.ceil((request.call.prompt_tokens + request.target_output_tokens) / blockSize);
    for (const request of this.running) most = Math.max(most, need(request));
    this.waiting.forEach((request) => {
      most = Math.max(most, need(request));
    });
    return most;
  }

  /** Recompute preemption: the request's blocks go back to the KV cache (its computed prefix stays
   *  findable) and it waits again, where the queue's discipline puts preempted requests. */
  private preempt(request: EngineRequest): void {
    const index = this.running.lastIndexOf(request);
    this.running.splice(index, 1);
    this.kv.freePreempted(request);
    request.computed_tokens = 0;
    request.preemptions++;
    request.state = "preempted";
    this.stats.preemptions++;
    this.waiting.readd(request);
  }
}

/** Drops finished requests from `running` in place, keeping order. */
function removeFinished(running: EngineRequest[]): void {
  let kept = 0;
  for (let i = 0; i < running.length; i++) {
    const request = running[i];
    if (request.state !== "finished") running[kept++] = request;
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
