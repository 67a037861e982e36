/** The simulator's invariants (test/sim/properties.test.ts) with the optional engine features on:
 *  CPU/disk KV tiers, prefix-aware reordering, and — driving one engine directly — prefetch,
 *  resize, sleep and wake at random points. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PromptSegment, RequestSpec } from "../../src/core/types.ts";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import { runTestCluster, testInstances } from "../helpers/cluster.ts";
import { clusterShape, expectEveryCallClosed } from "../helpers/sim-invariants.ts";
import { harness } from "./engine-harness.ts";

const MAX_MODEL_LEN = 400;

const tierKnobs = fc.record({
  cpu_kv_blocks: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 80 })),
  disk_kv_blocks: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
  cpu_bandwidth_bytes_per_s: fc.constantFrom(1e9, 25e9, 64e9),
  disk_bandwidth_bytes_per_s: fc.constantFrom(0.5e9, 5e9),
  kv_block_bytes: fc.constantFrom(2 ** 16, 2 ** 21, 2 ** 23),
  waiting_reorder_window: fc.constantFrom(0, 1, 2, 4, 16),
});

const engineKnobs = fc
  .record({
    block_size: fc.constantFrom(4, 8, 16),
    max_num_batched_tokens: fc.integer({ min: 16, max: 512 }),
    max_num_seqs: fc.integer({ min: 1, max: 16 }),
    enable_chunked_prefill: fc.boolean(),
    enable_prefix_caching: fc.boolean(),
    scheduling_policy: fc.constantFrom("fcfs" as const, "priority" as const),
    // Few spare blocks: the GPU cache must evict, so the lower tiers fill and get hit.
    spare_blocks: fc.integer({ min: 0, max: 30 }),
    tiers: tierKnobs,
  })
  .map(({ spare_blocks, tiers, ...knobs }) => {
    const engine: Partial<EngineConfig> = {
      ...knobs,
      ...tiers,
      max_num_batched_tokens: knobs.enable_chunked_prefill ? knobs.max_num_batched_tokens : MAX_MODEL_LEN,
    };
    return { engine, blocks: Math.ceil(MAX_MODEL_LEN / knobs.block_size) + spare_blocks };
  });

const KEYS = ["sys-a", "sys-b", "sys-c", "sys-d", "sys-e", "sys-f"];

/** Requests that share prefixes in several layers (system prompt, then a document), so hits span
 *  GPU and lower-tier blocks. */
const requestMix = fc
  .array(
    fc.record({
      gap_s: fc.double({ min: 0, max: 0.3, noNaN: true }),
      prompt: fc.integer({ min: 1, max: 380 }),
      output: fc.integer({ min: 1, max: 40 }),
      shared: fc.option(fc.record({ key: fc.constantFrom(...KEYS), tokens: fc.integer({ min: 16, max: 240 }), doc: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }), {
        nil: undefined,
        freq: 4,
      }),
      priority: fc.integer({ min: 0, max: 3 }),
    }),
    { minLength: 1, maxLength: 80, size: "max" },
  )
  .map((rows) => {
    let t = 0;
    return rows.map((r, i): RequestSpec => {
      t += r.gap_s;
      const request: RequestSpec = { id: `r${i}`, arrival_s: t, prompt_tokens: r.prompt, output_tokens: r.output, priority: r.priority };
      if (r.shared && r.shared.tokens < r.prompt) {
        const segments: PromptSegment[] = [{ key: r.shared.key, tokens: r.shared.tokens }];
        let rest = r.prompt - r.shared.tokens;
        if (r.shared.doc !== undefined && rest > 40) {
          segments.push({ key: `doc-${r.shared.doc}`, tokens: 40 });
          rest -= 40;
        }
        segments.push({ tokens: rest });
        request.segments = segments;
      }
      return request;
    });
  });

