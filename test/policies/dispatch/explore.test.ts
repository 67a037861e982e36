import { it } from "vitest";
import type { RequestSpec } from "../../../src/core/types.ts";
import { runTestCluster, testInstances } from "../../helpers/cluster.ts";
function reqs(count: number, prefixes: number, gap_s: number): RequestSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const p = (i * 5 + Math.floor(i / 7)) % prefixes;
    return { id: `r${i}`, arrival_s: i * gap_s, prompt_tokens: 1088, output_tokens: 16, segments: [{ key: `doc-${p}`, tokens: 1024 }, { tokens: 64 }] };
  });
}
it("explore", async () => {
  for (const gap of [0.005, 0.02, 0.05]) for (const blocks of [300, 600]) {
    const out: string[] = [];
    for (const d of ["prefix-affinity", "round-robin", "least-outstanding"]) {
      const { recorder, result } = await runTestCluster(reqs(400, 8, gap), testInstances(4, {}, blocks), { dispatch: d });
      const s = recorder.summary();
      out.push(`${d}=${s.prefix_cache.hit_rate.toFixed(3)} e2e=${s.e2e_s.mean.toFixed(3)} pre=${s.preemptions}`);
    }
    console.log(gap, blocks, out.join("  "));
  }
});
