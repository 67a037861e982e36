/** `promtool check metrics` on the emulator's /metrics (every imitated vLLM generation) and on the
 *  gateway's: it must report nothing but the colon in vLLM's own `vllm:` names, which real vLLM
 *  output has too. Needs promtool (Debian/Ubuntu package `prometheus`); skips without it. */
import { spawnSync } from "node:child_process";
import { afterAll, expect } from "vitest";
import { startEmulator, type Emulator } from "../../live/emulator/index.ts";
import { GatewayMetrics } from "../../live/gateway/metrics.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { required } from "../helpers/requirements.ts";

const PROMTOOL = ["/usr/bin/promtool", "/usr/local/bin/promtool"].find((p) => spawnSync(p, ["--version"]).status === 0);
const gate = required(PROMTOOL === undefined ? "promtool not found (install the prometheus package)" : undefined);

/** promtool's findings, one per line ("" when it has none). */
function promtool(text: string): string[] {
  const r = spawnSync(PROMTOOL!, ["check", "metrics"], { input: text, encoding: "utf8" });
  if (r.error) throw r.error;
  return `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
}

const COLON_NOTE = /^vllm:[a-z0-9_:]+ metric names should not contain ':'$/;

gate.describe("promtool check metrics", () => {
  const started: Emulator[] = [];
  afterAll(async () => {
    await Promise.all(started.map((e) => e.close()));
  });

  for (const version of ["0.11.0", "0.10.2", "0.8.5", "0.6.3"]) {
    gate.it(`finds only the vllm: colon notes on the emulator imitating vLLM ${version}`, async () => {
      const e = await startEmulator({ model: "llama-3-8b", gpu: "h100", speedup: 50, vllmVersion: version });
      started.push(e);
      // Traffic first, so that counters and histograms have samples.
      const res = await fetch(`${e.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: Array.from({ length: 40 }, (_, i) => 1000 + i), max_tokens: 4, stream: true, stream_options: { include_usage: true } }),
      });
      await res.text();
      const text = await (await fetch(`${e.url}/metrics`)).text();
      const findings = promtool(text);
      expect(findings.filter((l) => !COLON_NOTE.test(l))).toEqual([]);
      // The notes are there (vLLM's own names have the colon), and never for tandem's metrics.
      expect(findings.length).toBeGreaterThan(5);
      expect(findings.some((l) => l.startsWith("tandem_"))).toBe(false);
    });
  }

  gate.it("finds nothing on the gateway's /metrics", async () => {
    const metrics = new GatewayMetrics();
    metrics.httpRequest("/v1/completions", 200);
    const row: CallRow = {
      call_id: "c1",
      status: "finished",
      reason: null,
      instance: "i0",
      model: "m",
      agent: null,
      tenant: null,
      arrival_s: 0,
      dispatched_s: 0.01,
      first_token_s: 0.05,
      finished_s: 0.2,
      queue_s: 0.01,
      ttft_s: 0.05,
      tpot_s: 0.01,
      e2e_s: 0.2,
      prompt_tokens: 10,
      cached_tokens: 0,
      output_tokens: 5,
      preemptions: 0,
    };
    metrics.callClosed(row);
    metrics.callClosed({ ...row, call_id: "c2", status: "rejected", reason: "gateway_queue_full: full" });
    metrics.redispatch("i0", "upstream_connect: refused");
    metrics.instanceEvent("i0", "down");
    const text = await metrics.render({
      models: [{ model: "m", queued: 1, in_flight: 2, max_queue: 100 }],
      instances: [{ instance: "i0", model: "m", up: true, state: "awake", outstanding: 2 }],
      draining: false,
    });
    expect(text).toContain("# HELP tandem_gateway_requests_total");
    expect(text).toMatch(/tandem_gateway_requests_total\{model="m",instance="i0",status="finished"\} 1/);
    expect(promtool(text)).toEqual([]);
  });
});
