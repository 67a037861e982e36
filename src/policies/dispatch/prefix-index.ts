import { PrefixInterner, SegmentTokenIdentity } from "../../core/prefix-identity.ts";
import type { LlmCall } from "../../core/types.ts";

/** Block keys of a call's shareable full prompt blocks, as a router computes them: the same
 *  (chain id, offset) keys the engine's prefix cache uses (src/core/prefix-identity.ts), from the
 *  call's keyed prompt segments. Only blocks before the first unkeyed segment get keys — every block
 *  after it is unique content nothing else can share, so indexing it would only evict useful keys.
 *  One interner per policy instance, so keys are deterministic for a run. The keys of the last call
 *  asked about are kept: `choose` and `callDispatched` ask for the same call back to back. */
export class CallBlockKeys {
  private readonly interner = new PrefixInterner();
  private lastCall: LlmCall | undefined;
  private lastKeys: readonly number[] = [];

  constructor(readonly block_size: number) {}

  of(call: LlmCall): readonly number[] {
    if (call === this.lastCall) return this.lastKeys;
    this.lastCall = call;
    this.lastKeys = this.compute(call);
    return this.lastKeys;
  }

  /** Keys of the call's prompt and output blocks once it has finished, when its output is content
   *  later calls reuse (`output_key`) and its prompt is keyed throughout — the blocks the engine
   *  keeps cached for a continuation; otherwise just its prompt keys. */
  withOutput(call: LlmCall): readonly number[] {
    if (call.output_key === undefined || call.segments.some((s) => s.key === undefined)) return this.of(call);
    const identity = new SegmentTokenIdentity(call, this.interner);
    const count = Math.floor(identity.sharable_tokens / this.block_size);
    const keys = new Array<number>(count);
    for (let b = 0; b < count; b++) keys[b] = identity.blockKey(b, this.block_size);
    return keys;
  }

  private compute(call: LlmCall): number[] {
    let keyed = 0;
    while (keyed < call.segments.length && call.segments[keyed].key !== undefined) keyed++;
    if (keyed === 0) return [];
    // Only the keyed leading segments go to the identity: the chain ids of a prefix depend on nothing
    // after it, and interning unique tails would grow the interner by one entry per call.
    const prefix: LlmCall = { ...call, segments: call.segments.slice(0, keyed), output_key: undefined, output_tokens: 0 };
    const identity = new SegmentTokenIdentity(prefix, this.interner);
    const count = Math.floor(Math.min(identity.sharable_tokens, call.prompt_tokens) / this.block_size);
    const keys = new Array<number>(count);
    for (let b = 0; b < count; b++) keys[b] = identity.blockKey(b, this.block_size);
    return keys;
  }
}

/** An approximate per-instance prefix index built from the router's own routing history (no engine
 *  events): the block keys of every call sent to an instance, bounded per instance with LRU
 *  eviction. The engine evicts on its own schedule, so the index can claim blocks the instance has
 *  dropped — the approximation of the SGLang router's radix tree and llm-d's approximate prefix
 *  scorer.
 *
 *  Each instance's index is a Set of block keys in recency order (a JS Set iterates in insertion
 *  order, so delete-then-add moves a key to the newest end and the first key is the least recently
 *  used): O(1) insert, touch, lookup and eviction without a hand-written linked list. */
export class PrefixIndex {
  private readonly blocks: Set<number>[] = [];

  constructor(private readonly max_blocks_per_instance: number) {}

  /** Records that `keys` (a call's blocks, prefix order) were sent to instance `index`. Inserted
   *  last block first, so a prefix's root is the most recent and is evicted after its tail — a
   *  chain is never cut in the middle by its own insertion. */
  insert(index: number, keys: readonly number[]): void {
    if (keys.length === 0) return;
    let set = this.blocks[index];
    if (!set) {
      set = new Set();
      this.blocks[index] = set;
    }
    for (let b = keys.length - 1; b >= 0; b--) {
      set.delete(keys[b]);
      set.add(keys[b]);
    }
    if (set.size > this.max_blocks_per_instance) {
      const oldest = set.values();
      for (let excess = set.size - this.max_blocks_per_instance; excess > 0; excess--) set.delete(oldest.next().value!);
    }
  }

  /** Length in blocks of the longest prefix of `keys` indexed at instance `index`: walks from block 0
   *  until the first miss. */
  matchedBlocks(index: number, keys: readonly number[]): number {
    const set = this.blocks[index];
    if (!set) return 0;
    let b = 0;
    while (b < keys.length && set.has(keys[b])) b++;
    return b;
  }

  /** Blocks indexed for instance `index`. */
  size(index: number): number {
    return this.blocks[index]?.size ?? 0;
  }
}

interface ActiveCall {
  readonly index: number;
  readonly keys: readonly number[];
  readonly unshared_blocks: number;
}

/** KV blocks held by the calls the router has in flight at each instance, with shared prefix
 *  blocks counted once per instance (as the engine stores them once) — the router-side tracking of
 *  Dynamo's ActiveSequences. A call holds ceil((prompt + output) / block_size) blocks, of which its
 *  keyed prefix blocks are shared. */
export class ActiveBlocks {
  private readonly refs: Map<number, number>[] = [];
  private readonly unshared: number[] = [];
  private readonly calls = new Map<string, ActiveCall>();

  /** Blocks in use at instance `index`. */
  blocks(index: number): number {
    return (this.refs[index]?.size ?? 0) + (this.unshared[index] ?? 0);
  }

  /** Leading blocks of `keys` already held by calls in flight at instance `index`. A held block's
   *  whole prefix is held too (any call holding block b holds 0..b−1), so the walk stops at a miss. */
  heldPrefix(index: number, keys: readonly number[]): number {
    const refs = this.refs[index];
    if (!refs) return 0;
    let b = 0;
    while (b < keys.length && refs.has(keys[b])) b++;
    return b;
  }

  add(callId: string, index: number, keys: readonly number[], total_blocks: number): void {
    this.remove(callId);
    let refs = this.refs[index];
    if (!refs) {
      refs = new Map();
      this.refs[index] = refs;
    }
    for (const key of keys) refs.set(key, (refs.get(key) ?? 0) + 1);
    const unshared_blocks = Math.max(0, total_blocks - keys.length);
    this.unshared[index] = (this.unshared[index] ?? 0) + unshared_blocks;
    this.calls.set(callId, { index, keys, unshared_blocks });
  }

  /** Forgets a call (closed, or back in the queue after a failed attempt); unknown ids are ignored. */
  remove(callId: string): void {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    const refs = this.refs[call.index];
    for (const key of call.keys) {
      const n = refs.get(key)!;
      if (n <= 1) refs.delete(key);
      else refs.set(key, n - 1);
    }
    this.unshared[call.index] -= call.unshared_blocks;
  }
}
