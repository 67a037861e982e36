import { describe, expect, it } from "vitest";
import { PrefixInterner, SegmentTokenIdentity } from "../../src/core/prefix-identity.ts";
import type { LlmCall, PromptSegment } from "../../src/core/types.ts";

const call = (id: string, segments: PromptSegment[], output_tokens = 4, output_key?: string): LlmCall => ({
  id,
  arrival_s: 0,
  prompt_tokens: segments.reduce((sum, s) => sum + s.tokens, 0),
  output_tokens,
  segments,
  output_key,
});

describe("PrefixInterner", () => {
  it("numbers chains in first-seen order, the same (parent, key) alike whatever the segment object", () => {
    const interner = new PrefixInterner();
    const a = interner.segmentChain(0, { key: "system" }, 0);
    const b = interner.segmentChain(a, { key: "turn-1" }, 0);
    const c = interner.segmentChain(0, { key: "turn-1" }, 0); // same key, other parent: other chain
    expect([a, b, c]).toEqual([1, 2, 3]);
    expect(interner.segmentChain(0, { key: "system" }, 0)).toBe(a);
    expect(interner.segmentChain(a, { key: "turn-1" }, 0)).toBe(b);
    expect(interner.fresh()).toBe(4);
  });

  it("keeps a segment's later pieces apart from first pieces whose key looks alike", () => {
    const interner = new PrefixInterner();
    const later = interner.segmentChain(0, { key: "x" }, 5); // piece at offset 5 of segment "x"
    const first = interner.segmentChain(0, { key: "x#5" }, 0); // first piece of segment "x#5"
    expect(later).not.toBe(first);
    expect(interner.segmentChain(0, { key: "x" }, 5)).toBe(later);
  });

  it("answers a segment object seen after two parents right for each parent", () => {
    const interner = new PrefixInterner();
    const shared = { key: "question", tokens: 16 };
    const p1 = interner.segmentChain(0, { key: "history-1" }, 0);
    const p2 = interner.segmentChain(0, { key: "history-2" }, 0);
    const after1 = interner.segmentChain(p1, shared, 0);
    const after2 = interner.segmentChain(p2, shared, 0);
    expect(after1).not.toBe(after2);
    expect([interner.segmentChain(p1, shared, 0), interner.segmentChain(p2, shared, 0)]).toEqual([after1, after2]);
  });
});

describe("SegmentTokenIdentity", () => {
  it("gives calls the same block keys over their common keyed prefix and different ones after", () => {
    const interner = new PrefixInterner();
    const one = new SegmentTokenIdentity(
      call("1", [
        { key: "sys", tokens: 32 },
        { key: "q1", tokens: 16 },
      ]),
      interner,
    );
    const two = new SegmentTokenIdentity(
      call("2", [
        { key: "sys", tokens: 32 },
        { key: "q2", tokens: 16 },
      ]),
      interner,
    );
    const keys = (identity: SegmentTokenIdentity) => [0, 1, 2].map((b) => identity.blockKey(b, 16));
    const [k1, k2] = [keys(one), keys(two)];
    expect(k1.slice(0, 2)).toEqual(k2.slice(0, 2));
    expect(k1[2]).not.toBe(k2[2]);
    expect(one.sharable_tokens).toBe(48); // no output_key: the output is not shareable
  });
});
