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
   *  keeps cached for a continuation; undefined when the output adds no shareable block. */
  withOutput(call: LlmCall): readonly number[] | undefined {
    if (call.output_key === undefined || call.segments.some((s) => s.key === undefined)) return undefined;
    const identity = new SegmentTokenIdentity(call, this.interner);
    const count = Math.floor(identity.sharable_tokens / this.block_size);
    if (count <= Math.floor(call.prompt_tokens / this.block_size)) return undefined;
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

/** Length of the longest prefix of `keys` whose blocks are all `present` — the walk from block 0
 *  until the first miss, done as a binary search. That is exact because the sets asked about are
 *  prefix-closed: a block key names its content together with everything before it, every call that
 *  holds or touches block b also holds or touches blocks 0..b−1, and LruKeys touches a call's blocks
 *  tail first so a block's ancestors are never older than it and are never evicted before it. */
export function prefixLength(keys: readonly number[], present: (key: number) => boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (present(keys[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Block keys in least-recently-used order, bounded. A touch stamps the key with a rising clock
 *  (an in-place Map update) and appends (key, stamp) to a queue; eviction pops the queue's front and
 *  drops the key only if that entry is still its latest stamp — stale entries of keys touched again
 *  later are skipped. O(1) amortised per touch, without reordering a hash table on every touch; the
 *  queue is compacted once stale entries outnumber live keys. */
class LruKeys {
  private readonly stamps = new Map<number, number>();
  private queueKeys: number[] = [];
  private queueStamps: number[] = [];
  private head = 0;
  private clock = 0;

  get size(): number {
    return this.stamps.size;
  }

  has(key: number): boolean {
    return this.stamps.has(key);
  }

  touch(key: number): void {
    const stamp = ++this.clock;
    this.stamps.set(key, stamp);
    this.queueKeys.push(key);
    this.queueStamps.push(stamp);
  }

  evictTo(max: number): void {
    while (this.stamps.size > max) {
      const key = this.queueKeys[this.head];
      const stamp = this.queueStamps[this.head];
      this.head++;
      if (this.stamps.get(key) === stamp) this.stamps.delete(key);
    }
    if (this.queueKeys.length - this.head > 2 * this.stamps.size + 1024) this.compact();
  }

  /** Keeps only the queue entries that are their key's latest stamp (order preserved). */
  private compact(): void {
    const keys: number[] = [];
    const stamps: number[] = [];
    for (let i = this.head; i < this.queueKeys.length; i++) {
      if (this.stamps.get(this.queueKeys[i]) === this.queueStamps[i]) {
        keys.push(this.queueKeys[i]);
        stamps.push(this.queueStamps[i]);
      }
    }
    this.queueKeys = keys;
    this.queueStamps = stamps;
    this.head = 0;
  }
}

/** An approximate per-instance prefix index built from the router's own routing history (no engine
 *  events): the block keys of every call sent to an instance, bounded per instance with LRU
 *  eviction. The engine evicts on its own schedule, so the index can claim blocks the instance has
 *  dropped — the approximation of the SGLang router's radix tree, of Dynamo's router without KV
 *  events and of llm-d's approximate prefix scorer. Per instance: a Map from block key to its
 *  recency (see LruKeys); the longest-prefix match is a binary search (see prefixLength). */
export class PrefixIndex {
  private readonly blocks: LruKeys[] = [];

  constructor(private readonly max_blocks_per_instance: number) {}

  /** Records that `keys` (a call's blocks, prefix order) were sent to instance `index`. Touched
   *  last block first, so a prefix's root is the most recent and is evicted after its tail — a
   *  chain is never cut in the middle by its own insertion. */
  insert(index: number, keys: readonly number[]): void {
    if (keys.length === 0) return;
    let lru = this.blocks[index];
    if (!lru) {
      lru = new LruKeys();
      this.blocks[index] = lru;
    }
    for (let b = keys.length - 1; b >= 0; b--) lru.touch(keys[b]);
    lru.evictTo(this.max_blocks_per_instance);
  }

  /** Length in blocks of the longest prefix of `keys` indexed at instance `index`. */
  matchedBlocks(index: number, keys: readonly number[]): number {
    const lru = this.blocks[index];
    return lru ? prefixLength(keys, (key) => lru.has(key)) : 0;
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

  /** Leading blocks of `keys` already held by calls in flight at instance `index` (any call holding
   *  block b holds 0..b−1 too, so the held set is prefix-closed). */
  heldPrefix(index: number, keys: readonly number[]): number {
    const refs = this.refs[index];
    return refs ? prefixLength(keys, (key) => refs.has(key)) : 0;
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
