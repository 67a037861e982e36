/** Policies from files (docs/writing-policies.md) and decision traces (docs/decisions.md): the
 *  example policy runs in sim and live, bad files fail with one line naming the file, a policy that
 *  throws stops a simulation (sim) or hands the call to the fallback (live), and replaying a live
 *  run's event log reproduces its decision trace byte for byte. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runLive } from "../../live/run.ts";
import { replayEventLog } from "../../run/replay.ts";
import { runSimulation } from "../../sim/run.ts";
import type { DecisionRecord } from "../../src/core/decisions.ts";
import type { ClusterConfig } from "../../src/model/cluster-schema.ts";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";

const EXAMPLE = resolve(REPO_ROOT, "examples/policies/least-work.ts");
const scratch = () => mkdtempSync(join(tmpdir(), "tandem-policy-files-"));
const twoH100: ClusterConfig = { instances: [{ model: "llama-3-8b", gpu: "h100-80gb", tensor_parallel: 1, count: 2 }] };
const qaRouter = (count: number, rate: number) => ({ kind: "app" as const, name: "qa-router", params: {}, timing: { kind: "poisson" as const, rate, count } });

function records(path: string): DecisionRecord[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => JSON.parse(line) as DecisionRecord);
}

describe("policies from files", () => {
  it("the example policy runs in the simulator with its params, and its scores reach the decision trace", async () => {
    const decisions = join(scratch(), "decisions.jsonl");
    const { report } = await runSimulation({
      cluster: twoH100,
      workload: qaRouter(10, 4),
      dispatch: { name: EXAMPLE, params: { waiting_penalty_tokens: 500 } },
      decisions,
    });
    expect(report.run.policies.dispatch).toBe("least-work");
    expect(report.run.policies.dispatch_params).toEqual({ waiting_penalty_tokens: 500 });
    expect(report.summary.calls.completed).toBe(30);
    const dispatches = records(decisions).filter((r) => r.kind === "dispatch");
    expect(dispatches).toHaveLength(30);
    for (const d of dispatches) {
      if (d.kind !== "dispatch") continue;
      // The chosen candidate has the lowest score the policy reported.
      const scores = d.candidates.map((c) => c.score!);
      expect(d.candidates.find((c) => c.instance === d.chosen)!.score).toBe(Math.min(...scores));
      for (const c of d.candidates) expect(c.score).toBe(c.terms!.outstanding_tokens + c.terms!.waiting_penalty);
    }
  });

  it("a traced run decides exactly as an untraced one (same report)", async () => {
    const run = (decisions?: string) =>
      runSimulation({ cluster: twoH100, workload: qaRouter(12, 6), scheduling: "kairos", dispatch: "least-kv", seed: 3, ...(decisions ? { decisions } : {}) });
    const plain = await run();
    const traced = await run(join(scratch(), "d.jsonl"));
    expect(JSON.stringify(traced.report)).toBe(JSON.stringify(plain.report));
  });

  it("bad policy files fail with one line naming the file, exit 2", () => {
    const box = cliSandbox("tandem-policy-files-cli-");
    const run = (...flags: string[]) => box.tandem("sim", "--app", "qa-router", "--count", "3", "--rate", "2", "--quiet", "--no-progress", ...flags);
    expectInputError(run("--dispatch", "./missing.mjs"), /\.\/missing\.mjs: no such policy file/);
    box.file("no-default.mjs", "export const policy = {};\n");
    expectInputError(run("--dispatch", "./no-default.mjs"), /\.\/no-default\.mjs: no default export/);
    box.file("wrong-kind.mjs", 'export default { name: "x", dynamic: false, rank: () => 0 };\n');
    expectInputError(run("--dispatch", "./wrong-kind.mjs"), /wrong-kind\.mjs: exports a scheduling policy; --dispatch needs a dispatch policy/);
    box.file("no-choose.mjs", 'export default { name: "x" };\n');
    expectInputError(run("--dispatch", "./no-choose.mjs"), /no-choose\.mjs: the default export has neither create\(\) nor choose\(\)/);
    box.file("syntax.mjs", "export default {\n");
    expectInputError(run("--dispatch", "./syntax.mjs"), /syntax\.mjs: cannot load the module/);
    expectInputError(run("--dispatch", EXAMPLE, "--dispatch-param", "waiting_penalty_tokens=-1"), /least-work\.ts: least-work params\.waiting_penalty_tokens/);
    expectInputError(run("--dispatch", EXAMPLE, "--dispatch-param", "nope=1"), /least-work\.ts: least-work params/);
  });

  it("a policy that throws stops the simulation with the file, the call and the time", () => {
    const box = cliSandbox("tandem-policy-files-throw-");
    box.file("throws.mjs", 'export default { name: "throws", choose(call) { if (call.id.endsWith("/writer")) throw new Error("boom"); return undefined ?? arguments[1][0]; } };\n');
    const result = box.tandem("sim", "--app", "qa-router", "--count", "3", "--rate", "2", "--quiet", "--no-progress", "--dispatch", "./throws.mjs");
    expectInputError(result, /throws\.mjs: throws\.choose threw for call qa-router-\d+\/writer at t=\d+\.\d{6} s: Error: boom \(.*throws\.mjs:1:\d+\)/);
  });

  it("a policy file runs in compare on worker threads", () => {
    const box = cliSandbox("tandem-policy-files-compare-");
    const result = box.tandem("compare", "--app", "qa-router", "--count", "6", "--rates", "2,4", "--jobs", "2", "--no-progress", "--quiet", "--policies", `fcfs+${EXAMPLE}`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const table = readFileSync(join(box.scratch, "out/compare/compare.csv"), "utf8");
    expect(table.split("\n").filter((l) => l.includes("least-work.ts"))).toHaveLength(2);
  });
});

describe("live: fallback and replayed decision traces", () => {
  it("a live run with a policy file writes a decision trace that replaying its event log reproduces exactly", async () => {
    const dir = scratch();
    const events = join(dir, "events.jsonl");
    const decisions = join(dir, "decisions.jsonl");
    const { report } = await runLive({ cluster: twoH100, workload: qaRouter(6, 4), dispatch: EXAMPLE, emulate: true, speedup: 10, events, decisions });
    expect(report.summary.calls.completed).toBe(18);
    const replayed = join(dir, "replayed.jsonl");
    const result = await replayEventLog(events, { decisions: replayed });
    expect(result.kind).toBe("report");
    expect(records(decisions).filter((r) => r.kind === "dispatch")).toHaveLength(18);
    expect(readFileSync(replayed, "utf8")).toBe(readFileSync(decisions, "utf8"));
  });

  it("live, a policy that throws hands the call to the fallback policy, counted in the report and logged once", async () => {
    const dir = scratch();
    const file = join(dir, "flaky.mjs");
    writeFileSync(file, 'export default { name: "flaky", choose(call, candidates) { if (call.id.endsWith("/expert")) throw new Error("no expert today"); return candidates[0]; } };\n');
    const decisions = join(dir, "decisions.jsonl");
    const { report } = await runLive({ cluster: twoH100, workload: qaRouter(4, 4), dispatch: file, emulate: true, speedup: 10, decisions });
    expect(report.summary.calls.completed).toBe(12);
    expect(report.run.policies.errors).toMatchObject({ count: 4, fallback: "least-outstanding" });
    expect(report.run.policies.errors!.first).toMatch(/flaky\.mjs: flaky\.choose threw for call qa-router-\d+\/expert at t=/);
    const faults = records(decisions).filter((r) => r.kind === "policy_error");
    expect(faults).toHaveLength(4);
  });
});
