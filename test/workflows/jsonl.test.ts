import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { readWorkflowTrace } from "../../traces/workflows/reader.ts";
import { writeWorkflowTrace } from "../../traces/workflows/writer.ts";
import { batchesOf } from "../../traces/batches.ts";
import { REPO_ROOT } from "../helpers/shared-data.ts";
import { collect, expectInputError, tempFile } from "./helpers.ts";

const line = (fields: Record<string, unknown>) => JSON.stringify(fields);

/** A valid workflow line to vary: planner → search tool → writer continuing nothing. */
function workflow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "wf-1",
    arrival_s: 0.5,
    agents: { planner: { system_tokens: 800, model: "llama-3-8b" }, writer: { system_tokens: 300 } },
    steps: [
      { id: "s0", kind: "llm", agent: "planner", input_tokens: 200, output_tokens: 150 },
      { id: "t0", kind: "tool", after: ["s0"], tool: "search", duration_s: 1.2, output_tokens: 300 },
      { id: "s1", kind: "llm", agent: "planner", after: ["t0"], history: "s0", input_tokens: 20, output_tokens: 40 },
      { id: "s2", kind: "llm", agent: "writer", after: ["s1"], input_tokens: 0, output_tokens: 400 },
    ],
    ...overrides,
  };
}

function withStep(i: number, changes: Record<string, unknown>): Record<string, unknown> {
  const wf = workflow();
  const steps = [...(wf.steps as Record<string, unknown>[])];
  steps[i] = { ...steps[i], ...changes };
  return { ...wf, steps };
}

const specs: WorkflowSpec[] = [
  {
    id: "a",
    arrival_s: 0,
    app: "chain",
    tenant: "t1",
    priority_class: "high",
    slo_s: 30,
    agents: { planner: { system_tokens: 800, model: "llama-3-8b" } },
    steps: [
      { kind: "llm", id: "s0", after: [], agent: "planner", input_tokens: 200, output_tokens: 150 },
      { kind: "tool", id: "t0", after: ["s0"], tool: "search", duration_s: 0.1 + 0.2, output_tokens: 300 },
      { kind: "llm", id: "s1", after: ["t0", "s0"], agent: "planner", history: "s0", input_tokens: 0, output_tokens: 1 },
    ],
  },
  {
    id: "b",
    arrival_s: 1 / 3,
    agents: { x: { system_tokens: 0 } },
    steps: [
      { kind: "llm", id: "only", after: [], agent: "x", input_tokens: 7, output_tokens: 9 },
      { kind: "tool", id: "t", after: [], duration_s: 0, output_tokens: 0 },
    ],
  },
];

