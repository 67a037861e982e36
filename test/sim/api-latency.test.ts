import { describe, expect, it } from "vitest";
import { runSimulation } from "../../sim/run.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";

const cluster = (api_latency_s: number): ClusterConfig => ({
  instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 1, engine: { api_latency_s } }],
});

async function rows(api_latency_s: number, requests: { id: string; arrival_s: number; prompt_tokens: number; output_tokens: number }[]) {
  const out: CallRow[] = [];
  await runSimulation({ cluster: cluster(api_latency_s), workload: { kind: "requests", requests }, onCallClosed: (r) => out.push(r) });
  return new Map(out.map((r) => [r.call_id, r]));
}

describe("engine.api_latency_s", () => {
  it("an isolated call's TTFT and E2E grow by the latency in each direction", async () => {
    const requests = [{ id: "a", arrival_s: 0, prompt_tokens: 500, output_tokens: 20 }];
    const base = (await rows(0, requests)).get("a")!;
    const late = (await rows(0.004, requests)).get("a")!;
    expect(late.ttft_s! - base.ttft_s!).toBeCloseTo(0.008, 9);
    expect(late.e2e_s! - base.e2e_s!).toBeCloseTo(0.008, 9);
    expect(late.tpot_s).toBeCloseTo(base.tpot_s!, 12);
  });

  it("delayed deliveries keep runs deterministic and close every call", async () => {
    const workload = { kind: "app" as const, name: "qa-router", params: {}, timing: { kind: "poisson" as const, rate: 4, count: 30 } };
    const run = () => runSimulation({ cluster: cluster(0.003), workload });
    const [first, second] = [await run(), await run()];
    expect(JSON.stringify(first.report)).toBe(JSON.stringify(second.report));
    expect(first.report.summary.calls).toMatchObject({ arrived: 90, completed: 90 });
    expect(first.report.summary.workflows.completed).toBe(30);
  });
});
