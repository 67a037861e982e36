import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Controller } from "../../src/core/controller.ts";
import type { ControllerAction } from "../../src/core/events.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { EventQueue } from "../../sim/des/event-queue.ts";
import { randomWorkflows } from "../helpers/random-workflows.ts";

const INSTANCE = { id: "i0", model: "m", gpu: "g", tensor_parallel: 1, max_model_len: 100_000, kv_capacity_tokens: 1e6 };

function newController() {
  const rows: { workflow_id: string; status: string; makespan_s: number | null }[] = [];
  const recorder = new Recorder({ slo: {}, onWorkflowClosed: (row) => rows.push(row) });
  const controller = new Controller({
    instances: [INSTANCE],
    scheduling: createSchedulingPolicy("fcfs"),
    dispatch: createDispatchPolicy("round-robin"),
    recorder,
    random: () => 0.5,
  });
  return { controller, recorder, rows };
}

/** A stand-in host: every dispatched call streams one first token and finishes `service_s` later;
 *  tools finish after their duration. Records when each step started and finished. */
function drive(controller: Controller, workflows: WorkflowSpec[], service_s: (callId: string) => number) {
  type Ev = { kind: "arrive"; wf: WorkflowSpec } | { kind: "call"; id: string; output: number } | { kind: "tool"; wf: string; step: string };
  const queue = new EventQueue<Ev>();
  for (const wf of workflows) queue.push(wf.arrival_s, { kind: "arrive", wf });
  const started = new Map<string, number>();
  const finished = new Map<string, number>();
  const carry = (now: number, actions: readonly ControllerAction[]) => {
    for (const a of actions) {
      if (a.kind === "dispatch") {
        started.set(a.call.id, now);
        queue.push(now + service_s(a.call.id), { kind: "call", id: a.call.id, output: a.call.output_tokens });
      } else if (a.kind === "startTool") {
        started.set(`${a.workflowId}/${a.stepId}`, now);
        queue.push(now + a.duration_s, { kind: "tool", wf: a.workflowId, step: a.stepId });
      }
    }
  };
  while (queue.size > 0) {
    const now = queue.peekTime();
    const ev = queue.pop();
    if (ev.kind === "arrive") controller.workflowArrived(now, ev.wf);
    else if (ev.kind === "call") {
      finished.set(ev.id, now);
      controller.callFirstToken(now, ev.id);
      controller.callFinished(now, ev.id, { prompt_tokens: 1, cached_tokens: 0, output_tokens: ev.output, preemptions: 0 });
    } else {
      finished.set(`${ev.wf}/${ev.step}`, now);
      controller.toolFinished(now, ev.wf, ev.step, now);
    }
    carry(now, controller.drain());
  }
  return { started, finished };
}

