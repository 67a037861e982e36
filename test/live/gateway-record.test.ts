import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseClusterConfig } from "../../run/config-file.ts";
import { startGateway, type Gateway } from "../../live/gateway/index.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import type { LlmStepSpec, ToolStepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import { runSimulation } from "../../sim/run.ts";
import { readWorkflowTrace } from "../../traces/workflows/index.ts";

const CLUSTER = `
instances:
  - { name: llama, model: llama-3-8b, gpu: h100-80gb, count: 2, engine: { max_model_len: 4096 } }
`;
const SPEEDUP = 20;
const PLANNER_SYSTEM = "You are the planner. Break the user's task into steps and call tools when needed. ".repeat(12);
const WRITER_SYSTEM = "You are the writer. Turn the plan and the tool results into a clear answer. ".repeat(10);

type Message = { role: string; content: string };
interface Sent {
  workflow: string;
  step: string;
  /** Steps of the same workflow that had finished when this one was sent (the program's DAG). */
  after: string[];
  call_id: string;
}

/** A small agent program: per workflow, a planner turn, a tool (a pause), a second planner turn
 *  continuing the conversation, two writer calls in parallel, and a final writer call after both. */
async function runAgent(gw: Gateway, workflow: string, task: string, sent: Sent[]): Promise<void> {
  const call = async (step: string, after: string[], system: string, messages: Message[], max_tokens: number): Promise<string> => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tandem-workflow": workflow, "x-tandem-step": step, "x-tandem-agent": system === PLANNER_SYSTEM ? "planner" : "writer" },
      body: JSON.stringify({ model: "llama-3-8b", messages: [{ role: "system", content: system }, ...messages], max_tokens }),
    });
    expect(res.status).toBe(200);
    sent.push({ workflow, step, after, call_id: res.headers.get("x-tandem-call-id")! });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    return body.choices[0].message.content;
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const first: Message[] = [{ role: "user", content: task }];
  const plan = await call("plan", [], PLANNER_SYSTEM, first, 24);
  await pause(60); // a tool runs
  const second: Message[] = [...first, { role: "assistant", content: plan }, { role: "tool", content: `search results for ${task}: `.repeat(8) }];
  const refined = await call("refine", ["plan"], PLANNER_SYSTEM, second, 16);
  const [a, b] = await Promise.all([
    call("draft-a", ["plan", "refine"], WRITER_SYSTEM, [{ role: "user", content: `Part A of: ${refined}` }], 20),
    call("draft-b", ["plan", "refine"], WRITER_SYSTEM, [{ role: "user", content: `Part B of: ${refined} ${task}` }], 12),
  ]);
  await pause(30);
  await call("final", ["plan", "refine", "draft-a", "draft-b"], WRITER_SYSTEM, [{ role: "user", content: `Merge: ${a} ${b}` }], 8);
}

