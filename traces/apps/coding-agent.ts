import type { StepSpec } from "../../src/workflow/types.ts";
import type { AppGenerator } from "./app.ts";
import { appWorkflow, llm, seconds, tokens, tool } from "./steps.ts";

const NAME = "coding-agent";

/**
 * `coding-agent` — a long-context software-engineering agent (SWE-agent / OpenHands style): it reads
 * a large slice of a repository, then edits and runs tests turn after turn in one conversation.
 *
 *   turn-0 → run-0 → turn-1 → run-1 → … → turn-(T−1)
 *
 * turn-0's prompt is the system prompt, the repository context and the task; every later turn
 * extends the previous turn's history with the tool run's output (test results, compiler errors),
 * so the context grows every turn and each call reuses the whole previous context as a prefix —
 * the case where prefix caching (and losing it to eviction) matters most. T LLM calls and T − 1
 * tool runs.
 *
 * Defaults: a 2,000-token system prompt (agent instructions and tool/command docs); 6,000 tokens of
 * repository context; a ~300-token task (an issue); ~350-token turns (reasoning plus an edit or a
 * command); test/compile runs of ~3 s printing ~600 tokens.
 */
export const codingAgent: AppGenerator = {
  name: NAME,
  description:
    "A long-context coding agent (SWE-agent-like): the first turn reads a large repository context and the " +
    "task, then every turn extends the previous one's conversation with the output of a test or compile " +
    "run, so the context and its reusable prefix grow every turn. A chain turn → run → turn …, turns LLM calls.",
  params: {
    turns: { kind: "int", default: 8, min: 1, description: "LLM turns; a tool run sits between consecutive ones" },
    system_tokens: { kind: "int", default: 2000, min: 0, description: "agent system prompt (instructions, command docs)" },
    repo_tokens: { kind: "length", default: 6000, description: "repository context read by the first turn" },
    task_tokens: { kind: "length", default: "lognormal:300,0.5", description: "the task (an issue), after the repository context" },
    turn_tokens: { kind: "length", default: "lognormal:350,0.6", description: "output of each turn (reasoning + edit or command)" },
    run_tokens: { kind: "length", default: "lognormal:600,0.5", description: "output of each tool run (test or compiler output)" },
    run_s: { kind: "duration", default: "lognormal:3,0.5", description: "duration of each tool run (tests, compile), seconds" },
  },
  build(index, params, random) {
    const turns = params.int("turns");
    const repo = tokens(params.length("repo_tokens"), random);
    const task = tokens(params.length("task_tokens"), random);
    const turn = tokens(params.length("turn_tokens"), random);
    const run = tokens(params.length("run_tokens"), random);
    const runSeconds = seconds(params.duration("run_s"), random);
    const steps: StepSpec[] = [llm("turn-0", "coder", [], repo() + task(), turn())];
    for (let k = 1; k < turns; k++) {
      steps.push(tool(`run-${k - 1}`, "test-runner", [`turn-${k - 1}`], runSeconds(), run()));
      steps.push(llm(`turn-${k}`, "coder", [`run-${k - 1}`], 0, turn(), `turn-${k - 1}`));
    }
    return appWorkflow(NAME, index, { coder: { system_tokens: params.int("system_tokens") } }, steps);
  },
};
