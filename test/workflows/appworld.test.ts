import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { importAppWorld, importAppWorldFolder } from "../../traces/workflows/appworld.ts";
import { sharedData } from "../helpers/requirements.ts";
import { expectInputError, tempDir, tempFile } from "./helpers.ts";

const x = (chars: number) => "x".repeat(chars);
type Node = Record<string, unknown>;

/** A chain of nodes: each depends on the one before. */
function chainDag(nodes: Node[], task_description = x(40)) {
  return {
    metadata: { task_id: "hand_1", task_number: "1/1", task_description },
    nodes,
    edges: nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id, edge_type: "sequential" })),
  };
}

/** Supervisor → App session 1 (two turns) → reply → Supervisor → App session 2 (no message) →
 *  Supervisor. Content lengths are chosen so every token count is easy to check by hand. */
const HAND_MADE: Node[] = [
  { id: "n0", type: "agent_response", agent: "Supervisor", content: x(100) },
  { id: "n1", type: "code_execution", content: x(50) },
  { id: "n2", type: "agent_entry", agent: "App", content: "Entering" },
  { id: "n3", type: "agent_message", agent: "App", content: x(30) },
  { id: "n4", type: "agent_response", agent: "App", content: x(9) },
  { id: "n5", type: "agent_message", agent: "App", content: x(41) },
  { id: "n6", type: "agent_response", agent: "App", content: x(1) },
  { id: "n7", type: "agent_reply", from_agent: "App", to_agent: "Supervisor", content: x(20) },
  { id: "n8", type: "agent_exit", agent: "App", content: "Exiting" },
  { id: "n9", type: "api_response", api: "send_message", content: x(20) },
  { id: "n10", type: "agent_message", agent: "Supervisor", content: x(21) },
  { id: "n11", type: "agent_response", agent: "Supervisor", content: "" },
  { id: "n12", type: "code_execution", content: x(5) },
  { id: "n13", type: "agent_entry", agent: "App", content: "Entering" },
  { id: "n14", type: "agent_response", agent: "App", content: x(8) },
  { id: "n15", type: "agent_exit", agent: "App", content: "Exiting" },
  { id: "n16", type: "api_response", api: "send_message", content: x(8) },
  { id: "n17", type: "agent_message", agent: "Supervisor", content: x(4) },
  { id: "n18", type: "agent_response", agent: "Supervisor", content: x(4) },
];

async function dagFile(dag: unknown, name = "hand_1_dag.json"): Promise<string> {
  return tempFile(name, JSON.stringify(dag));
}

const withoutDurations = (wf: WorkflowSpec) =>
  wf.steps.map((s) => {
    if (s.kind !== "tool") return s;
    const { duration_dist: _dist, ...rest } = s;
    return { ...rest, duration_s: 0 };
  });

