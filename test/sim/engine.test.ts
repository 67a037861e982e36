import { describe, expect, it } from "vitest";
import type { LlmCall, PromptSegment } from "../../src/core/types.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "../../src/model/engine-config.ts";
import { Engine, type EngineListener } from "../../sim/engine/engine.ts";
import type { EngineRequest } from "../../sim/engine/request.ts";
import { PrefixInterner, SegmentTokenIdentity } from "../../src/core/prefix-identity.ts";
import type { BatchShape, LatencyModel } from "../../src/model/latency-model.ts";

/** A latency model that records every step's shape and takes 10 ms. */
class ShapeRecorder implements LatencyModel {
  readonly info = {
    schema: "tandem.latency/v1",
    kind: "fitted",
    model: "t",
    gpu: "t",
    tensor_parallel: 1,
    coefficients: { overhead_s: 0.01, per_prefill_token_s: 0, per_attention_pair_s: 0, per_decode_seq_s: 0, per_kv_token_s: 0 },
  } as const;
  shapes: BatchShape[] = [];
  stepTime_s(batch: BatchShape): number {
    this.shapes.push({ ...batch });
    return 0.01;
  }
}

interface Log {
  first: string[];
  finished: string[];
  rejected: [string, string][];
  tokens: number;
}

function setup(engine: Partial<EngineConfig>, blocks: number, max_model_len = 4096) {
  const latency = new ShapeRecorder();
  const log: Log = { first: [], finished: [], rejected: [], tokens: 0 };
  const listener: EngineListener = {
    firstToken: (_t, r) => log.first.push(r.id),
    tokenGaps: (_t, _gap, n) => (log.tokens += n),
    finished: (_t, r) => log.finished.push(r.id),
    rejected: (_t, r, reason) => log.rejected.push([r.id, reason]),
  };
  const e = new Engine("e0", { ...DEFAULT_ENGINE_CONFIG, ...engine }, max_model_len, blocks, latency, listener);
  const interner = new PrefixInterner();
  let now = 0;
  const requests = new Map<string, EngineRequest>();
  return {
    engine: e,
    latency,
    log,
    requests,
    add(id: string, prompt: number, output: number, segments?: PromptSegment[], priority = 0) {
      const call: LlmCall = { id, arrival_s: now, prompt_tokens: prompt, output_tokens: output, segments: segments ?? [{ tokens: prompt }] };
      requests.set(id, e.enqueue(now, call, priority, new SegmentTokenIdentity(call, interner)));
    },
    /** Runs one step; returns false when there was nothing to run. */
    step(): boolean {
      const d = e.startStep(now);
      if (d === undefined) return false;
      now += d;
      e.finishStep(now);
      return true;
    },
    drain(maxSteps = 10_000) {
      for (let i = 0; i < maxSteps && this.step(); i++);
    },
  };
}

