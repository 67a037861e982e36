import { describe, expect, it } from "vitest";
import { formatSummaryTable } from "../../src/metrics/summary-table.ts";
import { runScript, SPECS } from "./fixtures.ts";

describe("formatSummaryTable", () => {
  const { recorder } = runScript();
  const text = formatSummaryTable(recorder.summary(), recorder.instances(SPECS));

  it("shows calls, throughput, goodput, prefix cache and reasons", () => {
    expect(text).toContain("5 arrived, 3 completed, 1 failed, 1 rejected over 4.000 s");
    expect(text).toContain("0.750 req/s, 87.5 input tok/s, 2.5 output tok/s");
    expect(text).toContain("goodput      0.250 req/s, SLO attainment 33.3% (TTFT ≤ 750.00 ms, TPOT ≤ 200.00 ms, E2E ≤ 2000.00 ms)");
    expect(text).toContain("29.8% hit rate (164 of 550 tokens)");
    expect(text).toContain("queue full: 1");
    expect(text).toContain("timeout: 1");
  });

  it("shows latencies in ms with mean/p50/p90/p99", () => {
    const line = (name: string) => text.split("\n").find((l) => l.startsWith(name + " "))!;
    expect(line("TTFT").split(/\s+/)).toEqual(["TTFT", "3", "833.33", "1000.00", "1000.00", "1000.00", "1000.00"]);
    expect(line("E2E").split(/\s+/)).toEqual(["E2E", "3", "1166.67", "1000.00", "1400.00", "1490.00", "1500.00"]);
    expect(line("queue").split(/\s+/)).toEqual(["queue", "3", "250.00", "250.00", "450.00", "495.00", "500.00"]);
    expect(line("ITL").split(/\s+/)[1]).toBe("3");
  });

  it("has one row per instance", () => {
    const i1 = text.split("\n").find((l) => l.startsWith("i1 "))!;
    expect(i1.split(/\s+/)).toEqual(["i1", "llama-8b", "H100", "1", "3", "1", "1", "4", "500.00", "1000.00", "50.0%", "21.3%", "0"]);
  });
});
