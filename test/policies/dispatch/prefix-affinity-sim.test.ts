import { describe, expect, it } from "vitest";
import type { RequestSpec } from "../../../src/core/types.ts";
import { runTestCluster, testInstances } from "../../helpers/cluster.ts";

/** Requests sharing a few long keyed prefixes (system prompts / documents, 1024 tokens = 64 blocks
 *  each) followed by a unique question. Eight prefixes do not fit in one instance's KV cache of 300
 *  blocks, so an instance that sees every prefix keeps evicting them. */
function sharedPrefixRequests(count: number, prefixes: number, gap_s: number): RequestSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const p = (i * 5 + Math.floor(i / 7)) % prefixes; // a fixed, irregular mix
    return {
      id: `r${i}`,
      arrival_s: i * gap_s,
      prompt_tokens: 1024 + 64,
      output_tokens: 16,
      segments: [{ key: `doc-${p}`, tokens: 1024 }, { tokens: 64 }],
    };
  });
}

describe("prefix-affinity in simulation", () => {
  it("gets a higher prefix-cache hit rate than round-robin on requests sharing a few long prefixes", async () => {
    const requests = sharedPrefixRequests(400, 8, 0.02);
    const hitRate = async (dispatch: string) => {
      const { recorder, rows } = await runTestCluster(requests, testInstances(4, {}, 300), { dispatch });
      expect(rows).toHaveLength(requests.length);
      return recorder.summary().prefix_cache.hit_rate;
    };
    const affinity = await hitRate("prefix-affinity");
    const roundRobin = await hitRate("round-robin");
    expect(affinity).toBeGreaterThan(roundRobin + 0.4);
    expect(affinity).toBeGreaterThan(0.8);
  });
});
