import type { BatchShape } from "../../src/model/latency-model.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import type { KvCacheManager } from "./kv-cache-manager.ts";
import type { EngineRequest } from "./request.ts";

/** The engine's decode fast-forward (docs/engine.md). While no request waits and every running
 *  request is decoding, a step's plan is fully predictable: each running request decodes one token,
 *  the batch's KV context grows by the batch size, and a request needs a fresh KV block every
 *  `block_size` steps, at a step fixed by how full its last block is. A run plans such steps without
 *  touching the requests: step `j` allocates blocks for the requests whose phase is `j mod
 *  block_size` (in running order, as the scheduler would), and its shape is computed from the run's
 *  start. The requests' token counts lag behind by the run's finished steps until `leave` brings
 *  them up to date.
 *
 *  A run ends (the engine goes back to planning step by step) before any step in which a request
 *  would finish, a request waits to be admitted, or the free blocks do not cover the step's
 *  allocations (where the scheduler would preempt). Everything else the engine does in a step — the
 *  latency model, the stats, the one `tokenGaps` call shared by all its decodes — is unchanged, so
 *  the results are those of the step-by-step path, bit for bit. */
export class DecodeRun {
  /** A run is in progress: the running requests' token counts lag by `steps`. */
  active = false;
  /** Steps fast-forwarded over the engine's life (tests and benchmarks read it). */
  total = 0;
  /** Steps of this run finished (the next step planned is step `steps`). */
  private steps = 0;
  /** Fewest output tokens any running request still has to produce at the run's start. */
  private minRemaining = 0;
  private seqs = 0;
  /** Σ of the running requests' decode context at the run's first step. */
  private context0 = 0;
  /** The running requests grouped by phase (a counting sort, so each group keeps running order):
   *  those at `byPhase[phaseStart[p]] … byPhase[phaseStart[p + 1] − 1]` need a fresh block at the
   *  steps `j` with `j mod block_size = p`. Entries past the batch are stale and never read. */
  private readonly byPhase: EngineRequest[] = [];
  private readonly phaseStart: Int32Array;
  private readonly cursor: Int32Array;

  constructor(private readonly blockSize: number) {
    this.phaseStart = new Int32Array(blockSize + 1);
    this.cursor = new Int32Array(blockSize);
  }

  /** Starts a run when the running requests allow one: each got a token at the end of the previous
   *  step (so decodes next, sharing one gap), has no shareable block left to register, and holds
   *  just the blocks its tokens need; and the token budget covers them all. Otherwise stays inactive. */
  enter(running: readonly EngineRequest[], previousEnd_s: number, config: EngineConfig): void {
    const n = running.length;
    if (n > config.max_num_batched_tokens) return;
    const bs = this.blockSize;
    const caching = config.enable_prefix_caching;
    const cursor = this.cursor;
    cursor.fill(0);
    let minRemaining = Infinity;
    let context = 0;
    for (let i = 0; i < n; i++) {
      const r = running[i];
      if (r.output_done === 0 || r.computed_tokens !== r.total_tokens - 1 || r.last_token_s !== previousEnd_s || r.scheduled_tokens !== 0) return;
      if (caching && r.registered_blocks < r.sharable_blocks) return;
      const phase = r.blocks.length * bs - r.computed_tokens;
      if (phase < 0 || phase >= bs) return;
      const remaining = r.target_output_tokens - r.output_done;
      if (remaining < minRemaining) minRemaining = remaining;
      context += r.total_tokens;
      cursor[phase]++;
    }
    if (minRemaining <= 1) return; // the next step finishes someone: plan it step by step
    const start = this.phaseStart;
    for (let p = 0; p < bs; p++) {
      start[p + 1] = start[p] + cursor[p];
      cursor[p] = start[p];
    }
    const byPhase = this.byPhase;
    for (let i = 0; i < n; i++) {
      const r = running[i];
      byPhase[cursor[r.blocks.length * bs - r.computed_tokens]++] = r;
    }
    this.active = true;
    this.steps = 0;
    this.minRemaining = minRemaining;
    this.seqs = n;
    this.context0 = context;
  }

  /** The next step can be fast-forwarded: nobody finishes at its end, and its blocks are free. */
  canStep(freeBlocks: number): boolean {
    const phase = this.steps % this.blockSize;
    return this.steps + 1 < this.minRemaining && this.phaseStart[phase + 1] - this.phaseStart[phase] <= freeBlocks;
  }

  /** Allocates the next step's fresh blocks, in running order. */
  allocate(kv: KvCacheManager): void {
    const phase = this.steps % this.blockSize;
    const byPhase = this.byPhase;
    for (let i = this.phaseStart[phase], end = this.phaseStart[phase + 1]; i < end; i++) kv.allocateDecodeBlock(byPhase[i]);
  }

  /** The next step's batch shape: what the scheduler's addDecode calls would sum (integers, so exact). */
  shapeOf(shape: BatchShape): void {
    shape.num_seqs = this.seqs;
    shape.prefill_tokens = 0;
    shape.prefill_attention_pairs = 0;
    shape.prefill_context_tokens = 0;
    shape.decode_seqs = this.seqs;
    shape.decode_context_tokens = this.context0 + this.steps * this.seqs;
  }

  /** The step planned last is done. */
  stepDone(): void {
    this.steps++;
    this.total++;
  }

  /** Ends the run: every running request gets the tokens of the run's finished steps, the last of
   *  them sampled at `previousEnd_s`. */
  leave(running: readonly EngineRequest[], previousEnd_s: number): void {
    const k = this.steps;
    if (k > 0) {
      for (let i = 0; i < running.length; i++) {
        const r = running[i];
        r.computed_tokens += k;
        r.total_tokens += k;
        r.output_done += k;
        r.last_token_s = previousEnd_s;
      }
    }
    this.active = false;
    this.steps = 0;
  }
}