describe("simulator invariants with KV tiers and prefix-aware reordering", () => {
  it("closes every call, never holds more blocks than the capacity, leaks nothing, hits ≤ queried, tiers add up", async () => {
    await fc.assert(
      fc.asyncProperty(requestMix, engineKnobs, clusterShape, async (requests, { engine, blocks }, shape) => {
        const instances = testInstances(shape.instances, engine, blocks, MAX_MODEL_LEN);
        // simulate() itself asserts that every block is free at the end and no call stays open.
        const { rows, result, recorder } = await runTestCluster(requests, instances, shape);

        expectEveryCallClosed(rows, requests, MAX_MODEL_LEN);
        for (const { stats, num_gpu_blocks } of result.engines) {
          expect(stats.peak_used_blocks).toBeLessThanOrEqual(num_gpu_blocks);
          expect(stats.prefix_hit_tokens).toBeLessThanOrEqual(stats.prefix_queried_tokens);
          expect(stats.gpu_hit_tokens + stats.cpu_hit_tokens + stats.disk_hit_tokens).toBe(stats.prefix_hit_tokens);
          if (!engine.cpu_kv_blocks) expect(stats.cpu_hit_tokens).toBe(0);
          if (!engine.disk_kv_blocks) expect(stats.disk_hit_tokens).toBe(0);
        }
        const cache = recorder.summary().prefix_cache;
        expect(cache.gpu_hit_tokens! + cache.cpu_hit_tokens! + cache.disk_hit_tokens!).toBe(cache.hit_tokens);
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it("the lower tiers are used: a run that evicts shared prefixes hits in the CPU tier", async () => {
    const requests: RequestSpec[] = Array.from({ length: 60 }, (_, i) => ({
      id: `r${i}`,
      arrival_s: i * 0.05,
      prompt_tokens: 300,
      output_tokens: 4,
      segments: [{ key: `sys-${i % 6}`, tokens: 256 }, { tokens: 44 }],
    }));
    const instances = testInstances(1, { cpu_kv_blocks: 200, waiting_reorder_window: 4 }, 40, MAX_MODEL_LEN);
    const { result, recorder } = await runTestCluster(requests, instances);
    const stats = result.engines[0].stats;
    expect(stats.cpu_hit_tokens).toBeGreaterThan(0);
    expect(stats.swap_wait_s).toBeGreaterThan(0);
    const report = recorder.instances(instances.map((i) => i.spec))[0];
    expect(report.prefix_cpu_hit_tokens).toBe(stats.cpu_hit_tokens);
    expect(report.prefix_gpu_hit_tokens! + report.prefix_cpu_hit_tokens! + report.prefix_disk_hit_tokens!).toBe(report.prefix_hit_tokens);
  });
});

type Op =
  | { kind: "add"; prompt: number; output: number; key: number | undefined; shared: number; priority: number }
  | { kind: "step" }
  | { kind: "prefetch"; prompt: number; key: number; shared: number }
  | { kind: "resize"; blocks: number }
  | { kind: "sleep"; wake: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      prompt: fc.integer({ min: 1, max: 300 }),
      output: fc.integer({ min: 1, max: 30 }),
      key: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined, freq: 4 }),
      shared: fc.integer({ min: 16, max: 250 }),
      priority: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ kind: "step" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("prefetch" as const),
      prompt: fc.integer({ min: 2, max: 300 }),
      key: fc.integer({ min: 0, max: 5 }),
      shared: fc.integer({ min: 16, max: 250 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("resize" as const), blocks: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sleep" as const), wake: fc.integer({ min: 1, max: 120 }) }) },
);

function segmentsOf(prompt: number, key: number | undefined, shared: number): PromptSegment[] | undefined {
  if (key === undefined || shared >= prompt) return undefined;
  return [{ key: `p${key}`, tokens: shared }, { tokens: prompt - shared }];
}

describe("one engine under random enqueues, steps, prefetches, resizes and sleeps", () => {
  it("keeps its block accounting exact and finishes every accepted request", () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 150, size: "max" }),
        fc.record({
          block_size: fc.constantFrom(4, 16),
          max_num_batched_tokens: fc.integer({ min: 16, max: 400 }),
          max_num_seqs: fc.integer({ min: 1, max: 8 }),
          enable_chunked_prefill: fc.constant(true),
          scheduling_policy: fc.constantFrom("fcfs" as const, "priority" as const),
          initial: fc.integer({ min: 0, max: 30 }),
          tiers: tierKnobs,
        }),
        (ops, { initial, tiers, ...knobs }) => {
          const h = harness({ ...knobs, ...tiers }, Math.ceil(MAX_MODEL_LEN / knobs.block_size) + initial, MAX_MODEL_LEN);
          const e = h.engine;
          const accepted = new Set<string>();
          // Plain checks (this runs after every op; expect() is slow in a loop this hot).
          const check = () => {
            const b = e.blocks;
            const fail = (what: string) => {
              throw new Error(`${what}: used ${b.usedBlocks}, free ${b.freeBlocks}, capacity ${b.numBlocks}, cached ${b.cachedBlocks}`);
            };
            if (b.usedBlocks + b.freeBlocks !== b.numBlocks) fail("used + free ≠ capacity");
            if (b.usedBlocks < 0 || b.freeBlocks < 0) fail("negative count");
            if (b.cachedBlocks > b.numBlocks) fail("more cached blocks than capacity");
            if (e.tiers && (e.tiers.cpuBlocks > e.tiers.cpuCapacity || e.tiers.diskBlocks > e.tiers.diskCapacity)) fail("tier over capacity");
          };
          let n = 0;
          for (const o of ops) {
            if (o.kind === "add") {
              if (e.asleep) e.wake();
              const id = `r${n++}`;
              const before = h.log.rejected.length;
              h.add(id, o.prompt, o.output, segmentsOf(o.prompt, o.key, o.shared), o.priority);
              if (h.log.rejected.length === before) accepted.add(id);
            } else if (o.kind === "step") {
              h.step();
            } else if (o.kind === "prefetch") {
              const call = h.call(`pf${n}`, o.prompt, 1, segmentsOf(o.prompt, o.key, o.shared) ?? [{ key: `p${o.key}`, tokens: o.prompt }]);
              const r = e.prefetch(h.now, call, h.identity(call));
              expect(r.ready_s).toBeGreaterThanOrEqual(h.now);
            } else if (o.kind === "resize") {
              if (!e.asleep) {
                const reached = e.resize(o.blocks);
                expect(reached).toBeGreaterThanOrEqual(Math.max(1, o.blocks, e.blocks.usedBlocks));
                if (reached > o.blocks) expect(reached).toBeGreaterThanOrEqual(e.blocks.usedBlocks);
              }
            } else {
              // The host only sleeps an idle engine; a refused sleep changes nothing.
              const idle = !e.hasWork && !e.busy;
              expect(e.sleep()).toBe(idle || e.asleep);
              if (e.asleep) {
                expect(e.blocks.numBlocks).toBe(0);
                e.wake(Math.ceil(MAX_MODEL_LEN / knobs.block_size) + o.wake);
              }
            }
            check();
          }
          if (e.asleep) e.wake();
          h.drain();
          check();
          expect(e.blocks.usedBlocks).toBe(0);
          expect(new Set(h.log.finished)).toEqual(accepted);
          expect(h.log.finished).toHaveLength(accepted.size);
          const s = e.stats;
          expect(s.prefix_hit_tokens).toBeLessThanOrEqual(s.prefix_queried_tokens);
          expect(s.gpu_hit_tokens + s.cpu_hit_tokens + s.disk_hit_tokens).toBe(s.prefix_hit_tokens);
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);
});
