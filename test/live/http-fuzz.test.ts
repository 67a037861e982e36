/** Fuzzing the gateway and the emulator with malformed bodies, headers, methods, paths and raw
 *  bytes (test/live/fuzz/http-fuzz.ts): never a 5xx for a client's mistake, never a hung socket,
 *  never a crash. TANDEM_FUZZ_RUNS sets the cases per server (default 2000; bench:soak runs
 *  10,000), TANDEM_FUZZ_SEED replays a run. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../live/emulator/index.ts";
import { startGateway, type Gateway } from "../../live/gateway/index.ts";
import { parseClusterConfig } from "../../run/config-file.ts";
import { fuzzServer } from "./fuzz/http-fuzz.ts";

const RUNS = Number(process.env.TANDEM_FUZZ_RUNS ?? 2000);
const SEED = process.env.TANDEM_FUZZ_SEED !== undefined ? Number(process.env.TANDEM_FUZZ_SEED) : Date.now() % 2 ** 31;

let gw: Gateway;
let emulator: Emulator;

beforeAll(async () => {
  gw = await startGateway({
    cluster: parseClusterConfig("instances:\n  - { model: llama-3-8b, gpu: h100-80gb, engine: { max_model_len: 4096 } }\n", "cluster.yaml"),
    clusterFile: "cluster.yaml",
    emulate: true,
    speedup: 1000,
    port: 0,
  });
  emulator = await startEmulator({ model: "llama-3-8b", gpu: "h100-80gb", speedup: 1000, spinMs: 0 });
});

afterAll(async () => {
  await gw?.shutdown();
  await emulator?.close();
});

describe(`HTTP fuzzing (${RUNS} cases per server, seed ${SEED})`, () => {
  it("the gateway: no 5xx for a client's mistake, no hung socket, still serving", async () => {
    const stats = await fuzzServer(gw.url, RUNS, SEED);
    expect(stats.violations).toEqual([]);
    expect(stats.cases).toBe(RUNS);
    // The cases reach both sides: served requests and refused ones.
    expect(stats.byStatus.get(200) ?? 0).toBeGreaterThan(0);
    expect(stats.byStatus.get(400) ?? 0).toBeGreaterThan(0);
    const report = await gw.shutdown();
    const c = report.report.summary.calls;
    expect(c.arrived).toBe(c.completed + c.failed + c.rejected);
    expect(report.drained).toBe(true);
  }, 600_000);

  it("the emulator: no 5xx for a client's mistake, no hung socket, still serving", async () => {
    const stats = await fuzzServer(emulator.url, RUNS, SEED);
    expect(stats.violations).toEqual([]);
    expect(stats.byStatus.get(200) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
