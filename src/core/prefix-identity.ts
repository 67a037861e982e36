import type { LlmCall } from "./types.ts";

/** Gives each full KV block of a call's token sequence (prompt, then output) a number identifying
 *  its content together with everything before it — the block-hash chain of vLLM's prefix cache. */
export interface TokenIdentity {
  /** Leading tokens another call could share: everything before the first unkeyed content (which
   *  makes the rest of the chain unique). 0 = nothing shareable; the engine registers and looks up
   *  only blocks inside this prefix, except a preempted call's own blocks. */
  readonly sharable_tokens: number;
  blockKey(block: number, blockSize: number): number;
}

const OFFSET_SPAN = 2 ** 21; // positions within one segment; segments longer than this are split

/** Interns segment chains: the chain id of a segment identifies its key and every segment before
 *  it, so (chain id, offset) identifies a token and its whole prefix exactly — no hash collisions.
 *  One interner per simulated cluster, so ids are deterministic for a run. */
export class PrefixInterner {
  /** Chains of a segment's later pieces (segments longer than OFFSET_SPAN), by "parent|key#offset". */
  private readonly ids = new Map<string, number>();
  /** Chains of a segment's first piece: parent → segment key → id. Two levels instead of one
   *  "parent|key" string, so no string is built per lookup and the key's hash (cached in the
   *  segment's own string) is reused; a separate namespace from `ids`, as "key#0" was. */
  private readonly firstPieces = new Map<number, Map<string, number>>();
  /** The chain id of a segment object's first piece after its parent: prompts that extend a
   *  history reuse that history's segment objects, so a long conversation's chain is looked up
   *  once per segment, not once per call. */
  private readonly bySegment = new WeakMap<object, { parent: number; id: number }>();
  private next = 1;

  /** The chain id of piece `offset` of `segment` after chain `parent`. */
  segmentChain(parent: number, segment: { readonly key?: string }, offset: number): number {
    if (offset !== 0) return this.laterPiece(parent, `${segment.key}#${offset}`);
    const known = this.bySegment.get(segment);
    if (known !== undefined && known.parent === parent) return known.id;
    const id = this.firstPiece(parent, `${segment.key}`);
    if (known === undefined) this.bySegment.set(segment, { parent, id });
    return id;
  }

  private firstPiece(parent: number, key: string): number {
    let children = this.firstPieces.get(parent);
    if (children === undefined) {
      children = new Map();
      this.firstPieces.set(parent, children);
    }
    let id = children.get(key);
    if (id === undefined) {
      id = this.next++;
      children.set(key, id);
    }
    return id;
  }

  private laterPiece(parent: number, key: string): number {
    const name = `${parent}|${key}`;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(name, id);
    }
    return id;
  }

  /** A chain id nothing else shares (unkeyed content). */
  fresh(): number {
    return this.next++;
  }
}

/** Token identity from a call's prompt segments plus its output (keyed by `output_key`). Chain ids
 *  are computed lazily, on the first block lookup, so unshared calls cost nothing. */
export class SegmentTokenIdentity implements TokenIdentity {
  readonly sharable_tokens: number;
  private starts: number[] | undefined;
  private chains: number[] | undefined;
  private cursor = 0;

  constructor(
    private readonly call: LlmCall,
    private readonly interner: PrefixInterner,
  ) {
    let sharable = 0;
    let unkeyed = false;
    for (const segment of call.segments) {
      if (segment.key === undefined) {
        unkeyed = true;
        break;
      }
      sharable += segment.tokens;
    }
    if (!unkeyed && call.output_key !== undefined) sharable += call.output_tokens;
    this.sharable_tokens = sharable;
  }

  blockKey(block: number, blockSize: number): number {
    if (!this.starts) this.build();
    const starts = this.starts!;
    const position = (block + 1) * blockSize - 1;
    // Blocks are asked for mostly in increasing order: walk a cursor, fall back to a rescan.
    if (starts[this.cursor] > position) this.cursor = 0;
    while (this.cursor + 1 < starts.length && starts[this.cursor + 1] <= position) this.cursor++;
    return this.chains![this.cursor] * OFFSET_SPAN + (position - starts[this.cursor]);
  }

  private build(): void {
    const starts: number[] = [];
    const chains: number[] = [];
    let parent = 0;
    let start = 0;
    // After unkeyed content the chain is unique whatever follows, so later segments take fresh ids
    // too instead of filling the interner with entries nothing can ever share.
    let unique = false;
    const pieces = [...this.call.segments, { key: this.call.output_key, tokens: this.call.output_tokens }];
    for (const segment of pieces) {
      if (segment.key === undefined) unique = true;
      for (let offset = 0; offset < segment.tokens; offset += OFFSET_SPAN) {
        parent = unique ? this.interner.fresh() : this.interner.segmentChain(parent, segment, offset);
        starts.push(start + offset);
        chains.push(parent);
      }
      start += segment.tokens;
    }
    this.starts = starts;
    this.chains = chains;
  }
}
