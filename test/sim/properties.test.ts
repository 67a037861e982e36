import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RequestSpec } from "../../src/core/types.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import { runTestCluster, testInstances } from "../helpers/cluster.ts";
import { clusterShape, expectEveryCallClosed } from "../helpers/sim-invariants.ts";

const MAX_MODEL_LEN = 400;

const engineKnobs = fc
  .record({
    block_size: fc.constantFrom(4, 8, 16),
    max_num_batched_tokens: fc.integer({ min: 16, max: 512 }),
    max_num_seqs: fc.integer({ min: 1, max: 16 }),
    enable_chunked_prefill: fc.boolean(),
    enable_prefix_caching: fc.boolean(),
    scheduling_policy: fc.constantFrom("fcfs" as const, "priority" as const),
    spare_blocks: fc.integer({ min: 0, max: 300 }),
  })
  .map(({ spare_blocks, ...knobs }) => {
    // Without chunking, vLLM requires the budget to hold a whole max_model_len prompt.
    const engine: Partial<EngineConfig> = {
      ...knobs,
      max_num_batched_tokens: knobs.enable_chunked_prefill ? knobs.max_num_batched_tokens : MAX_MODEL_LEN,
    };
    // At least enough blocks for one maximal request, as vLLM checks at start-up.
    const blocks = Math.ceil(MAX_MODEL_LEN / knobs.block_size) + spare_blocks;
    return { engine, blocks };
  });

const requestMix = fc
  .array(
    fc.record({
      gap_s: fc.double({ min: 0, max: 0.5, noNaN: true }),
      prompt: fc.integer({ min: 1, max: 380 }),
      output: fc.integer({ min: 1, max: 60 }),
      shared: fc.option(fc.record({ key: fc.constantFrom("sys-a", "sys-b", "sys-c"), tokens: fc.integer({ min: 1, max: 200 }) }), { nil: undefined }),
      priority: fc.integer({ min: 0, max: 3 }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((rows) => {
    let t = 0;
    return rows.map((r, i): RequestSpec => {
      t += r.gap_s;
      const request: RequestSpec = { id: `r${i}`, arrival_s: t, prompt_tokens: r.prompt, output_tokens: r.output, priority: r.priority };
      if (r.shared && r.shared.tokens < r.prompt) {
        request.segments = [{ key: r.shared.key, tokens: r.shared.tokens }, { tokens: r.prompt - r.shared.tokens }];
      }
      return request;
    });
  });

describe("simulator invariants over random request mixes and engine knobs", () => {
  it("closes every call exactly once, finished with its full output or rejected, in causal time order, without leaking KV", async () => {
    await fc.assert(
      fc.asyncProperty(requestMix, engineKnobs, clusterShape, async (requests, { engine, blocks }, shape) => {
        const instances = testInstances(shape.instances, engine, blocks, MAX_MODEL_LEN);
        // simulate() itself asserts that every block is free at the end and no call stays open.
        const { rows, result, recorder } = await runTestCluster(requests, instances, shape);

        expectEveryCallClosed(rows, requests, MAX_MODEL_LEN);
        for (const row of rows) if (row.status === "finished") expect(row.dispatched_s!).toBeGreaterThanOrEqual(row.arrival_s);
        // Every later token of every finished call is one inter-token gap, however the engine
        // batches its reports; and the mean gap times the gaps spans first token → finish.
        const finished = rows.filter((r) => r.status === "finished");
        const itl = recorder.summary().itl_s;
        expect(itl.count).toBe(finished.reduce((n, r) => n + r.output_tokens! - 1, 0));
        const spans = finished.reduce((sum, r) => sum + (r.finished_s - r.first_token_s!), 0);
        expect(itl.mean * itl.count).toBeCloseTo(spans, 6);
        for (const { stats, num_gpu_blocks } of result.engines) {
          expect(stats.peak_used_blocks).toBeLessThanOrEqual(num_gpu_blocks);
          expect(stats.prefix_hit_tokens).toBeLessThanOrEqual(stats.prefix_queried_tokens);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("never hangs under extreme KV pressure: blocks for exactly one maximal request, many concurrent calls", async () => {
    const requests: RequestSpec[] = Array.from({ length: 40 }, (_, i) => ({
      id: `r${i}`,
      arrival_s: 0,
      prompt_tokens: 150 + ((i * 37) % 200),
      output_tokens: 40,
    }));
    const instances = testInstances(1, { block_size: 16 }, Math.ceil(MAX_MODEL_LEN / 16), MAX_MODEL_LEN);
    const { rows, result } = await runTestCluster(requests, instances);
    expect(rows.filter((r) => r.status === "finished")).toHaveLength(40);
    expect(result.engines[0].stats.preemptions).toBeGreaterThan(0);
  });
});