describe("orchestrator (core, events in / actions out)", () => {
  it("releases a step only after every predecessor finished, and completes every workflow", () => {
    fc.assert(
      fc.property(randomWorkflows, fc.integer({ min: 1, max: 1000 }), (workflows, salt) => {
        const { controller, rows } = newController();
        const service = (id: string) => ((id.length * 7919 + salt) % 97) / 50;
        const { started, finished } = drive(controller, workflows, service);
        for (const wf of workflows) {
          for (const step of wf.steps) {
            const key = `${wf.id}/${step.id}`;
            expect(started.has(key)).toBe(true);
            for (const dep of step.after) expect(finished.get(`${wf.id}/${dep}`)!).toBeLessThanOrEqual(started.get(key)!);
          }
        }
        expect(rows.map((r) => r.status)).toEqual(workflows.map(() => "completed"));
        expect(controller.openCalls).toBe(0);
        expect(controller.runningWorkflows).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("builds each call's prompt from its history, its predecessors' outputs and its new input", () => {
    const { controller } = newController();
    controller.workflowArrived(0, {
      id: "w",
      arrival_s: 0,
      app: "demo",
      agents: { planner: { system_tokens: 100 } },
      steps: [
        { kind: "llm", id: "think", after: [], agent: "planner", input_tokens: 20, output_tokens: 10 },
        { kind: "tool", id: "search", after: ["think"], duration_s: 1, output_tokens: 50 },
        { kind: "llm", id: "answer", after: ["search"], agent: "planner", history: "think", input_tokens: 5, output_tokens: 8 },
      ],
    });
    const first = controller.drain();
    expect(first).toHaveLength(1);
    const think = (first[0] as Extract<ControllerAction, { kind: "dispatch" }>).call;
    expect(think.segments).toEqual([
      { key: "sys:demo/planner", tokens: 100 },
      { key: "in:w/think", tokens: 20 },
    ]);
    controller.callFirstToken(0.5, "w/think");
    controller.callFinished(1, "w/think", { prompt_tokens: 120, cached_tokens: 0, output_tokens: 10, preemptions: 0 });
    expect(controller.drain()[0]).toEqual({ kind: "startTool", workflowId: "w", stepId: "search", duration_s: 1 });
    controller.toolFinished(2, "w", "search", 1);
    const answer = (controller.drain()[0] as Extract<ControllerAction, { kind: "dispatch" }>).call;
    expect(answer.segments).toEqual([
      { key: "sys:demo/planner", tokens: 100 },
      { key: "in:w/think", tokens: 20 },
      { key: "out:w/think", tokens: 10 },
      { key: "tool:w/search", tokens: 50 },
      { key: "in:w/answer", tokens: 5 },
    ]);
    expect(answer.prompt_tokens).toBe(185);
    expect(answer.agent).toBe("demo/planner");
  });

  it("fails a workflow cleanly when a step is rejected: nothing more is released", () => {
    const { controller, rows, recorder } = newController();
    const usage = { prompt_tokens: 15, cached_tokens: 0, output_tokens: 5, preemptions: 0 };
    controller.workflowArrived(0, {
      id: "w",
      arrival_s: 0,
      agents: { a: { system_tokens: 10 } },
      steps: [
        { kind: "llm", id: "ok", after: [], agent: "a", input_tokens: 5, output_tokens: 5 },
        { kind: "llm", id: "side", after: [], agent: "a", input_tokens: 5, output_tokens: 5 },
        { kind: "llm", id: "huge", after: ["ok"], agent: "a", input_tokens: 200_000, output_tokens: 5 },
        { kind: "llm", id: "next", after: ["huge", "side"], agent: "a", input_tokens: 5, output_tokens: 5 },
      ],
    });
    expect(controller.drain().map((a) => a.kind)).toEqual(["dispatch", "dispatch"]);
    controller.callFirstToken(1, "w/ok");
    controller.callFinished(2, "w/ok", usage);
    expect(controller.drain()).toEqual([{ kind: "reject", callId: "w/huge", reason: "exceeds_max_model_len" }]);
    expect(rows).toEqual([expect.objectContaining({ workflow_id: "w", status: "failed", reason: "step huge: exceeds_max_model_len" })]);
    // The call already at an instance runs to its end, but releases nothing.
    controller.callFirstToken(3, "w/side");
    controller.callFinished(4, "w/side", usage);
    expect(controller.drain()).toEqual([]);
    expect(recorder.summary().workflows).toMatchObject({ arrived: 1, completed: 0, failed: 1 });
    expect(recorder.summary().calls).toMatchObject({ arrived: 3, completed: 2, rejected: 1 });
    expect(controller.openCalls).toBe(0);
  });

  it("rejects a failed workflow's calls still waiting at the controller", () => {
    const { controller, recorder } = newController();
    controller.workflowArrived(0, {
      id: "w",
      arrival_s: 0,
      agents: { a: { system_tokens: 10 } },
      steps: [
        { kind: "llm", id: "ok", after: [], agent: "a", input_tokens: 5, output_tokens: 5 },
        { kind: "llm", id: "huge", after: [], agent: "a", input_tokens: 200_000, output_tokens: 5 },
      ],
    });
    // "ok" was queued when "huge" was rejected in the same release, so it never leaves the controller.
    expect(controller.drain()).toEqual([
      { kind: "reject", callId: "w/huge", reason: "exceeds_max_model_len" },
      { kind: "reject", callId: "w/ok", reason: "workflow_failed" },
    ]);
    expect(recorder.summary().rejections).toEqual({ exceeds_max_model_len: 1, workflow_failed: 1 });
  });

  it("keeps online per-agent profiles and the remaining critical path", () => {
    const { controller } = newController();
    controller.workflowArrived(0, {
      id: "w",
      arrival_s: 0,
      agents: { a: { system_tokens: 10 } },
      steps: [
        { kind: "llm", id: "x", after: [], agent: "a", input_tokens: 5, output_tokens: 5 },
        { kind: "tool", id: "t", after: ["x"], duration_s: 3, output_tokens: 0 },
        { kind: "llm", id: "y", after: ["t"], agent: "a", input_tokens: 5, output_tokens: 5 },
      ],
    });
    controller.drain();
    controller.callFirstToken(1, "w/x");
    controller.callFinished(2, "w/x", { prompt_tokens: 15, cached_tokens: 0, output_tokens: 5, preemptions: 0 });
    const profile = controller.agentSummaries().find((a) => a.agent === "a")!;
    expect(profile.calls).toBe(1);
    expect(profile.latency_s.mean).toBe(2);
    // At t = 2: the tool (3 s) is running from 2, then y, predicted from a's profile (2 s).
    expect(controller.policyView.workflows.remainingCriticalPath_s("w")).toBeCloseTo(5);
    controller.tick(4);
    expect(controller.policyView.workflows.remainingCriticalPath_s("w")).toBeCloseTo(3);
  });
});

describe("prefetch advice", () => {
  it("while a tool runs, advises prefetching the call waiting only on it, on the instance of the workflow's last call", () => {
    const { controller } = newController();
    controller.workflowArrived(0, {
      id: "w",
      arrival_s: 0,
      app: "demo",
      agents: { a: { system_tokens: 100 } },
      steps: [
        { kind: "llm", id: "think", after: [], agent: "a", input_tokens: 20, output_tokens: 10 },
        { kind: "tool", id: "run", after: ["think"], duration_s: 3, output_tokens: 40 },
        { kind: "llm", id: "next", after: ["run"], agent: "a", history: "think", input_tokens: 5, output_tokens: 5 },
      ],
    });
    controller.drain();
    controller.callFirstToken(0.5, "w/think");
    controller.callFinished(1, "w/think", { prompt_tokens: 120, cached_tokens: 0, output_tokens: 10, preemptions: 0 });
    const actions = controller.drain();
    expect(actions.map((a) => a.kind)).toEqual(["startTool", "prefetch"]);
    const prefetch = actions[1] as Extract<ControllerAction, { kind: "prefetch" }>;
    expect(prefetch.instanceId).toBe("i0");
    expect(prefetch.call.id).toBe("w/next");
    expect(prefetch.call.segments.map((s) => s.key)).toEqual(["sys:demo/a", "in:w/think", "out:w/think", "tool:w/run", "in:w/next"]);
  });
});
