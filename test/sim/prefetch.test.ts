import { describe, expect, it } from "vitest";
import type { RequestSpec } from "../../src/core/types.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { simulate } from "../../sim/host.ts";
import type { Arrival } from "../../src/core/arrival.ts";
import { testInstances } from "../helpers/cluster.ts";

/** A workflow whose second call continues the first after a 10 s tool, while unrelated requests
 *  flood the small GPU cache and push the first call's blocks down to the CPU tier. */
function arrivals(): Arrival[] {
  const workflow: WorkflowSpec = {
    id: "w",
    arrival_s: 0,
    app: "t",
    agents: { a: { system_tokens: 512 } },
    steps: [
      { kind: "llm", id: "first", after: [], agent: "a", input_tokens: 1024, output_tokens: 8 },
      { kind: "tool", id: "tool", after: ["first"], duration_s: 10, output_tokens: 16 },
      { kind: "llm", id: "second", after: ["tool"], agent: "a", history: "first", input_tokens: 16, output_tokens: 4 },
    ],
  };
  const flood: RequestSpec[] = Array.from({ length: 30 }, (_, i) => ({ id: `f${i}`, arrival_s: 2 + i * 0.1, prompt_tokens: 1500, output_tokens: 2 }));
  return [workflow, ...flood];
}

async function run(enable_prefetch: boolean) {
  const rows = new Map<string, { ttft_s: number | null; cached: number | null }>();
  const recorder = new Recorder({ slo: {}, onCallClosed: (r) => rows.set(r.call_id, { ttft_s: r.ttft_s, cached: r.cached_tokens }) });
  async function* source() {
    yield arrivals();
  }
  // 200 GPU blocks (3,200 tokens): the flood evicts the workflow's blocks to the CPU tier.
  const instances = testInstances(1, { cpu_kv_blocks: 4000, cpu_bandwidth_bytes_per_s: 1e9, kv_block_bytes: 2 * 1024 * 1024, enable_prefetch }, 200, 3000);
  await simulate(source(), {
    instances,
    scheduling: createSchedulingPolicy("fcfs"),
    dispatch: createDispatchPolicy("round-robin"),
    recorder,
    rng: new RngStreams(1),
    observability: { mode: "scraped", interval_s: 0.5 },
  });
  return { second: rows.get("w/second")!, summary: recorder.summary() };
}

describe("prefetch while a workflow's tool runs", () => {
  it("brings the next call's prefix back from the CPU tier before it is released, so it pays no swap-in", async () => {
    const off = await run(false);
    const on = await run(true);
    // Without prefetch, the prefix comes back from the CPU tier at admission, paying the transfer.
    expect(off.summary.prefix_cache.cpu_hit_tokens).toBeGreaterThan(0);
    // With it, the blocks were moved during the tool: the same prefix hits on the GPU.
    expect(on.summary.prefix_cache.cpu_hit_tokens ?? 0).toBe(0);
    expect(on.second.cached).toBe(off.second.cached);
    expect(on.second.ttft_s!).toBeLessThan(off.second.ttft_s!);
  });
});
