import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliSandbox, expectInputError } from "../helpers/cli.ts";
import { sharedData } from "../helpers/requirements.ts";

const { scratch, tandem } = cliSandbox("tandem-wf-cli-", 60_000);

const agents = { a: { system_tokens: 100 } };
const line = (steps: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ id: "w1", arrival_s: 0, agents, steps, ...extra });

describe("tandem CLI with workflows", () => {
  it("sim --app writes workflows.csv and workflow metrics", () => {
    const out = join(scratch, "app");
    const result = tandem("sim", "--app", "qa-router", "--rate", "2", "--count", "20", "--out", out);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/workflows\s+20 arrived, 20 completed, 0 failed/);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.summary.workflows.completed).toBe(20);
    expect(report.summary.calls.completed).toBe(60);
    expect(report.agents.map((a: { agent: string }) => a.agent)).toContain("qa-router/writer");
    expect(report.run.trace.app_params).toBeDefined();
    expect(readFileSync(join(out, "workflows.csv"), "utf8").trim().split("\n")).toHaveLength(21);
  });

  it("trace gen --app writes a workflow trace that sim --workflows replays identically", () => {
    const file = join(scratch, "chain.jsonl");
    expect(tandem("trace", "gen", "--app", "chain", "--rate", "1", "--count", "10", "--seed", "5", "--out", file).code).toBe(0);
    const a = tandem("sim", "--workflows", file, "--out", join(scratch, "wa"), "--quiet");
    const b = tandem("sim", "--app", "chain", "--rate", "1", "--count", "10", "--seed", "5", "--out", join(scratch, "wb"), "--quiet");
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const summary = (dir: string) => JSON.parse(readFileSync(join(scratch, dir, "report.json"), "utf8")).summary;
    expect(summary("wa").workflow_makespan_s).toEqual(summary("wb").workflow_makespan_s);
  });

  it("a cycle names the steps on it", () => {
    const file = join(scratch, "cycle.jsonl");
    const steps = [
      { id: "x", kind: "llm", agent: "a", after: ["z"], input_tokens: 5, output_tokens: 5 },
      { id: "y", kind: "llm", agent: "a", after: ["x"], input_tokens: 5, output_tokens: 5 },
      { id: "z", kind: "llm", agent: "a", after: ["y"], input_tokens: 5, output_tokens: 5 },
    ];
    writeFileSync(file, line(steps) + "\n");
    expectInputError(tandem("sim", "--workflows", file), /cycle\.jsonl:1: workflow "w1": steps form a cycle: y → z → x → y/);
  });

  it("an edge to a missing step, an unknown agent and a negative duration are named", () => {
    const cases: [unknown[], RegExp][] = [
      [[{ id: "x", kind: "llm", agent: "a", after: ["nope"], input_tokens: 5, output_tokens: 5 }], /:1: .*after\[0\].*"nope" does not exist/],
      [[{ id: "x", kind: "llm", agent: "zed", after: [], input_tokens: 5, output_tokens: 5 }], /:1: .*agent.*"zed"/],
      [[{ id: "t", kind: "tool", after: [], duration_s: -1 }], /:1: .*duration_s/],
    ];
    cases.forEach(([steps, pattern], i) => {
      const file = join(scratch, `bad${i}.jsonl`);
      writeFileSync(file, line(steps) + "\n");
      expectInputError(tandem("sim", "--workflows", file), pattern);
    });
  });

  it("an agent bound to a model no instance serves is an error naming the agent", () => {
    const file = join(scratch, "model.jsonl");
    writeFileSync(
      file,
      JSON.stringify({ id: "w1", arrival_s: 0, agents: { a: { system_tokens: 10, model: "gpt-9" } }, steps: [{ id: "x", kind: "llm", agent: "a", input_tokens: 5, output_tokens: 5 }] }) +
        "\n",
    );
    expectInputError(tandem("sim", "--workflows", file), /workflow "w1": agents\.a\.model: "gpt-9" is not served/);
  });

  it("unknown apps and parameters list what is known", () => {
    expectInputError(tandem("sim", "--app", "tetris", "--rate", "1"), /tetris.*chain/);
    expectInputError(tandem("sim", "--app", "chain", "--param", "laps=3", "--rate", "1"), /laps/);
    expectInputError(tandem("sim", "--app", "chain"), /--rate R.*--interval S.*--arrivals FILE/);
  });

  it("trace stats describes a request trace and a workflow trace", () => {
    const file = join(scratch, "stats.jsonl");
    tandem("trace", "gen", "--app", "fanout", "--rate", "1", "--count", "5", "--out", file);
    const wf = tandem("trace", "stats", file, "--trace-format", "workflows", "--json");
    expect(wf.code).toBe(0);
    const stats = JSON.parse(wf.stdout);
    expect(stats).toMatchObject({ kind: "workflows", workflows: 5 });
    expect(stats.dag_depth.max).toBe(3);
    expect(stats.dag_width.max).toBe(4);
  });

  const data = sharedData("workflows/appworld", "traces/azure-llm-2023-conv.csv");
  const [appworld, azure] = data.paths;
  data.it("sim --appworld with Kairos-style arrivals from the Azure trace", () => {
    const out = join(scratch, "aw");
    const result = tandem("sim", "--appworld", appworld, "--arrivals", azure, "--sample-interval", "1000", "--scale-factor", "2", "--out", out, "--quiet");
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    // 19,366 rows, every 1,000th kept (20 rows), 2 arrivals each.
    expect(report.summary.workflows.arrived).toBe(40);
    expect(report.summary.workflows.completed).toBe(40);
    expect(report.run.trace).toMatchObject({ sample_interval: 1000, scale_factor: 2, format: "appworld" });
  });
});
