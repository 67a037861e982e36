import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { withApiLatency } from "../../cli/parity.ts";
import { measureApiLatency } from "../../live/host/api-latency.ts";
import { runLive } from "../../live/run.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { runSimulation } from "../../sim/run.ts";
import { cliSandbox } from "../helpers/cli.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the live path's API latency", () => {
  it("is the median probe round trip in model seconds, one-way = half, after an untimed first probe", async () => {
    // The first (connection-opening) probe is slow and must not count; one timed probe is an outlier.
    const delays = [200, 20, 20, 20, 300, 20];
    let i = 0;
    const measured = await measureApiLatency(
      async () => {
        await sleep(delays[i++]);
        return true;
      },
      { speedup: 2, samples: 5, describe: "instance a" },
    );
    expect(i).toBe(6);
    expect(measured.samples).toBe(5);
    // Median of 20, 20, 20, 300, 20 ms of wall time, × speedup 2 (timers fire a little late).
    expect(measured.rtt_s).toBeGreaterThanOrEqual(0.038);
    expect(measured.rtt_s).toBeLessThan(0.1);
    expect(measured.api_latency_s).toBe(measured.rtt_s / 2);
  });

  it("a failed probe is an error naming the instance", async () => {
    let calls = 0;
    await expect(measureApiLatency(async () => ++calls < 3, { speedup: 1, samples: 5, describe: "instance b" })).rejects.toThrow(/^instance b: \/health failed/);
  });

  it("parity gives each instance group the median of its instances' measurements", () => {
    const cluster: ClusterConfig = {
      instances: [
        { name: "a", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2, max_count: 3, engine: { max_num_seqs: 64, api_latency_s: 0.009 } },
        { name: "b", model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2 },
      ],
    };
    const measured = [0.003, 0.001, 0.002, 0.0005, 0.0007].map((api_latency_s, k) => ({ instance: `i${k}`, api_latency_s }));
    const out = withApiLatency(cluster, measured);
    expect(out.instances[0].engine).toEqual({ max_num_seqs: 64, api_latency_s: 0.002 });
    expect(out.instances[1].engine!.api_latency_s).toBeCloseTo(0.0006, 15);
    expect(cluster.instances[0].engine!.api_latency_s).toBe(0.009); // not mutated
  });

  it("a live run measures it to every instance before the run and records it in the report; sim reports have none", async () => {
    const cluster: ClusterConfig = { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2 }] };
    const workload = { kind: "app" as const, name: "qa-router", params: {}, timing: { kind: "poisson" as const, rate: 4, count: 3 } };
    const live = await runLive({ cluster, workload, emulate: true, speedup: 10 });
    expect(live.api_latency.map((m) => m.instance)).toEqual(["llama-3-8b-0", "llama-3-8b-1"]);
    for (const m of live.api_latency) {
      // Loopback HTTP to an emulator: well under 100 ms of wall time, × speedup 10.
      expect(m.rtt_s).toBeGreaterThan(0);
      expect(m.rtt_s).toBeLessThan(1);
      expect(m.api_latency_s).toBe(m.rtt_s / 2);
    }
    expect(live.report.instances.map((i) => i.api_latency_s)).toEqual(live.api_latency.map((m) => m.api_latency_s));
    // The scrapes during the run are timed too (the latency under the run's own load).
    expect(Object.keys(live.scrape_rtt_s).sort()).toEqual(["llama-3-8b-0", "llama-3-8b-1"]);
    for (const rtt of Object.values(live.scrape_rtt_s)) expect(rtt).toBeGreaterThan(0);
    const sim = await runSimulation({ cluster, workload });
    for (const i of sim.report.instances) expect(i).not.toHaveProperty("api_latency_s");
  }, 60_000);

  it("tandem parity simulates with the latency the live run measured and prints it", () => {
    const { scratch, tandem } = cliSandbox("tandem-parity-latency-");
    const result = tandem("parity", "--app", "qa-router", "--rate", "4", "--count", "4", "--speedup", "10", "--no-progress");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^api latency, one-way \(measured before the live run, GET \/health round trip \/ 2\): llama-3.1-8b-0 [\d.]+ ms, .*; used by the sim$/m);
    expect(result.stdout).toMatch(/TTFT p50 \(s\)/);
    const live = JSON.parse(readFileSync(join(scratch, "out/parity/live/report.json"), "utf8"));
    const sim = JSON.parse(readFileSync(join(scratch, "out/parity/sim/report.json"), "utf8"));
    const measured = live.instances.map((i: { api_latency_s: number }) => i.api_latency_s).sort((a: number, b: number) => a - b);
    expect(measured).toHaveLength(4);
    expect(sim.run.config.instances[0].engine.api_latency_s).toBeCloseTo((measured[1] + measured[2]) / 2, 12);
  }, 120_000);
});
