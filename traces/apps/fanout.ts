import type { StepSpec } from "../../src/workflow/types.ts";
import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, tokens } from "./steps.ts";

const NAME = "fanout";

/**
 * `fanout` — map-reduce over LLM workers (the plan / parallel-execute / aggregate pattern of
 * orchestrator-worker agent frameworks and of LLMCompiler-style parallel function calling).
 *
 *            ┌→ worker-0 ─┐
 *   plan ────┼→ worker-1 ─┼──→ aggregate
 *            └→ worker-N ─┘
 *
 * plan reads the task; each worker's prompt is the worker system prompt, then the plan (the
 * planner's output, shared by all workers of a workflow, so it is a shared prefix segment), then its
 * own sub-task; the aggregator reads every worker's output and then the task again. workers + 2 LLM
 * calls, no history (each call is a fresh conversation).
 *
 * Defaults: system prompts of 800 (planner), 600 (worker) and 700 (aggregator) tokens; a ~300-token
 * task; a ~400-token plan; ~80-token sub-task instructions; ~300-token worker results; a ~400-token
 * final answer.
 */
export const fanout: AppGenerator = {
  name: NAME,
  description:
    "Map-reduce: a planner splits a task, N workers run in parallel (each reading the plan and its own " +
    "sub-task), and an aggregator that depends on every worker merges their results. A diamond: " +
    "plan → N parallel workers → aggregate, workers + 2 LLM calls.",
  params: {
    workers: { kind: "int", default: 4, min: 1, description: "parallel worker calls" },
    planner_system_tokens: { kind: "int", default: 800, min: 0, description: "planner system prompt" },
    worker_system_tokens: { kind: "int", default: 600, min: 0, description: "worker system prompt" },
    aggregator_system_tokens: { kind: "int", default: 700, min: 0, description: "aggregator system prompt" },
    task_tokens: { kind: "length", default: "lognormal:300,0.5", description: "the task (planner input; repeated to the aggregator)" },
    plan_tokens: { kind: "length", default: "lognormal:400,0.5", description: "planner output, read by every worker" },
    subtask_tokens: { kind: "length", default: "lognormal:80,0.5", description: "each worker's own sub-task instruction" },
    result_tokens: { kind: "length", default: "lognormal:300,0.6", description: "each worker's output" },
    answer_tokens: { kind: "length", default: "lognormal:400,0.5", description: "aggregator output (the final answer)" },
  },
  build(index, params, random) {
    const workers = params.int("workers");
    const task = tokens(params.length("task_tokens"), random);
    const plan = tokens(params.length("plan_tokens"), random);
    const subtask = tokens(params.length("subtask_tokens"), random);
    const result = tokens(params.length("result_tokens"), random);
    const answer = tokens(params.length("answer_tokens"), random);
    const taskTokens = task();
    const steps: StepSpec[] = [llm("plan", "planner", [], taskTokens, plan())];
    const workerIds: string[] = [];
    for (let w = 0; w < workers; w++) {
      const id = `worker-${w}`;
      workerIds.push(id);
      steps.push(llm(id, "worker", ["plan"], subtask(), result()));
    }
    steps.push(llm("aggregate", "aggregator", workerIds, taskTokens, answer()));
    const agents = {
      planner: { system_tokens: params.int("planner_system_tokens") },
      worker: { system_tokens: params.int("worker_system_tokens") },
      aggregator: { system_tokens: params.int("aggregator_system_tokens") },
    };
    return appWorkflow(NAME, index, agents, steps);
  },
};
