import { describe, expect, it } from "vitest";
import type { StepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { expectInputError } from "./helpers.ts";

const llm = (id: string, after: string[], history?: string): StepSpec => ({ kind: "llm", id, after, agent: "a", input_tokens: 4, output_tokens: 4, ...(history ? { history } : {}) });
const tool = (id: string, after: string[]): StepSpec => ({ kind: "tool", id, after, duration_s: 0.1, output_tokens: 2 });
const workflow = (steps: StepSpec[]): WorkflowSpec => ({ id: "w", arrival_s: 0, agents: { a: { system_tokens: 8 } }, steps });

describe("validateWorkflow: history must be an ancestor", () => {
  it("accepts a history that is a direct predecessor or an ancestor several steps up", () => {
    expect(() => validateWorkflow(workflow([llm("x", []), llm("y", ["x"], "x")]), "t")).not.toThrow();
    expect(() => validateWorkflow(workflow([llm("x", []), tool("t1", ["x"]), tool("t2", ["t1"]), llm("y", ["t2"], "x")]), "t")).not.toThrow();
  });

  it("rejects a history that is not an ancestor, also when it sits earlier in the topological order", async () => {
    // "side" comes before "y" in every topological order but is on another branch.
    const steps = [llm("root", []), llm("side", ["root"]), tool("t", ["root"]), llm("y", ["t"], "side")];
    await expectInputError(() => validateWorkflow(workflow(steps), "t"), 'steps[3].history: step "side" is not among this step\'s predecessors');
    // A descendant is not an ancestor either.
    const later = [llm("x", []), tool("t", ["x"]), llm("z", ["t"]), llm("w", ["t"], "z")];
    await expectInputError(() => validateWorkflow(workflow(later), "t"), 'steps[3].history: step "z" is not among');
  });

  it("checks the ancestry of every step of a game with rounds joined by a tool step (histories across the join)", async () => {
    // p players × r rounds: round s's reason continues round s−1's guess through the join.
    const rounds = (players: number, r: number, wrong?: number) => {
      const steps: StepSpec[] = [];
      for (let s = 1; s <= r; s++) {
        const guesses: string[] = [];
        for (let p = 0; p < players; p++) {
          const history = s > 1 ? `g${s - 1}-${wrong === p && s === r ? (p + 1) % players : p}` : undefined;
          steps.push(llm(`r${s}-${p}`, s > 1 ? [`avg${s - 1}`] : [], history));
          steps.push(llm(`g${s}-${p}`, [`r${s}-${p}`], `r${s}-${p}`));
          guesses.push(`g${s}-${p}`);
        }
        steps.push(tool(`avg${s}`, guesses));
      }
      return workflow(steps);
    };
    expect(() => validateWorkflow(rounds(300, 4), "t")).not.toThrow();
    // Another player's previous guess is an ancestor too (through the join): still valid.
    expect(() => validateWorkflow(rounds(300, 4, 7), "t")).not.toThrow();
  });
});