describe("AppWorld import of a hand-made DAG", () => {
  it("maps responses, tools, contraction, sessions, history and input tokens exactly", async () => {
    const wf = await importAppWorld(await dagFile(chainDag(HAND_MADE)), { system_tokens: 500 });
    expect(wf.id).toBe("hand_1");
    expect(wf.arrival_s).toBe(0);
    expect(wf.app).toBe("appworld");
    expect(wf.agents).toEqual({ Supervisor: { system_tokens: 500 }, App: { system_tokens: 500 } });
    expect(withoutDurations(wf)).toEqual([
      // The task's first response: no message yet, so the task description (40 chars) is its input.
      { kind: "llm", id: "n0", after: [], agent: "Supervisor", input_tokens: 10, output_tokens: 25 },
      { kind: "tool", id: "n1", after: ["n0"], tool: "code_execution", duration_s: 0, output_tokens: 0 },
      // Through entry and message: depends on the tool; first turn of the session, input = message.
      { kind: "llm", id: "n4", after: ["n1"], agent: "App", input_tokens: 8, output_tokens: 3 },
      { kind: "llm", id: "n6", after: ["n4"], agent: "App", history: "n4", input_tokens: 11, output_tokens: 1 },
      { kind: "tool", id: "n9", after: ["n6"], tool: "api:send_message", duration_s: 0, output_tokens: 0 },
      // The message (21 chars) addressed to the Supervisor; the reply it repeats is not counted
      // again, and messages to App are not its input.
      { kind: "llm", id: "n11", after: ["n9"], agent: "Supervisor", history: "n0", input_tokens: 6, output_tokens: 1 },
      { kind: "tool", id: "n12", after: ["n11"], tool: "code_execution", duration_s: 0, output_tokens: 0 },
      // A new session: no history, and session 1's messages do not count; no message → task text.
      { kind: "llm", id: "n14", after: ["n12"], agent: "App", input_tokens: 10, output_tokens: 2 },
      { kind: "tool", id: "n16", after: ["n14"], tool: "api:send_message", duration_s: 0, output_tokens: 0 },
      { kind: "llm", id: "n18", after: ["n16"], agent: "Supervisor", history: "n11", input_tokens: 1, output_tokens: 1 },
    ]);
    validateWorkflow(wf, "check");
    // Tool steps keep the distribution their duration came from, so each arrival redraws it.
    expect(wf.steps.filter((s) => s.kind === "tool").map((s) => (s.kind === "tool" ? s.duration_dist : undefined))).toEqual([
      "lognormal:0.5,0.5",
      "lognormal:0.3,0.5",
      "lognormal:0.5,0.5",
      "lognormal:0.3,0.5",
    ]);
  });

  it("contracts bookkeeping nodes where branches join", async () => {
    const nodes: Node[] = [
      { id: "a", type: "agent_response", agent: "A", content: x(4) },
      { id: "b", type: "agent_response", agent: "B", content: x(4) },
      { id: "ma", type: "agent_message", agent: "C", content: x(8) },
      { id: "mb", type: "agent_message", agent: "C", content: x(8) },
      { id: "join", type: "agent_entry", agent: "C" },
      { id: "c", type: "agent_response", agent: "C", content: x(4) },
    ];
    const edges = [
      ["a", "ma"],
      ["b", "mb"],
      ["ma", "join"],
      ["mb", "join"],
      ["join", "c"],
    ].map(([source, target]) => ({ source, target }));
    const wf = await importAppWorld(await dagFile({ metadata: { task_id: 7, task_description: "t" }, nodes, edges }));
    expect(wf.id).toBe("7");
    const c = wf.steps.find((s) => s.id === "c")!;
    expect(c.after).toEqual(["a", "b"]);
    // The session of C opened at the join: the two messages before it are not C's new input.
    expect(c).toMatchObject({ input_tokens: 1 });
  });

  it("draws tool durations deterministically per file and seed, honouring tool_duration", async () => {
    const file = await dagFile(chainDag(HAND_MADE));
    const durations = (wf: WorkflowSpec) => wf.steps.flatMap((s) => (s.kind === "tool" ? [s.duration_s] : []));
    const a = durations(await importAppWorld(file, { seed: 3 }));
    expect(a).toHaveLength(4);
    expect(durations(await importAppWorld(file, { seed: 3 }))).toEqual(a);
    expect(durations(await importAppWorld(file, { seed: 4 }))).not.toEqual(a);
    expect(durations(await importAppWorld(file, { tool_duration: "fixed:2" }))).toEqual([2, 2, 2, 2]);
    expect(durations(await importAppWorld(file, { tool_duration: { api_response: "fixed:0" } }))).toEqual([expect.any(Number), 0, expect.any(Number), 0]);
    await expectInputError(() => importAppWorld(file, { tool_duration: "gauss:1" }), "appworld.tool_duration", "gauss");
  });

  it.each([
    ["bad JSON", "{", "not valid JSON"],
    ["no task id", JSON.stringify({ metadata: {}, nodes: HAND_MADE, edges: [] }), "metadata.task_id"],
    ["an unknown node type", JSON.stringify(chainDag([{ id: "n0", type: "thought", content: "" }])), "nodes[0].type"],
    ["a response without agent", JSON.stringify(chainDag([{ id: "n0", type: "agent_response", content: "hi" }])), "nodes[0].agent"],
    ["an edge to a missing node", JSON.stringify({ ...chainDag(HAND_MADE.slice(0, 2)), edges: [{ source: "n0", target: "n9" }] }), 'edges[0].target: node "n9" does not exist'],
    [
      "a cycle",
      JSON.stringify({
        ...chainDag(HAND_MADE.slice(0, 3)),
        edges: [
          { source: "n0", target: "n1" },
          { source: "n1", target: "n2" },
          { source: "n2", target: "n1" },
        ],
      }),
      "nodes form a cycle: n2 → n1 → n2",
    ],
    ["a history-less prompt that is empty", JSON.stringify(chainDag([{ id: "n0", type: "agent_response", agent: "S", content: "x" }], "")), "prompt is empty"],
  ])("rejects %s naming the file", async (_label, text, fragment) => {
    const file = await tempFile("bad_dag.json", text);
    await expectInputError(() => importAppWorld(file, { system_tokens: 0 }), file, fragment);
  });

  it("imports a folder sorted by file name; rejects a folder without .json and a missing file", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "b.json"), JSON.stringify({ ...chainDag(HAND_MADE), metadata: { task_id: "b", task_description: "t" } }));
    await writeFile(join(dir, "a.json"), JSON.stringify({ ...chainDag(HAND_MADE), metadata: { task_id: "a", task_description: "t" } }));
    await writeFile(join(dir, "notes.txt"), "not a DAG");
    expect((await importAppWorldFolder(dir)).map((w) => w.id)).toEqual(["a", "b"]);
    const empty = await tempDir();
    await expectInputError(() => importAppWorldFolder(empty), empty, "no .json files");
    await expectInputError(() => importAppWorldFolder(join(empty, "nope")), "nope", "not found");
    await expectInputError(() => importAppWorld(join(empty, "nope.json")), "nope.json", "not found");
    await writeFile(join(dir, "c.json"), "[]");
    await expectInputError(() => importAppWorldFolder(dir), join(dir, "c.json"));
  });
});

