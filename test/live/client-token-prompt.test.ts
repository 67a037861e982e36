import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { promptTokenIds, segmentTokenIds } from "../../live/client/token-prompt.ts";
import type { PromptSegment } from "../../src/core/types.ts";

const call = (id: string, segments: PromptSegment[]) => ({
  id,
  prompt_tokens: segments.reduce((s, x) => s + x.tokens, 0),
  segments,
});

describe("promptTokenIds", () => {
  it("gives calls that share keyed leading segments the same leading ids, and unique ids after", () => {
    const a = promptTokenIds(call("a", [{ key: "sys", tokens: 512 }, { key: "doc", tokens: 100 }, { tokens: 40 }]));
    const b = promptTokenIds(call("b", [{ key: "sys", tokens: 512 }, { key: "doc", tokens: 100 }, { tokens: 40 }]));
    expect(a).toHaveLength(652);
    expect(b.slice(0, 612)).toEqual(a.slice(0, 612));
    // The unkeyed tails differ: count equal positions (chance 1/29000 each).
    const same = a.slice(612).filter((t, i) => t === b[612 + i]).length;
    expect(same).toBeLessThan(3);
  });

  it("depends on the key: another key gives other ids", () => {
    const a = promptTokenIds(call("a", [{ key: "sys-1", tokens: 64 }]));
    const b = promptTokenIds(call("a", [{ key: "sys-2", tokens: 64 }]));
    expect(a.filter((t, i) => t === b[i]).length).toBeLessThan(3);
  });

  it("is deterministic, exact in length, and inside the vocab range", () => {
    const segs: PromptSegment[] = [{ key: "k", tokens: 3 }, { tokens: 5 }, { key: "k2", tokens: 2 }];
    const x = promptTokenIds(call("c1", segs));
    expect(promptTokenIds(call("c1", segs))).toEqual(x);
    expect(x).toHaveLength(10);
    expect(x.slice(0, 3)).toEqual(segmentTokenIds("k", 3));
    expect(x.slice(8)).toEqual(segmentTokenIds("k2", 2));
    const y = promptTokenIds(call("c1", segs), { vocab_min: 5000, vocab_max: 5010 });
    for (const t of y) expect(t >= 5000 && t < 5010).toBe(true);
  });

  it("treats a call without segments as one unique segment of prompt_tokens", () => {
    const a = promptTokenIds({ id: "x", prompt_tokens: 20, segments: [] });
    const b = promptTokenIds({ id: "y", prompt_tokens: 20 });
    expect(a).toHaveLength(20);
    expect(b).toHaveLength(20);
    expect(a.filter((t, i) => t === b[i]).length).toBeLessThan(3);
  });

  it("rejects segments that do not add up to prompt_tokens", () => {
    expect(() => promptTokenIds({ id: "z", prompt_tokens: 10, segments: [{ key: "a", tokens: 4 }] })).toThrow(/segments of 4 tokens/);
  });

  it("shares exactly the keyed prefix (property)", () => {
    const seg = fc.record({ key: fc.option(fc.constantFrom("s", "t", "u"), { nil: undefined }), tokens: fc.integer({ min: 1, max: 40 }) });
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 5 }), fc.array(seg, { maxLength: 3 }), (common, tail) => {
        const segs = common.map((s) => (s.key === undefined ? { tokens: s.tokens } : { key: s.key, tokens: s.tokens }));
        const rest = tail.map((s) => (s.key === undefined ? { tokens: s.tokens } : { key: s.key, tokens: s.tokens }));
        const a = promptTokenIds(call("p", [...segs, ...rest]));
        const b = promptTokenIds(call("q", segs));
        let keyed = 0;
        for (const s of segs) {
          if (s.key === undefined) break;
          keyed += s.tokens;
        }
        expect(a.length).toBe([...segs, ...rest].reduce((n, s) => n + s.tokens, 0));
        expect(a.slice(0, keyed)).toEqual(b.slice(0, keyed));
        if (keyed < b.length) {
          // the first unkeyed segment belongs to the call: a 16-token block of it never matches
          const end = Math.min(b.length, keyed + 16);
          expect(a.slice(keyed, end)).not.toEqual(b.slice(keyed, end));
        }
      }),
      { numRuns: 200 },
    );
  });
});
