import { describe, expect, it } from "vitest";
import { runLive } from "../../live/run.ts";
import { PARITY_CLUSTER, PARITY_WORKLOAD, parityRows } from "../../cli/parity.ts";
import { runSimulation } from "../../sim/run.ts";

describe("sim-vs-live parity", () => {
  it("the same workload in sim and live against emulators: same counts; TTFT, E2E and makespan within 5%", async () => {
    const sim = await runSimulation({ cluster: PARITY_CLUSTER, workload: PARITY_WORKLOAD, dispatch: "least-outstanding" });
    const live = await runLive({ cluster: PARITY_CLUSTER, workload: PARITY_WORKLOAD, dispatch: "least-outstanding", emulate: true, speedup: 1 });
    const rows = parityRows(sim.report, live.report);
    const byName = new Map(rows.map((r) => [r.metric, r]));
    expect(sim.report.summary.calls.arrived).toBe(300);
    for (const row of rows.filter((r) => r.kind === "count")) expect(row.live, row.metric).toBe(row.sim);
    for (const metric of ["TTFT p50 (s)", "TTFT p90 (s)", "E2E p50 (s)", "E2E p90 (s)", "makespan mean (s)"]) {
      const row = byName.get(metric)!;
      expect(Math.abs(row.relative), `${metric}: sim ${row.sim}, live ${row.live}`).toBeLessThanOrEqual(0.05);
    }
  }, 90_000);
});
