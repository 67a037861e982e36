import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WorkflowRow } from "../../src/metrics/workflow-recorder.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { simulate } from "../../sim/host.ts";
import { testInstances } from "../helpers/cluster.ts";
import { randomWorkflows } from "../helpers/random-workflows.ts";

async function run(workflows: WorkflowSpec[], blocks: number, dispatch: string) {
  const rows: WorkflowRow[] = [];
  const recorder = new Recorder({ slo: {}, onWorkflowClosed: (row) => rows.push(row) });
  async function* source() {
    yield workflows;
  }
  const result = await simulate(source(), {
    instances: testInstances(2, { block_size: 16, max_num_batched_tokens: 256 }, blocks, 4096),
    scheduling: createSchedulingPolicy("fcfs"),
    dispatch: createDispatchPolicy(dispatch),
    recorder,
    rng: new RngStreams(3),
    observability: { mode: "scraped", interval_s: 0.05 },
  });
  return { rows, recorder, result };
}

describe("workflows in the simulator", () => {
  it("every workflow completes, with makespan at least its zero-queueing critical path, and no KV leaks", async () => {
    await fc.assert(
      fc.asyncProperty(randomWorkflows, fc.integer({ min: 300, max: 2000 }), fc.constantFrom("round-robin", "least-kv"), async (workflows, blocks, dispatch) => {
        const { rows, recorder } = await run(workflows, blocks, dispatch);
        expect(rows.map((r) => r.workflow_id).sort()).toEqual(workflows.map((w) => w.id).sort());
        for (const row of rows) {
          expect(row.status).toBe("completed");
          expect(row.makespan_s!).toBeGreaterThanOrEqual(row.critical_path_s * (1 - 1e-9) - 1e-12); // float absorption of tiny durations
          if (row.llm_steps > 0) expect(row.critical_path_s).toBeGreaterThan(0);
        }
        const summary = recorder.summary();
        expect(summary.workflows.completed).toBe(workflows.length);
        const llmSteps = workflows.reduce((n, w) => n + w.steps.filter((s) => s.kind === "llm").length, 0);
        expect(summary.calls.completed).toBe(llmSteps);
      }),
      { numRuns: 60 },
    );
  });

  it("a workflow with a step no instance can hold fails cleanly: every call closes, nothing is lost", async () => {
    await fc.assert(
      fc.asyncProperty(randomWorkflows, fc.integer({ min: 0, max: 1000 }), async (workflows, pick) => {
        // Make one LLM step of some workflows far longer than max_model_len (4096).
        const poisoned = workflows.map((wf, k) => {
          const llm = wf.steps.filter((s) => s.kind === "llm");
          if (k % 2 === 1 || llm.length === 0) return wf;
          const victim = llm[pick % llm.length].id;
          return { ...wf, steps: wf.steps.map((s) => (s.id === victim && s.kind === "llm" ? { ...s, input_tokens: 9000 } : s)) };
        });
        const { rows, recorder } = await run(poisoned, 2000, "least-outstanding");
        expect(rows).toHaveLength(workflows.length);
        for (const row of rows) {
          const wasPoisoned = poisoned[Number(row.workflow_id.slice(1))] !== workflows[Number(row.workflow_id.slice(1))];
          expect(row.status).toBe(wasPoisoned ? "failed" : "completed");
          if (wasPoisoned) expect(row.reason).toMatch(/exceeds_max_model_len/);
        }
        const calls = recorder.summary().calls;
        expect(calls.arrived).toBe(calls.completed + calls.failed + calls.rejected);
      }),
      { numRuns: 40 },
    );
  });

  it("a call that continues its parent's conversation hits the parent's KV blocks", async () => {
    const wf: WorkflowSpec = {
      id: "w",
      arrival_s: 0,
      app: "t",
      agents: { a: { system_tokens: 512 } },
      steps: [
        { kind: "llm", id: "first", after: [], agent: "a", input_tokens: 1000, output_tokens: 64 },
        { kind: "tool", id: "tool", after: ["first"], duration_s: 0.5, output_tokens: 100 },
        { kind: "llm", id: "second", after: ["tool"], agent: "a", history: "first", input_tokens: 50, output_tokens: 10 },
      ],
    };
    const calls: { id: string; cached: number | null }[] = [];
    const recorder = new Recorder({ slo: {}, onCallClosed: (row) => calls.push({ id: row.call_id, cached: row.cached_tokens }) });
    async function* source() {
      yield [wf];
    }
    await simulate(source(), {
      instances: testInstances(1, {}, 1000, 4096),
      scheduling: createSchedulingPolicy("fcfs"),
      dispatch: createDispatchPolicy("round-robin"),
      recorder,
      rng: new RngStreams(1),
      observability: { mode: "scraped", interval_s: 0.1 },
    });
    // The second call's prompt starts with the first call's 1,576 tokens (512 + 1000 + 64 output):
    // every full block of it is cached.
    expect(calls.find((c) => c.id === "w/second")!.cached).toBe(Math.floor(1576 / 16) * 16);
  });
});
