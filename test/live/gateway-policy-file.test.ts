/** `tandem gateway --dispatch ./FILE` (docs/writing-policies.md): the gateway serves calls through a
 *  user's policy file, and when the file throws, the fallback policy dispatches the call, counted
 *  in /metrics and the report, logged once. Real processes, emulated instances on free ports. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDecisionTimeline } from "../../cli/plot/decisions-load.ts";
import type { DecisionRecord } from "../../src/core/decisions.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const BIN = join(REPO_ROOT, "bin/tandem.mjs");
const EXAMPLE = join(REPO_ROOT, "examples/policies/least-work.ts");
const CONFIG = "instances:\n  - { model: llama-3-8b, gpu: h100-80gb, count: 2, served_model_name: llama, engine: { max_model_len: 2048 } }\n";

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  stdout: () => string;
}

/** Starts `tandem gateway --emulate --port 0 ARGS` and waits for its listening line. */
async function gateway(scratch: string, args: string[]): Promise<Running> {
  const config = join(scratch, "cluster.yaml");
  writeFileSync(config, CONFIG);
  const child = spawn(process.execPath, [BIN, "gateway", "--emulate", "--port", "0", "--config", config, "--speedup", "20", "--quiet", ...args], { cwd: scratch });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const newline = stdout.indexOf("\n");
      if (newline >= 0) resolve(stdout.slice(0, newline));
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
  if (url === undefined) throw new Error(`no listening line: ${line}`);
  return { child, url, stderr: () => stderr, stdout: () => stdout };
}

/** SIGTERM: the gateway drains, writes its report and exits 0. */
async function stop(g: Running): Promise<void> {
  const exited = new Promise<number | null>((resolve) => g.child.on("exit", (code) => resolve(code)));
  g.child.kill("SIGTERM");
  expect(await exited, g.stderr()).toBe(0);
}

function chat(url: string, workflow: string, agent: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tandem-workflow": workflow, "x-tandem-agent": agent },
    body: JSON.stringify({ model: "llama", messages: [{ role: "user", content: `hello from ${agent}` }], max_tokens: 4 }),
  });
}

function records(path: string): DecisionRecord[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => JSON.parse(line) as DecisionRecord);
}

describe("tandem gateway with a policy file", () => {
  it("serves calls through the example policy, with its params, and traces its scores", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "tandem-gateway-policy-"));
    const out = join(scratch, "out");
    const decisions = join(scratch, "decisions.jsonl");
    const g = await gateway(scratch, ["--dispatch", EXAMPLE, "--dispatch-param", "waiting_penalty_tokens=4000", "--out", out, "--decisions", decisions]);
    try {
      const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => chat(g.url, `wf-${i % 2}`, `agent-${i % 3}`)));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      await stop(g);
    } finally {
      if (g.child.exitCode === null) g.child.kill("SIGKILL");
    }
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.summary.calls).toMatchObject({ arrived: 6, completed: 6 });
    expect(report.run.policies.dispatch).toBe("least-work");
    expect(report.run.policies.errors).toBeUndefined();
    const dispatches = records(decisions).filter((r) => r.kind === "dispatch");
    expect(dispatches).toHaveLength(6);
    for (const d of dispatches) {
      expect(d.policy).toBe("least-work");
      // least-work's own explain: score = outstanding tokens + 4000 × observed waiting, lowest chosen.
      for (const c of d.candidates) expect(c.score).toBe(c.outstanding_tokens + 4000 * (c.observed?.waiting ?? 0));
      const chosen = d.candidates.find((c) => c.instance === d.chosen)!;
      expect(chosen.score).toBe(Math.min(...d.candidates.map((c) => c.score!)));
    }
    expect(g.stderr()).not.toMatch(/threw|error/i); // no fault, no fallback
  }, 120_000);

  it("a policy that throws: the fallback dispatches the call, /metrics and the report count it, stderr logs it once", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "tandem-gateway-policy-"));
    const out = join(scratch, "out");
    const decisions = join(scratch, "decisions.jsonl");
    writeFileSync(
      join(scratch, "flaky.mjs"),
      'export default { name: "flaky", choose(call, candidates) { if (call.agent === "boom") throw new Error("no boom today"); return candidates[0]; } };\n',
    );
    const g = await gateway(scratch, ["--dispatch", "./flaky.mjs", "--out", out, "--decisions", decisions]);
    let metrics: string;
    try {
      const agents = ["ok", "boom", "ok", "boom", "boom", "ok"];
      const responses = await Promise.all(agents.map((agent, i) => chat(g.url, `wf-${i}`, agent)));
      expect(responses.map((r) => r.status)).toEqual(agents.map(() => 200));
      metrics = await (await fetch(`${g.url}/metrics`)).text();
      await stop(g);
    } finally {
      if (g.child.exitCode === null) g.child.kill("SIGKILL");
    }
    expect(metrics).toMatch(/^tandem_gateway_policy_errors_total\{fallback="least-outstanding"\} 3(\.0)?$/m);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.summary.calls).toMatchObject({ arrived: 6, completed: 6 });
    expect(report.run.policies.errors).toMatchObject({ count: 3, fallback: "least-outstanding" });
    expect(report.run.policies.errors.first).toMatch(/flaky\.mjs: flaky\.choose threw for call \S+ at t=[\d.]+ s: Error: no boom today/);
    const logged = g
      .stderr()
      .split("\n")
      .filter((l) => l.includes("threw"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^tandem: .*flaky\.mjs: flaky\.choose threw .*; calls go to the fallback policy least-outstanding/);

    const trace = records(decisions);
    const faults = trace.filter((r) => r.kind === "policy_error");
    expect(faults.map((f) => f.agent)).toEqual(["boom", "boom", "boom"]);
    // Each failed call's dispatch follows its policy_error record, which names the fallback that chose.
    const dispatched = trace.filter((r) => r.kind === "dispatch");
    expect(dispatched).toHaveLength(6);
    for (const f of faults) {
      expect(f).toMatchObject({ hook: "choose", fallback: "least-outstanding", policy: "flaky" });
      const next = trace.slice(trace.indexOf(f) + 1).find((r) => r.call === f.call);
      expect(next?.kind).toBe("dispatch");
    }
    // tandem plot's decision timeline credits those dispatches to the fallback and marks the errors.
    const timeline = await loadDecisionTimeline(decisions);
    expect(timeline.dispatches.map((d) => [d.agent, d.policy])).toEqual(dispatched.map((d) => [d.agent, d.agent === "boom" ? "least-outstanding" : "flaky"]));
    expect(timeline.errors).toHaveLength(3);
  }, 120_000);
});
