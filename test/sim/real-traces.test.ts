import { describe, expect } from "vitest";
import { runSimulation } from "../../sim/run.ts";
import { sharedData } from "../helpers/requirements.ts";

const azure = sharedData("traces/azure-llm-2023-conv.csv");
const mooncake = sharedData("traces/mooncake-conversation.jsonl");

describe("replaying the real public traces (first 2,000 rows)", () => {
  azure.it("Azure conversation trace: every request completes on the default cluster", async () => {
    const { report } = await runSimulation({
      workload: { kind: "trace", path: azure.path, format: "azure", limit: 2000, arrival: "trace" },
    });
    const calls = report.summary.calls;
    expect(calls.arrived).toBe(2000);
    expect(calls.completed + calls.rejected).toBe(2000);
    expect(calls.completed).toBeGreaterThan(1990);
    expect(report.summary.ttft_s.p50).toBeGreaterThan(0);
    expect(report.summary.throughput.output_tokens_per_s).toBeGreaterThan(0);
  });

  mooncake.it("Mooncake conversation trace: shared hash_ids become prefix-cache hits", async () => {
    const { report } = await runSimulation({
      workload: { kind: "trace", path: mooncake.path, format: "mooncake", limit: 2000, arrival: "trace" },
      cluster: {
        instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 4, engine: { max_model_len: 8192 } }],
      },
    });
    const calls = report.summary.calls;
    expect(calls.arrived).toBe(2000);
    expect(calls.completed + calls.rejected + calls.failed).toBe(2000);
    expect(report.summary.prefix_cache.hit_tokens).toBeGreaterThan(0);
    expect(report.summary.prefix_cache.hit_rate).toBeGreaterThan(0.1);
  });
});
