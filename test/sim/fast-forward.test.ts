import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callRowToCsv } from "../../src/metrics/calls-csv.ts";
import { reportToJson } from "../../src/metrics/report-schema.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { DEFAULT_ENGINE_CONFIG } from "../../src/model/engine-config.ts";
import { PrefixInterner, SegmentTokenIdentity } from "../../src/core/prefix-identity.ts";
import { Engine, type EngineListener } from "../../sim/engine/engine.ts";
import { runSimulation } from "../../sim/run.ts";
import { linearLatency } from "./engine-harness.ts";
import type { Workload } from "../../run/workload.ts";

/** One run's outputs as bytes: report.json, calls.csv and workflows rows. */
async function outputs(cluster: ClusterConfig, workload: Workload, dispatch: string, scheduling: string, observe: "scraped" | "oracle", interval_s: number, fastForward: boolean) {
  const calls: string[] = [];
  const workflows: string[] = [];
  const { report } = await runSimulation({
    cluster,
    workload,
    dispatch,
    scheduling,
    seed: 5,
    observability: { mode: observe, interval_s },
    fastForward,
    onCallClosed: (row) => calls.push(callRowToCsv(row)),
    onWorkflowClosed: (row) => workflows.push(JSON.stringify(row)),
  });
  return `${reportToJson(report)}\n${calls.join("\n")}\n${workflows.join("\n")}`;
}

const engineKnobs = fc.record({
  block_size: fc.constantFrom(8, 16),
  max_num_seqs: fc.integer({ min: 2, max: 64 }),
  max_num_batched_tokens: fc.constantFrom(256, 2048),
  enable_prefix_caching: fc.boolean(),
  scheduling_policy: fc.constantFrom("fcfs" as const, "priority" as const),
  // Few blocks force preemptions; the tier sizes add swap-ins and evictions into the CPU tier.
  num_gpu_blocks_override: fc.option(fc.integer({ min: 300, max: 2000 }), { nil: undefined }),
  cpu_kv_blocks: fc.option(fc.integer({ min: 50, max: 500 }), { nil: undefined }),
  // Long latencies put many steps' token-gap deliveries in flight at once (virtual-deliveries.ts).
  api_latency_s: fc.constantFrom(0, 0.0015, 0.002, 0.05),
  max_model_len: fc.constant(2400),
});

const workloads: fc.Arbitrary<Workload> = fc.oneof(
  fc
    .record({
      count: fc.integer({ min: 20, max: 120 }),
      rate: fc.constantFrom(5, 40, 400),
      output: fc.constantFrom("lognormal:64,1", "uniform:1,300"),
      seed: fc.integer({ min: 1, max: 1000 }),
    })
    .map(
      ({ count, rate, output, seed }): Workload => ({
        kind: "generated",
        options: {
          count,
          rate,
          arrival: "poisson",
          prompt: "lognormal:512,1",
          prompt_min_tokens: 8,
          prompt_max_tokens: 1800,
          output,
          output_min_tokens: 1,
          output_max_tokens: 600,
          prefix_groups: 4,
          prefix_tokens: 128,
          prefix_zipf: 1,
          seed,
        },
      }),
    ),
  fc.constantFrom<Workload>(
    { kind: "app", name: "supervisor", params: {}, timing: { kind: "poisson", rate: 2, count: 4 } },
    { kind: "app", name: "guessing-game", params: { participants: "12", steps: "2" }, timing: { kind: "fixed", count: 1, interval_s: 0 } },
    { kind: "app", name: "debate", params: { truthful: "6", adversarial: "6", rounds: "2" }, timing: { kind: "fixed", count: 2, interval_s: 0 } },
    { kind: "app", name: "coding-agent", params: {}, timing: { kind: "poisson", rate: 1, count: 3 } },
  ),
);

describe("decode fast-forward", () => {
  it("gives byte-identical reports, calls.csv and workflow rows to the step-by-step path", async () => {
    await fc.assert(
      fc.asyncProperty(
        engineKnobs,
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<ClusterConfig["latency"]>({ kind: "roofline" }, { kind: "step" }),
        workloads,
        fc.constantFrom("round-robin", "least-outstanding", "least-kv", "prefix-affinity"),
        fc.constantFrom("fcfs", "plas"),
        fc.constantFrom("scraped" as const, "oracle" as const),
        fc.constantFrom(0.02, 0.1),
        // A second group of instances with its own API latency: deliveries of two latencies interleave.
        fc.option(fc.constantFrom(0, 0.001, 0.03), { nil: undefined }),
        async (knobs, count, latency, workload, dispatch, scheduling, observe, interval_s, otherLatency_s) => {
          const engine = Object.fromEntries(Object.entries(knobs).filter(([, v]) => v !== undefined));
          const instances: ClusterConfig["instances"] = [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count, engine }];
          if (otherLatency_s !== undefined)
            instances.push({ name: "far", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1, engine: { ...engine, api_latency_s: otherLatency_s } });
          const cluster: ClusterConfig = { latency, instances };
          const fast = await outputs(cluster, workload, dispatch, scheduling, observe, interval_s, true);
          const slow = await outputs(cluster, workload, dispatch, scheduling, observe, interval_s, false);
          expect(fast).toBe(slow);
        },
      ),
      { numRuns: 25 },
    );
  }, 300_000);

  it("fast-forwards the steps of a steady decode batch and reports every token as the step-by-step engine does", () => {
    const trace = (fastForward: boolean) => {
      const calls: string[] = [];
      const listener: EngineListener = {
        firstToken: (t, r) => calls.push(`first ${r.id} ${t}`),
        tokenGaps: (t, gap, count) => calls.push(`gaps ${t} ${gap} ${count}`),
        finished: (t, r) => calls.push(`finished ${r.id} ${t} ${r.output_done}`),
        rejected: (t, r, reason) => calls.push(`rejected ${r.id} ${t} ${reason}`),
      };
      const latency = linearLatency(1e-7);
      // 40 blocks of 4 tokens: the batch outgrows them, so the run also ends at a preemption.
      const engine = new Engine("e", { ...DEFAULT_ENGINE_CONFIG, block_size: 4 }, 4096, 40, latency, listener, fastForward);
      const interner = new PrefixInterner();
      for (let i = 0; i < 5; i++) {
        const call = { id: `c${i}`, arrival_s: 0, prompt_tokens: 10 + i, output_tokens: 20 + 7 * i, segments: [] };
        engine.enqueue(0, call, 0, new SegmentTokenIdentity(call, interner));
      }
      let now = 0;
      for (let step = 0; engine.hasWork; step++) {
        const duration = engine.startStep(now);
        if (duration === undefined) break;
        now += duration;
        engine.finishStep(now);
        calls.push(`kv ${engine.kv.usedBlocks} ${engine.stats.preemptions}`);
        if (step === 30) engine.abort("c4"); // an abort inside a run brings the requests up to date first
      }
      return { calls, steps: engine.stats.steps, fastForwarded: engine.fastForwardedSteps };
    };
    const fast = trace(true);
    const slow = trace(false);
    expect(fast.calls).toEqual(slow.calls);
    expect(slow.fastForwarded).toBe(0);
    expect(fast.fastForwarded).toBeGreaterThan(fast.steps / 2);
    expect(fast.calls.some((c) => c.startsWith("kv") && !c.endsWith(" 0"))).toBe(true); // it preempted
  });
});
