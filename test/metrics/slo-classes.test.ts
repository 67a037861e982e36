import { describe, expect, it } from "vitest";
import type { LlmCall } from "../../src/core/types.ts";
import { ClusterConfigSchema } from "../../src/model/cluster-schema.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { sloFromConfig } from "../../src/metrics/slo-classes.ts";
import { compareCsv, meanRows, rowFromReport } from "../../cli/compare/results.ts";
import { formatCompareTable } from "../../cli/compare/table.ts";
import type { Report } from "../../src/metrics/report-schema.ts";

const call = (id: string, extra: Partial<LlmCall>): LlmCall => ({ id, arrival_s: 0, prompt_tokens: 10, output_tokens: 2, segments: [{ tokens: 10 }], ...extra });

/** Each call: arrives at 0, first token at `ttft`, finishes at `ttft` + 0.1 (two tokens). */
function run(slo: Parameters<typeof sloFromConfig>[0], calls: [LlmCall, number][]) {
  const r = new Recorder({ slo: sloFromConfig(slo) });
  for (const [c] of calls) r.callArrived(0, c);
  for (const [c, ttft] of calls) {
    r.callDispatched(0, c.id, "i1");
    r.callFirstToken(ttft, c.id);
    r.callFinished(ttft + 0.1, c.id, { prompt_tokens: 10, cached_tokens: 0, output_tokens: 2, preemptions: 0 });
  }
  return r.summary();
}

describe("per-class SLOs", () => {
  const slo = { ttft_s: 2, class_by: "priority_class" as const, classes: { high: { ttft_s: 0.5 }, low: { ttft_s: 10 } } };
  const calls: [LlmCall, number][] = [
    [call("h1", { priority_class: "high" }), 0.3], // meets 0.5
    [call("h2", { priority_class: "high" }), 1.0], // misses 0.5 (would meet the run's 2)
    [call("l1", { priority_class: "low" }), 5], // meets 10 (would miss the run's 2)
    [call("n1", {}), 1.5], // no class: the run's 2 → meets
  ];

  it("holds each call to its class's targets, the run's where the class names none", () => {
    const s = run(slo, calls);
    // duration: first arrival 0 → last close 5.1
    expect(s.slo_classes).toEqual({
      "(none)": { ttft_s: 2, completed: 1, met: 1, attainment: 1, goodput_requests_per_s: 1 / 5.1 },
      high: { ttft_s: 0.5, completed: 2, met: 1, attainment: 0.5, goodput_requests_per_s: 1 / 5.1 },
      low: { ttft_s: 10, completed: 1, met: 1, attainment: 1, goodput_requests_per_s: 1 / 5.1 },
    });
    // The run's attainment counts each call against its own class.
    expect(s.slo.attainment).toBe(3 / 4);
    expect(s.goodput_requests_per_s).toBeCloseTo(3 / 5.1, 12);
  });

  it("groups by tenant when asked; without classes the summary has none", () => {
    const s = run({ ttft_s: 2, class_by: "tenant", classes: { gold: { ttft_s: 0.5 } } }, [
      [call("a", { tenant: "gold" }), 1],
      [call("b", { tenant: "free" }), 1],
    ]);
    expect(Object.keys(s.slo_classes!)).toEqual(["free", "gold"]);
    expect(s.slo_classes!.gold.met).toBe(0);
    expect(s.slo_classes!.free.met).toBe(1);
    expect(run({ ttft_s: 2 }, calls).slo_classes).toBeUndefined();
  });

  it("the config checks classes: class_by needs classes, targets are positive seconds, no unknown keys", () => {
    const base = { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", count: 1 }] };
    expect(ClusterConfigSchema.safeParse({ ...base, slo }).success).toBe(true);
    expect(ClusterConfigSchema.safeParse({ ...base, slo: { class_by: "tenant" } }).success).toBe(false);
    expect(ClusterConfigSchema.safeParse({ ...base, slo: { classes: { high: { ttft_s: -1 } } } }).success).toBe(false);
    expect(ClusterConfigSchema.safeParse({ ...base, slo: { classes: { high: { ttfts: 1 } } } }).success).toBe(false);
    expect(ClusterConfigSchema.safeParse({ ...base, slo: { class_by: "model", classes: {} } }).success).toBe(false);
  });

  it("compare: per-class attainment and goodput columns in the CSV and the table, averaged over seeds", () => {
    const summary = run(slo, calls);
    const report = { run: { policies: { scheduling: "fcfs", dispatch: "round-robin" } }, summary } as unknown as Report;
    const rows = [1, 2].map((seed) => rowFromReport({ policy: "fcfs+rr", rate: 1, seed, dir: `r${seed}` }, report));
    const csv = compareCsv(rows).split("\n");
    expect(csv[0]).toMatch(/,dir,slo_attainment:\(none\),goodput_requests_per_s:\(none\),slo_attainment:high,goodput_requests_per_s:high,slo_attainment:low,/);
    expect(csv[1].split(",").slice(-6)[2]).toBe("0.5");
    const means = meanRows(rows);
    expect(means[0].slo_classes!.high.attainment).toBe(0.5);
    const table = formatCompareTable(means, 2);
    expect(table).toContain("SLO high");
    expect(table).toContain("50.0%");
  });
});