describe("engine step scheduling (vLLM V1 semantics)", () => {
  it("serves running requests first and chunks a waiting prefill that does not fit the token budget", () => {
    const s = setup({ max_num_batched_tokens: 100 }, 1000);
    s.add("a", 30, 3);
    s.add("b", 150, 2);
    s.step();
    expect(s.latency.shapes[0]).toMatchObject({ num_seqs: 2, prefill_tokens: 100, decode_seqs: 0 });
    expect(s.log.first).toEqual(["a"]); // b's prefill is only partly done
    s.step();
    // a decodes one token, b gets the remaining 80 prompt tokens and samples its first token.
    expect(s.latency.shapes[1]).toMatchObject({ num_seqs: 2, prefill_tokens: 80, decode_seqs: 1 });
    expect(s.log.first).toEqual(["a", "b"]);
  });

  it("does not chunk when chunked prefill is off: a prefill that does not fit waits for the next step", () => {
    const s = setup({ max_num_batched_tokens: 100, enable_chunked_prefill: false }, 1000);
    s.add("a", 30, 3);
    s.add("b", 90, 2);
    s.step();
    expect(s.latency.shapes[0]).toMatchObject({ num_seqs: 1, prefill_tokens: 30 });
    s.step();
    expect(s.latency.shapes[1]).toMatchObject({ num_seqs: 2, prefill_tokens: 90, decode_seqs: 1 });
  });

  it("admits at most max_num_seqs sequences", () => {
    const s = setup({ max_num_seqs: 2 }, 1000);
    for (const id of ["a", "b", "c"]) s.add(id, 10, 5);
    s.step();
    expect(s.latency.shapes[0].num_seqs).toBe(2);
    expect(s.engine.waitingCount).toBe(1);
  });

  it("produces exactly the requested output tokens and then frees every block", () => {
    const s = setup({}, 1000);
    s.add("a", 40, 7);
    s.drain();
    expect(s.log.finished).toEqual(["a"]);
    expect(s.log.tokens).toBe(6); // the first token is reported separately
    expect(s.requests.get("a")!.output_done).toBe(7);
    expect(s.engine.blocks.usedBlocks).toBe(0);
  });

  it("rejects a request longer than max_model_len with a reason", () => {
    const s = setup({}, 1000, 100);
    s.add("long", 90, 20);
    expect(s.log.rejected).toEqual([["long", "exceeds_max_model_len"]]);
    expect(s.engine.hasWork).toBe(false);
  });

  it("rejects when the waiting queue is full", () => {
    const s = setup({ max_waiting: 1 }, 1000);
    s.add("a", 10, 2);
    s.add("b", 10, 2);
    expect(s.log.rejected).toEqual([["b", "queue_full"]]);
  });
});

describe("preemption", () => {
  it("preempts the newest running request when blocks run out, and recomputes it later", () => {
    // 6 blocks of 16 tokens. a and b each take 2 blocks for their 32-token prompts and grow by one
    // block every 16 decode tokens; the third growth overflows and b (newest) is preempted.
    const s = setup({}, 6);
    s.add("a", 32, 40);
    s.add("b", 32, 40);
    s.drain();
    const a = s.requests.get("a")!;
    const b = s.requests.get("b")!;
    expect(b.preemptions).toBeGreaterThan(0);
    expect(a.preemptions).toBe(0);
    expect(s.engine.stats.preemptions).toBe(a.preemptions + b.preemptions);
    expect(s.log.finished.sort()).toEqual(["a", "b"]);
    expect(b.output_done).toBe(40);
    expect(s.engine.blocks.usedBlocks).toBe(0);
  });

  it("keeps cached_tokens from the first admission when a preempted request is recomputed from its own cached blocks", () => {
    // As in the test above, b is preempted; its computed blocks stay cached, so its re-admission
    // hits them. OpenAI's cached_tokens reports the first admission's hit (none: b's prompt is
    // unique), not the recompute's.
    const s = setup({}, 6);
    s.add("a", 32, 40);
    s.add("b", 32, 40);
    s.drain();
    const b = s.requests.get("b")!;
    expect(b.preemptions).toBeGreaterThan(0);
    expect(s.engine.stats.prefix_hit_tokens).toBeGreaterThan(0); // the recompute did hit
    expect(b.cached_tokens).toBe(0);
    expect(b.state).toBe("finished");
  });

  it("in priority mode serves the waiting queue by priority", () => {
    const s = setup({ scheduling_policy: "priority", max_num_seqs: 1 }, 100);
    s.add("low", 16, 2, undefined, 5);
    s.add("high", 16, 2, undefined, 1);
    s.step();
    expect(s.log.first).toEqual(["high"]);
  });

  it("in priority mode preempts the lowest-priority running request, even when it is not the newest", () => {
    // 6 blocks: "low" (priority 9) is admitted first, then "high" (priority 0); each grows by a
    // block every 16 decode tokens, and when blocks run out the victim must be "low", although
    // "high" is the newest.
    const s = setup({ scheduling_policy: "priority" }, 6);
    s.add("low", 32, 40, undefined, 9);
    s.step();
    s.add("high", 32, 40, undefined, 0);
    s.drain();
    expect(s.requests.get("low")!.preemptions).toBeGreaterThan(0);
    expect(s.requests.get("high")!.preemptions).toBe(0);
    expect(s.log.finished.sort()).toEqual(["high", "low"]);
  });
});

