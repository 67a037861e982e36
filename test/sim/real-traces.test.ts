import { describe, expect, it } from "vitest";
import { runSimulation } from "../../sim/run.ts";
import { sharedDataFile } from "../helpers/shared-data.ts";

const azure = sharedDataFile("traces/azure-llm-2023-conv.csv");
const mooncake = sharedDataFile("traces/mooncake-conversation.jsonl");

describe("replaying the real public traces (first 2,000 rows)", () => {
  it.skipIf(!azure)("Azure conversation trace: every request completes on the default cluster", async () => {
    const { report } = await runSimulation({
      workload: { kind: "trace", path: azure!, format: "azure", limit: 2000, arrival: "trace" },
    });
    const calls = report.summary.calls;
    expect(calls.arrived).toBe(2000);
    expect(calls.completed + calls.rejected).toBe(2000);
    expect(calls.completed).toBeGreaterThan(1990);
    expect(report.summary.ttft_s.p50).toBeGreaterThan(0);
    expect(report.summary.throughput.output_tokens_per_s).toBeGreaterThan(0);
  });

  it.skipIf(!mooncake)("Mooncake conversation trace: shared hash_ids become prefix-cache hits", async () => {
    const { report } = await runSimulation({
      workload: { kind: "trace", path: mooncake!, format: "mooncake", limit: 2000, arrival: "trace" },
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
