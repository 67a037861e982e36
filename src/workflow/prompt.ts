import type { PromptSegment } from "../core/types.ts";
import type { WorkflowDag } from "./dag.ts";
import type { LlmStepSpec, StepSpec, WorkflowSpec } from "./types.ts";

/** Content keys: equal keys are equal tokens, so they become shared KV prefixes in the engine. */
export const systemPromptKey = (workflow: WorkflowSpec, agent: string) => `sys:${workflow.app ?? ""}/${agent}`;
export const stepOutputKey = (workflow: WorkflowSpec, step: StepSpec) => `${step.kind === "llm" ? "out" : "tool"}:${workflow.id}/${step.id}`;
const inputKey = (workflow: WorkflowSpec, step: StepSpec) => `in:${workflow.id}/${step.id}`;

/** Prompt segments of every LLM step (undefined for tool steps), following the composition rule
 *  of LlmStepSpec: history context or system prompt, then direct predecessors' outputs, then new
 *  input. Every segment is keyed, so any call that continues this context can reuse its blocks. */
export function composePrompts(workflow: WorkflowSpec, dag: WorkflowDag): (PromptSegment[] | undefined)[] {
  const prompts: (PromptSegment[] | undefined)[] = new Array(dag.steps.length);
  for (const i of dag.topological) {
    const step = dag.steps[i];
    if (step.kind !== "llm") continue;
    prompts[i] = composeOne(workflow, dag, step, prompts);
  }
  return prompts;
}

function composeOne(workflow: WorkflowSpec, dag: WorkflowDag, step: LlmStepSpec, prompts: (PromptSegment[] | undefined)[]): PromptSegment[] {
  const segments: PromptSegment[] = [];
  if (step.history !== undefined) {
    const h = dag.index.get(step.history)!;
    const parent = dag.steps[h] as LlmStepSpec;
    segments.push(...prompts[h]!, { key: stepOutputKey(workflow, parent), tokens: parent.output_tokens });
  } else {
    const system_tokens = workflow.agents[step.agent].system_tokens;
    if (system_tokens > 0) segments.push({ key: systemPromptKey(workflow, step.agent), tokens: system_tokens });
  }
  for (const dep of step.after) {
    if (dep === step.history) continue;
    const d = dag.steps[dag.index.get(dep)!];
    if (d.output_tokens > 0) segments.push({ key: stepOutputKey(workflow, d), tokens: d.output_tokens });
  }
  if (step.input_tokens > 0) segments.push({ key: inputKey(workflow, step), tokens: step.input_tokens });
  return segments;
}

export function promptTokens(segments: readonly PromptSegment[]): number {
  let total = 0;
  for (const s of segments) total += s.tokens;
  return total;
}