describe("prefix cache", () => {
  it("reuses the cached blocks of a shared prefix and reports them as cached tokens", () => {
    const s = setup({}, 1000);
    s.add("a", 80, 2, [{ key: "sys", tokens: 64 }, { tokens: 16 }]);
    s.drain();
    s.add("b", 80, 2, [{ key: "sys", tokens: 64 }, { tokens: 16 }]);
    s.step();
    expect(s.requests.get("b")!.cached_tokens).toBe(64);
    expect(s.latency.shapes.at(-1)!.prefill_tokens).toBe(16);
    expect(s.engine.stats.prefix_hit_tokens).toBe(64);
    expect(s.engine.stats.prefix_queried_tokens).toBe(160);
  });

  it("shares a prefix between two requests admitted in the same step, as vLLM caches blocks at allocation", () => {
    const s = setup({}, 1000);
    s.add("a", 600, 2, [{ key: "sys", tokens: 512 }, { tokens: 88 }]);
    s.add("b", 600, 2, [{ key: "sys", tokens: 512 }, { tokens: 88 }]);
    s.step();
    expect(s.latency.shapes[0].num_seqs).toBe(2);
    expect(s.requests.get("a")!.cached_tokens).toBe(0);
    expect(s.requests.get("b")!.cached_tokens).toBe(512);
    expect(s.latency.shapes[0].prefill_tokens).toBe(600 + 88);
    s.drain();
    expect(s.engine.blocks.usedBlocks).toBe(0);
  });

  it("recomputes the last block when the whole prompt is cached", () => {
    const s = setup({}, 1000);
    const same = [{ key: "doc", tokens: 64 }];
    s.add("a", 64, 1, same);
    s.drain();
    s.add("b", 64, 1, same);
    s.step();
    expect(s.requests.get("b")!.cached_tokens).toBe(48);
  });

  it("shares nothing between prompts that differ in their first segment", () => {
    const s = setup({}, 1000);
    s.add("a", 64, 1, [
      { key: "x", tokens: 32 },
      { key: "sys", tokens: 32 },
    ]);
    s.drain();
    s.add("b", 64, 1, [
      { key: "y", tokens: 32 },
      { key: "sys", tokens: 32 },
    ]);
    s.step();
    expect(s.requests.get("b")!.cached_tokens).toBe(0);
  });

  it("evicts the least recently freed cached blocks first", () => {
    // 8 blocks. "old" and then "new" leave 2 cached full blocks each when they finish. Later
    // allocations ("filler", then the fresh tail block of "again-new") take free blocks from the
    // head of the queue, where the least recently freed sit: "old"'s are evicted, "new"'s survive.
    const s = setup({}, 8);
    s.add("old", 33, 1, [{ key: "old", tokens: 32 }, { tokens: 1 }]);
    s.drain();
    s.add("new", 33, 1, [{ key: "new", tokens: 32 }, { tokens: 1 }]);
    s.drain();
    s.add("filler", 64, 1);
    s.drain();
    s.add("again-new", 33, 1, [{ key: "new", tokens: 32 }, { tokens: 1 }]);
    s.add("again-old", 33, 1, [{ key: "old", tokens: 32 }, { tokens: 1 }]);
    s.step();
    expect(s.requests.get("again-new")!.cached_tokens).toBe(32);
    expect(s.requests.get("again-old")!.cached_tokens).toBe(0);
  });

  it("caches nothing when prefix caching is off", () => {
    const s = setup({ enable_prefix_caching: false }, 1000);
    s.add("a", 80, 2, [{ key: "sys", tokens: 64 }, { tokens: 16 }]);
    s.drain();
    s.add("b", 80, 2, [{ key: "sys", tokens: 64 }, { tokens: 16 }]);
    s.drain();
    expect(s.requests.get("b")!.cached_tokens).toBe(0);
    expect(s.engine.blocks.cachedBlocks).toBe(0);
  });
});
