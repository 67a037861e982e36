import { expect, it } from "vitest";
import { emptyStats, readTrace } from "../../traces/index.ts";
import { sharedData } from "../helpers/requirements.ts";
import { collect } from "./helpers.ts";

// The public traces live beside the project (../shared/data), not in it; a fresh clone lacks them.
const traces = sharedData("traces/azure-llm-2023-conv.csv", "traces/mooncake-conversation.jsonl");
const [AZURE, MOONCAKE] = traces.paths;

traces.describe("real traces in ../shared/data", () => {
  it("reads the whole Azure conversation trace quickly", async () => {
    const started = performance.now();
    const stats = emptyStats();
    const requests = await collect(readTrace(AZURE, "azure", { stats }));
    const elapsed_ms = performance.now() - started;
    expect(requests).toHaveLength(19_366);
    expect(stats.rows).toBe(19_366);
    expect(requests[0]).toEqual({ id: "0", arrival_s: 0, prompt_tokens: 374, output_tokens: 44 });
    expect(requests[1].arrival_s).toBeCloseTo(4.314579, 9);
    const last = requests[requests.length - 1];
    expect(last.arrival_s).toBeGreaterThan(3000);
    expect(last.arrival_s).toBeLessThan(3600);
    // Loose bound for loaded CI machines; typically 40–100 ms.
    expect(elapsed_ms).toBeLessThan(1000);
  });

  it("reads the Azure trace with limit 2000", async () => {
    const requests = await collect(readTrace(AZURE, "azure", { limit: 2000 }));
    expect(requests).toHaveLength(2000);
    expect(requests.every((r, i) => r.id === String(i) && r.prompt_tokens >= 1 && r.output_tokens >= 1)).toBe(true);
  });

  it("reads the Mooncake trace with limit 2000: segments sum to input_length and prefixes are shared", async () => {
    const requests = await collect(readTrace(MOONCAKE, "mooncake", { limit: 2000 }));
    expect(requests).toHaveLength(2000);
    expect(requests[0]).toMatchObject({ arrival_s: 0, prompt_tokens: 6758, output_tokens: 500 });
    for (const r of requests) {
      expect(r.segments!.reduce((a, s) => a + s.tokens, 0)).toBe(r.prompt_tokens);
    }
    // Most conversation requests start with block 0, the shared system prompt.
    const firstKeys = requests.map((r) => r.segments![0].key);
    expect(firstKeys.filter((k) => k === "mc:0").length).toBeGreaterThan(1000);
  });
});