describe("tandem gateway --record: real traffic becomes a workflow trace the simulator replays", () => {
  const out = mkdtempSync(join(tmpdir(), "tandem-record-"));
  const traceFile = join(out, "recorded.jsonl");
  const sent: Sent[] = [];
  const gatewayRows = new Map<string, CallRow>();
  const workflows: WorkflowSpec[] = [];
  let simRows = new Map<string, CallRow>();

  beforeAll(async () => {
    const cluster = parseClusterConfig(CLUSTER, "cluster.yaml");
    const gw = await startGateway({
      cluster,
      clusterFile: "cluster.yaml",
      emulate: true,
      speedup: SPEEDUP,
      port: 0,
      record: { path: traceFile, text: true },
      onCallClosed: (row) => gatewayRows.set(row.call_id, row),
    });
    const tasks = ["book a trip to Lisbon", "compare three laptops for a student", "summarise the quarterly sales figures"];
    await Promise.all(tasks.map((task, i) => new Promise((r) => setTimeout(r, i * 40)).then(() => runAgent(gw, `trip-${i}`, task, sent))));
    const done = await gw.shutdown();
    expect(done.recorded).toMatchObject({ workflows: 3, calls: 15, skipped: 0 });
    for await (const batch of readWorkflowTrace(traceFile, { seed: 1 })) workflows.push(...batch);
    const rows = new Map<string, CallRow>();
    await runSimulation({ cluster, clusterFile: "cluster.yaml", workload: { kind: "workflows", path: traceFile }, onCallClosed: (row) => rows.set(row.call_id, row) });
    simRows = rows;
  }, 60_000);

  it("records every workflow with every call as an LLM step, and no prompt text in the trace", () => {
    expect(workflows.map((w) => w.id).sort()).toEqual(["trip-0", "trip-1", "trip-2"]);
    for (const w of workflows) {
      const llm = w.steps.filter((s) => s.kind === "llm").map((s) => s.id);
      expect(llm.sort()).toEqual(["draft-a", "draft-b", "final", "plan", "refine"]);
    }
    const trace = readFileSync(traceFile, "utf8");
    expect(trace).not.toContain("planner. Break");
    expect(trace).not.toContain("Lisbon");
    const text = readFileSync(`${traceFile}.text.jsonl`, "utf8");
    expect(text).toContain("Lisbon"); // --record-text keeps it, beside the trace
  });

  it("establishes the program's dependencies: each call depends on the calls that finished before it, through a tool step of the gap", () => {
    for (const w of workflows) {
      const byId = new Map(w.steps.map((s) => [s.id, s]));
      const llmAncestors = (id: string): Set<string> => {
        const seen = new Set<string>();
        const walk = (s: string) => {
          for (const p of byId.get(s)!.after) {
            if (byId.get(p)!.kind === "llm") seen.add(p);
            walk(p);
          }
        };
        walk(id);
        return seen;
      };
      for (const s of sent.filter((x) => x.workflow === w.id)) {
        expect([...llmAncestors(s.step)].sort(), `${w.id}/${s.step}`).toEqual([...s.after].sort());
      }
      // The pause between plan and refine is a tool step of about its length (60 ms × speedup).
      const wait = byId.get((byId.get("refine") as LlmStepSpec).after[0]) as ToolStepSpec;
      expect(wait.kind).toBe("tool");
      expect(wait.after).toEqual(["plan"]);
      expect(wait.duration_s).toBeGreaterThan(0.05 * SPEEDUP);
      // The parallel drafts both wait on refine only (plan is its ancestor, not a direct dependency).
      expect((byId.get((byId.get("draft-a") as LlmStepSpec).after[0]) as ToolStepSpec).after).toEqual(["refine"]);
      expect((byId.get((byId.get("final") as LlmStepSpec).after[0]) as ToolStepSpec).after.sort()).toEqual(["draft-a", "draft-b"]);
    }
  });

  it("keys shared prefixes: the continued conversation is history, each system prompt one agent across workflows", () => {
    const agentsOf = (step: string) => new Set(workflows.map((w) => (w.steps.find((s) => s.id === step) as LlmStepSpec).agent));
    for (const w of workflows) expect((w.steps.find((s) => s.id === "refine") as LlmStepSpec).history).toBe("plan");
    expect(agentsOf("plan")).toEqual(new Set(["planner"]));
    expect(agentsOf("draft-a")).toEqual(new Set(["writer"]));
    for (const w of workflows) {
      expect(w.agents.planner.system_tokens).toBeGreaterThan(200);
      expect(w.agents.writer.system_tokens).toBeGreaterThan(150);
      expect(w.agents.planner.system_tokens).toBe(workflows[0].agents.planner.system_tokens);
    }
  });

  it("replays in the simulator with the same calls and token counts, and honours the dependencies", () => {
    expect(simRows.size).toBe(sent.length);
    for (const s of sent) {
      const live = gatewayRows.get(s.call_id)!;
      const sim = simRows.get(`${s.workflow}/${s.step}`);
      expect(sim, `${s.workflow}/${s.step}`).toBeDefined();
      expect(sim!.status).toBe("finished");
      expect([sim!.prompt_tokens, sim!.output_tokens], `${s.workflow}/${s.step}`).toEqual([live.prompt_tokens, live.output_tokens]);
      for (const a of s.after) expect(sim!.arrival_s).toBeGreaterThanOrEqual(simRows.get(`${s.workflow}/${a}`)!.finished_s);
    }
  });
});
