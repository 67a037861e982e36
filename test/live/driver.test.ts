import { describe, expect, it } from "vitest";
import { runLive } from "../../live/run.ts";
import { startEmulator, type Emulator } from "../../live/emulator/index.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { RequestSpec } from "../../src/core/types.ts";

const twoH100: ClusterConfig = { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2 }] };

describe("tandem live driver", () => {
  it("replays a workflow app against emulators and reports every call and workflow, mode live", async () => {
    const rows: CallRow[] = [];
    const { report, endpoints } = await runLive({
      cluster: twoH100,
      workload: { kind: "app", name: "qa-router", params: {}, timing: { kind: "poisson", rate: 4, count: 6 } },
      emulate: true,
      speedup: 10,
      dispatch: "round-robin",
      onCallClosed: (row) => rows.push(row),
    });
    expect(report.mode).toBe("live");
    expect(report.summary.workflows).toMatchObject({ arrived: 6, completed: 6, failed: 0 });
    expect(report.summary.calls).toMatchObject({ arrived: 18, completed: 18, failed: 0, rejected: 0 });
    expect(rows).toHaveLength(18);
    expect(new Set(rows.map((r) => r.instance))).toEqual(new Set(Object.keys(endpoints)));
    // The emulators saw the calls' shared system prompts: the live report counts real prefix hits.
    expect(report.summary.prefix_cache.hit_tokens).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.first_token_s!).toBeGreaterThan(row.arrival_s);
      expect(row.finished_s).toBeGreaterThanOrEqual(row.first_token_s!);
    }
  });

  it("refuses a config without endpoints for live mode, naming the field", async () => {
    await expect(runLive({ cluster: twoH100, clusterFile: "c.yaml", workload: { kind: "requests", requests: [] } })).rejects.toThrow(
      /c\.yaml: instances\[0\]\.endpoints: expected 2 server URLs/,
    );
  });

  it("refuses a speedup against real servers", async () => {
    await expect(runLive({ cluster: twoH100, speedup: 5, workload: { kind: "requests", requests: [] } })).rejects.toThrow(/needs --emulate/);
  });

  it("an emulator killed mid-run: waiting calls go to the other instance, streaming ones fail, none is lost", async () => {
    const emulators: Emulator[] = [];
    for (let i = 0; i < 2; i++) emulators.push(await startEmulator({ model: "llama-3-8b", gpu: "h100-80gb", speedup: 5, spinMs: 0 }));
    try {
      const cluster: ClusterConfig = {
        instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2, endpoints: emulators.map((e) => e.url) }],
      };
      // 60 calls over 3 model-seconds, each streaming 400 tokens (~3.5 model-seconds): the kill at
      // ~1.5 model-seconds catches calls mid-stream on the first instance, and later arrivals must
      // all go to the second.
      const requests: RequestSpec[] = Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, arrival_s: i * 0.05, prompt_tokens: 200, output_tokens: 400 }));
      // The kill is timed from the first arrival, not from the start: the start-up checks (health,
      // /version and /metrics probes, round-trip measurement) take a machine-dependent while.
      let killer: NodeJS.Timeout | undefined;
      const armKiller = () => {
        killer ??= setTimeout(() => void emulators[0].close(), 300);
      };
      const rows: CallRow[] = [];
      let report;
      try {
        ({ report } = await runLive({
          cluster,
          workload: { kind: "requests", requests },
          dispatch: "round-robin",
          observe_interval_s: 0.05,
          onCallClosed: (r) => rows.push(r),
          onProgress: armKiller,
        }));
      } finally {
        clearTimeout(killer);
      }
      const { arrived, completed, failed, rejected } = report.summary.calls;
      expect(arrived).toBe(60);
      expect(completed + failed + rejected).toBe(60);
      expect(rows).toHaveLength(60);
      expect(failed).toBeGreaterThan(0); // calls streaming from the killed instance
      for (const row of rows.filter((r) => r.status === "failed")) {
        expect(row.instance).toBe("llama-3-8b-0");
        expect(row.reason).toMatch(/stream|connection|socket|closed/i);
      }
      // Everything that arrived after the kill finished on the surviving instance.
      const late = rows.filter((r) => r.arrival_s > 2.5);
      expect(late.length).toBeGreaterThan(0);
      for (const row of late) expect(row).toMatchObject({ status: "finished", instance: "llama-3-8b-1" });
    } finally {
      await Promise.all(emulators.map((e) => e.close().catch(() => undefined)));
    }
  });
});