describe("AppWorld import of the real DAGs", () => {
  const appworld = sharedData("workflows/appworld");
  const dir = appworld.path;

  appworld.it("imports all 12 files with one LLM step per agent_response and one tool step per tool node", async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
    expect(files).toHaveLength(12);
    const templates = await importAppWorldFolder(dir);
    expect(templates).toHaveLength(12);
    for (const [i, file] of files.entries()) {
      const raw = JSON.parse(await readFile(join(dir, file), "utf8")) as { metadata: { task_id: string }; nodes: { type: string; agent?: string }[] };
      const count = (...types: string[]) => raw.nodes.filter((n) => types.includes(n.type)).length;
      const wf = templates[i];
      expect(wf.id).toBe(raw.metadata.task_id);
      expect(wf.steps.filter((s) => s.kind === "llm")).toHaveLength(count("agent_response"));
      expect(wf.steps.filter((s) => s.kind === "tool")).toHaveLength(count("code_execution", "api_response"));
      validateWorkflow(wf, file);
      // The chains stay chains: every step but the first depends on exactly one step.
      expect(wf.steps.slice(1).every((s) => s.after.length === 1)).toBe(true);
      // Every Supervisor turn after the first continues the previous one.
      const supervisor = wf.steps.filter((s) => s.kind === "llm" && s.agent === "Supervisor");
      supervisor.slice(1).forEach((s, k) => expect(s).toMatchObject({ history: supervisor[k].id }));
      for (const s of wf.steps) if (s.kind === "llm") expect(s.input_tokens + (s.history ? 1 : 0)).toBeGreaterThan(0);
    }
  });
});