describe("workflow trace reader", () => {
  it("reads every field, with after defaulting to [] and tool output_tokens to 0", async () => {
    const path = await tempFile("w.jsonl", line(workflow({ app: "chain", tenant: "a", priority_class: "low", slo_s: 30 })) + "\n");
    const [wf] = await collect(readWorkflowTrace(path, { seed: 1 }));
    expect(wf).toEqual({
      id: "wf-1",
      arrival_s: 0.5,
      app: "chain",
      tenant: "a",
      priority_class: "low",
      slo_s: 30,
      agents: { planner: { system_tokens: 800, model: "llama-3-8b" }, writer: { system_tokens: 300 } },
      steps: [
        { kind: "llm", id: "s0", after: [], agent: "planner", input_tokens: 200, output_tokens: 150 },
        { kind: "tool", id: "t0", after: ["s0"], tool: "search", duration_s: 1.2, output_tokens: 300 },
        { kind: "llm", id: "s1", after: ["t0"], agent: "planner", history: "s0", input_tokens: 20, output_tokens: 40 },
        { kind: "llm", id: "s2", after: ["s1"], agent: "writer", input_tokens: 0, output_tokens: 400 },
      ],
    });
    const bare = await tempFile("b.jsonl", line(withStep(1, { output_tokens: undefined })));
    const [read] = await collect(readWorkflowTrace(bare, { seed: 1 }));
    expect(read.steps[1].output_tokens).toBe(0);
  });

  it.each([
    ["bad JSON", "{", "not valid JSON"],
    ["a JSON array", "[1]", "an array"],
    ["unknown top-level field", line(workflow({ tenent: "x" })), 'unknown field "tenent"'],
    ["unknown step field", line(withStep(0, { histroy: "s0" })), 'steps[0]: unknown field "histroy"'],
    ["unknown agent field", line(workflow({ agents: { planner: { system_tokens: 1, gpu: "a100" } } })), 'agents.planner: unknown field "gpu"'],
    ["a string arrival", line(workflow({ arrival_s: "1" })), "arrival_s"],
    ["a negative arrival", line(workflow({ arrival_s: -1 })), "arrival_s: -1; expected a number of seconds ≥ 0"],
    ["an unknown priority class", line(workflow({ priority_class: "urgent" })), "priority_class"],
    ["a zero SLO", line(workflow({ slo_s: 0 })), "slo_s"],
    ["no steps", line(workflow({ steps: [] })), "steps: []; expected a non-empty array"],
    ["an unknown step kind", line(withStep(0, { kind: "human" })), "steps[0].kind"],
    ["a string token count", line(withStep(0, { input_tokens: "200" })), 'steps[0].input_tokens: "200"; expected an integer ≥ 0'],
    ["an LLM step with 0 output tokens", line(withStep(0, { output_tokens: 0 })), "steps[0].output_tokens: 0; expected an integer ≥ 1"],
    ["a negative tool output", line(withStep(1, { output_tokens: -1 })), "steps[1].output_tokens: -1; expected an integer ≥ 0"],
    ["a negative duration", line(withStep(1, { duration_s: -0.5 })), "steps[1].duration_s: -0.5"],
    ["a tool without duration", line(withStep(1, { duration_s: undefined })), "steps[1].duration_s: missing"],
    ["a tool with both durations", line(withStep(1, { duration: "fixed:1" })), "steps[1]: has both duration_s and duration"],
    ["a malformed distribution", line(withStep(1, { duration_s: undefined, duration: "lognormal:1" })), "steps[1].duration"],
    ["an unknown distribution", line(withStep(1, { duration_s: undefined, duration: "weibull:1,2" })), 'unknown distribution "weibull"'],
    ["a cycle", line(withStep(0, { after: ["s2"] })), "steps form a cycle: t0 → s1 → s2 → s0 → t0"],
    ["a missing dependency", line(withStep(2, { after: ["t9"] })), 'steps[2].after[0]: step "t9" does not exist'],
    ["an unknown agent", line(withStep(3, { agent: "editor" })), 'steps[3].agent: unknown agent "editor"'],
    ["history on a tool step", line(withStep(3, { history: "t0" })), "steps[3].history"],
    ["a duplicate step id", line(withStep(3, { id: "s0" })), 'steps[3].id: step "s0" is defined twice'],
  ])("rejects %s naming file:line and the field", async (_label, bad, fragment) => {
    const path = await tempFile("bad.jsonl", line(workflow({ id: "ok" })) + "\n" + bad + "\n");
    await expectInputError(() => readWorkflowTrace(path, { seed: 1 }), `${path}:2: `, fragment);
  });

  it("rejects arrivals going back in time, an empty file, a missing file and bad options", async () => {
    const path = await tempFile("o.jsonl", [line(workflow({ arrival_s: 2 })), "", line(workflow({ arrival_s: 1 }))].join("\n"));
    await expectInputError(() => readWorkflowTrace(path, { seed: 1 }), `${path}:3`, "non-decreasing");
    const empty = await tempFile("e.jsonl", "\n\n");
    await expectInputError(() => readWorkflowTrace(empty, { seed: 1 }), empty, "no usable rows");
    const missing = join(dirname(empty), "nope.jsonl");
    await expectInputError(() => readWorkflowTrace(missing, { seed: 1 }), missing, "not found");
    await expectInputError(() => readWorkflowTrace(path, { seed: 1, limit: 0 }), "limit");
  });

  it("stops at `limit` without looking at later lines", async () => {
    const path = await tempFile("l.jsonl", line(workflow()) + "\nbroken\n");
    expect(await collect(readWorkflowTrace(path, { seed: 1, limit: 1 }))).toHaveLength(1);
  });

  it("yields batches of batch_size", async () => {
    const path = await tempFile("b.jsonl", Array.from({ length: 5 }, (_, i) => line(workflow({ id: `w${i}` }))).join("\n"));
    const sizes: number[] = [];
    for await (const batch of readWorkflowTrace(path, { seed: 1, batch_size: 2 })) sizes.push(batch.length);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("draws distribution durations deterministically by seed, and writes them back concrete", async () => {
    const tool = (id: string, after: string[]) => ({ id, kind: "tool", after, duration: "lognormal:1.2,0.5" });
    const lines = [0, 1, 2].map((w) =>
      line({
        id: `w${w}`,
        arrival_s: w,
        agents: { a: { system_tokens: 10 } },
        steps: [tool("t0", []), tool("t1", ["t0"]), { id: "s", kind: "llm", agent: "a", after: ["t1"], input_tokens: 1, output_tokens: 1 }],
      }),
    );
    const path = await tempFile("d.jsonl", lines.join("\n"));
    const durations = (wfs: WorkflowSpec[]) => wfs.flatMap((w) => w.steps.flatMap((s) => (s.kind === "tool" ? [s.duration_s] : [])));
    const first = await collect(readWorkflowTrace(path, { seed: 7 }));
    const again = await collect(readWorkflowTrace(path, { seed: 7 }));
    const other = await collect(readWorkflowTrace(path, { seed: 8 }));
    expect(durations(first)).toHaveLength(6);
    expect(new Set(durations(first)).size).toBe(6);
    expect(durations(again)).toEqual(durations(first));
    expect(durations(other)).not.toEqual(durations(first));
    for (const d of durations(first)) expect(d).toBeGreaterThan(0);

    const out = await tempFile("concrete.jsonl", "");
    await writeWorkflowTrace(out, first);
    expect(await readFile(out, "utf8")).not.toContain('"duration"');
    expect(await collect(readWorkflowTrace(out, { seed: 99 }))).toEqual(first);
  });
});

describe("workflow trace writer", () => {
  it("round-trips workflows exactly, from a plain iterable or a batched stream", async () => {
    const path = await tempFile("w.jsonl", "");
    expect(await writeWorkflowTrace(path, specs)).toBe(2);
    expect(await collect(readWorkflowTrace(path, { seed: 0 }))).toEqual(specs);
    const text = await readFile(path, "utf8");
    const again = await tempFile("w2.jsonl", "");
    expect(await writeWorkflowTrace(again, batchesOf(specs, 1))).toBe(2);
    expect(await readFile(again, "utf8")).toBe(text);
  });

  it("leaves absent optionals out and keeps a fixed field order", async () => {
    const path = await tempFile("w.jsonl", "");
    await writeWorkflowTrace(path, [specs[1]]);
    expect((await readFile(path, "utf8")).trim()).toBe(
      '{"id":"b","arrival_s":0.3333333333333333,"agents":{"x":{"system_tokens":0}},"steps":[' +
        '{"id":"only","kind":"llm","agent":"x","after":[],"input_tokens":7,"output_tokens":9},' +
        '{"id":"t","kind":"tool","after":[],"duration_s":0,"output_tokens":0}]}',
    );
  });

  it("reports a directory that does not exist", async () => {
    const path = join(dirname(await tempFile("x", "")), "no", "such", "w.jsonl");
    await expectInputError(() => writeWorkflowTrace(path, specs), path, "directory does not exist");
  });
});

describe("docs/workflows.md", () => {
  it("its JSONL example reads as valid workflows", async () => {
    const doc = await readFile(join(REPO_ROOT, "docs/workflows.md"), "utf8");
    const block = /```jsonl\n([\s\S]*?)```/.exec(doc);
    expect(block).not.toBeNull();
    const path = await tempFile("example.jsonl", block![1]);
    const workflows = await collect(readWorkflowTrace(path, { seed: 0 }));
    expect(workflows.length).toBeGreaterThan(0);
  });
});
