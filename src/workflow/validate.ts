import { InputError } from "../core/errors.ts";
import { buildDag, type WorkflowDag } from "./dag.ts";
import { composePrompts, promptTokens } from "./prompt.ts";
import type { WorkflowSpec } from "./types.ts";

/** Checks what a schema cannot: step references, acyclicity, agents, history ancestry, non-empty
 *  prompts. Returns the DAG so callers need not build it twice. `where` is "file:line" or similar. */
export function validateWorkflow(workflow: WorkflowSpec, where: string): WorkflowDag {
  const at = `${where}: workflow "${workflow.id}"`;
  if (workflow.steps.length === 0) throw new InputError(`${at}: steps: expected at least one step`);
  const dag = buildDag(workflow, where);
  const ancestry = new AncestryCheck(dag);
  workflow.steps.forEach((step, i) => {
    const field = `${at}: steps[${i}]`;
    if (step.kind === "tool") {
      if (!(Number.isFinite(step.duration_s) && step.duration_s >= 0)) {
        throw new InputError(`${field}.duration_s: ${step.duration_s}; expected a duration ≥ 0 seconds`);
      }
      return;
    }
    if (!Object.hasOwn(workflow.agents, step.agent)) {
      const known = Object.keys(workflow.agents);
      throw new InputError(`${field}.agent: unknown agent "${step.agent}"; expected one of ${known.length ? known.join(", ") : "(no agents defined)"}`);
    }
    if (step.history !== undefined) {
      const h = dag.index.get(step.history);
      if (h === undefined) throw new InputError(`${field}.history: step "${step.history}" does not exist`);
      if (dag.steps[h].kind !== "llm") throw new InputError(`${field}.history: step "${step.history}" is a tool step; expected an LLM step`);
      // A direct predecessor is the common case; only otherwise walk the ancestors.
      if (!step.after.includes(step.history) && !ancestry.isAncestor(h, i)) {
        throw new InputError(`${field}.history: step "${step.history}" is not among this step's predecessors; expected an ancestor LLM step`);
      }
    }
  });
  const prompts = composePrompts(workflow, dag);
  prompts.forEach((segments, i) => {
    if (segments && promptTokens(segments) < 1) {
      throw new InputError(`${at}: steps[${i}]: the prompt is empty (no system prompt, history, inputs or input_tokens); expected at least 1 token`);
    }
  });
  return dag;
}

/** Whether one step is an ancestor of another, for many pairs of one DAG. A walk up the
 *  predecessors from the later step that skips every step placed before the candidate ancestor in
 *  the topological order (no path from the ancestor passes through them) and stops when it finds
 *  it: a game where every round's steps continue the previous round's (history over a join step)
 *  costs about one round's steps per check, not the whole DAG's. */
class AncestryCheck {
  private readonly position: Int32Array;
  private readonly seen: Int32Array;
  private stamp = 0;
  private readonly stack: number[] = [];

  constructor(private readonly dag: WorkflowDag) {
    this.position = new Int32Array(dag.steps.length);
    dag.topological.forEach((step, k) => {
      this.position[step] = k;
    });
    this.seen = new Int32Array(dag.steps.length);
  }

  isAncestor(ancestor: number, of: number): boolean {
    const { position, seen, stack } = this;
    const floor = position[ancestor];
    const stamp = ++this.stamp;
    stack.length = 0;
    stack.push(of);
    while (stack.length > 0) {
      for (const p of this.dag.predecessors[stack.pop()!]) {
        if (p === ancestor) return true;
        if (seen[p] === stamp || position[p] < floor) continue;
        seen[p] = stamp;
        stack.push(p);
      }
    }
    return false;
  }
}
