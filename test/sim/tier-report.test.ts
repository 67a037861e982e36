import { describe, expect, it } from "vitest";
import { ClusterConfigSchema } from "../../src/model/cluster-schema.ts";
import type { RequestSpec } from "../../src/core/types.ts";
import { InstanceSummarySchema, SummarySchema } from "../../src/metrics/report-schema.ts";
import { formatSummaryTable } from "../../src/metrics/summary-table.ts";
import { buildInstances } from "../../run/instances.ts";
import { runTestCluster, testInstances } from "../helpers/cluster.ts";

describe("tier knobs in the cluster config", () => {
  it("accepts the tier and reorder knobs and derives kv_block_bytes from the model", async () => {
    const config = ClusterConfigSchema.parse({
      instances: [{ model: "llama-3-8b", gpu: "h100-80gb", count: 1, engine: { cpu_kv_blocks: 4096, waiting_reorder_window: 8 } }],
      engine: { disk_kv_blocks: 65536, cpu_bandwidth_bytes_per_s: 32e9, disk_bandwidth_bytes_per_s: 7e9 },
    });
    const [instance] = await buildInstances(config, "cluster.yaml");
    expect(instance.engine).toMatchObject({
      cpu_kv_blocks: 4096,
      disk_kv_blocks: 65536,
      cpu_bandwidth_bytes_per_s: 32e9,
      disk_bandwidth_bytes_per_s: 7e9,
      waiting_reorder_window: 8,
      // Llama-3-8B: 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 128 KiB per token, × 16 tokens.
      kv_block_bytes: 2 * 2 ** 20,
    });
    const tp2 = await buildInstances(ClusterConfigSchema.parse({ instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 2 }] }), "cluster.yaml");
    expect(tp2[0].engine.kv_block_bytes).toBe(2 ** 20);
    expect(tp2[0].engine.cpu_kv_blocks).toBe(0); // off by default
  });

  it("refuses negative capacities, a zero bandwidth and a fractional window", () => {
    for (const engine of [{ cpu_kv_blocks: -1 }, { disk_bandwidth_bytes_per_s: 0 }, { waiting_reorder_window: 1.5 }, { kv_block_bytes: 5 }]) {
      expect(ClusterConfigSchema.safeParse({ instances: [{ model: "llama-3-8b", gpu: "h100-80gb" }], engine }).success).toBe(false);
    }
  });
});

describe("per-tier hits in the report", () => {
  const requests: RequestSpec[] = Array.from({ length: 40 }, (_, i) => ({
    id: `r${i}`,
    arrival_s: i * 0.05,
    prompt_tokens: 300,
    output_tokens: 4,
    segments: [{ key: `sys-${i % 5}`, tokens: 256 }, { tokens: 44 }],
  }));

  it("reports GPU, CPU and disk hits that add up to hit_tokens, in the summary and per instance", async () => {
    const instances = testInstances(2, { cpu_kv_blocks: 20, disk_kv_blocks: 200 }, 40, 400);
    const { recorder } = await runTestCluster(requests, instances, { dispatch: "round-robin" });
    const summary = SummarySchema.parse(recorder.summary());
    const cache = summary.prefix_cache;
    expect(cache.cpu_hit_tokens! + cache.disk_hit_tokens!).toBeGreaterThan(0);
    expect(cache.gpu_hit_tokens! + cache.cpu_hit_tokens! + cache.disk_hit_tokens!).toBe(cache.hit_tokens);
    const perInstance = recorder.instances(instances.map((i) => i.spec)).map((i) => InstanceSummarySchema.parse(i));
    expect(perInstance.reduce((n, i) => n + i.prefix_cpu_hit_tokens!, 0)).toBe(cache.cpu_hit_tokens);
    expect(perInstance.reduce((n, i) => n + i.prefix_disk_hit_tokens!, 0)).toBe(cache.disk_hit_tokens);
    expect(formatSummaryTable(summary, perInstance)).toMatch(/by tier GPU \d+, CPU \d+, disk \d+/);
  });

  it("reports zero lower-tier hits (and no tier line in the table) with the tiers off", async () => {
    const instances = testInstances(1, {}, 40, 400);
    const { recorder } = await runTestCluster(requests, instances);
    const cache = recorder.summary().prefix_cache;
    expect(cache).toMatchObject({ cpu_hit_tokens: 0, disk_hit_tokens: 0, gpu_hit_tokens: cache.hit_tokens });
    expect(formatSummaryTable(recorder.summary(), [])).not.toMatch(/by tier/);
  });
});
