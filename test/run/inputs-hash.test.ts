import { copyFileSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_CLUSTER } from "../../src/model/cluster-schema.ts";
import { runInputsSha256, type RunInputs } from "../../run/inputs-hash.ts";
import { buildInstances } from "../../run/instances.ts";
import { setupRun } from "../../run/setup.ts";

const dir = mkdtempSync(join(tmpdir(), "tandem-inputs-hash-"));
const trace = join(dir, "t.jsonl");
writeFileSync(trace, '{"arrival_s":0,"prompt_tokens":10,"output_tokens":5}\n');

async function inputs(overrides: Partial<RunInputs> = {}): Promise<RunInputs> {
  return {
    mode: "sim",
    seed: 1,
    cluster: DEFAULT_CLUSTER,
    workload: { kind: "trace", path: trace, format: "tandem", arrival: "trace" },
    scheduling: "fcfs",
    dispatch: "round-robin",
    observability: { mode: "scraped", interval_s: 0.1 },
    instances: await buildInstances(DEFAULT_CLUSTER, "(built-in cluster)"),
    ...overrides,
  };
}

describe("run.inputs_sha256", () => {
  it("is the same for the same inputs, whatever the key order of the config and policy params", async () => {
    const a = runInputsSha256(await inputs({ scheduling: { name: "plas", params: { levels: 3, base: 2 } } }));
    const b = runInputsSha256(await inputs({ scheduling: { params: { base: 2, levels: 3 }, name: "plas" }, cluster: { ...DEFAULT_CLUSTER } }));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
  });

  it("changes with the seed, the policies, the mode and the observation", async () => {
    const base = runInputsSha256(await inputs());
    for (const change of [{ seed: 2 }, { dispatch: "least-kv" }, { mode: "live" as const }, { observability: { mode: "oracle" as const, interval_s: 0.1 } }]) {
      expect(runInputsSha256(await inputs(change)), JSON.stringify(change)).not.toBe(base);
    }
  });

  it("follows the trace file's bytes, not its modification time", async () => {
    const before = runInputsSha256(await inputs());
    utimesSync(trace, new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(runInputsSha256(await inputs())).toBe(before);
    writeFileSync(trace, '{"arrival_s":0,"prompt_tokens":11,"output_tokens":5}\n');
    const edited = runInputsSha256(await inputs());
    expect(edited).not.toBe(before);
    copyFileSync(trace, join(dir, "copy.jsonl"));
    expect(runInputsSha256(await inputs({ workload: { kind: "trace", path: join(dir, "copy.jsonl"), format: "tandem", arrival: "trace" } }))).not.toBe(edited);
  });

  it("setupRun records it, and a replay's recorded one wins", async () => {
    const setup = await setupRun({ workload: { kind: "trace", path: trace, format: "tandem", arrival: "trace" }, seed: 1, scheduling: "fcfs", dispatch: "round-robin" }, "sim");
    expect(setup.inputs_sha256).toBe(runInputsSha256(await inputs()));
    const replayed = await setupRun({ inputs_sha256: "a".repeat(64) }, "sim");
    expect(replayed.inputs_sha256).toBe("a".repeat(64));
  });
});
