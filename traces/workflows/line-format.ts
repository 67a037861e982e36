import type { StepSpec, WorkflowSpec } from "../../src/workflow/types.ts";

/** The JSON line for one workflow: fields in a fixed order, absent optionals left out and every
 *  tool duration concrete, so the same workflows always serialise to the same bytes and read back
 *  equal whatever the seed. */
export function workflowLine(workflow: WorkflowSpec): string {
  const agents: Record<string, { system_tokens: number; model?: string }> = {};
  for (const [name, agent] of Object.entries(workflow.agents)) {
    agents[name] = agent.model === undefined ? { system_tokens: agent.system_tokens } : { system_tokens: agent.system_tokens, model: agent.model };
  }
  return JSON.stringify({
    id: workflow.id,
    arrival_s: workflow.arrival_s,
    app: workflow.app,
    tenant: workflow.tenant,
    priority_class: workflow.priority_class,
    slo_s: workflow.slo_s,
    agents,
    steps: workflow.steps.map(stepLine),
  });
}

// JSON.stringify drops keys whose value is undefined, which is how absent optionals stay absent.
function stepLine(step: StepSpec): object {
  if (step.kind === "tool") {
    return { id: step.id, kind: step.kind, after: step.after, tool: step.tool, duration_s: step.duration_s, output_tokens: step.output_tokens };
  }
  return {
    id: step.id,
    kind: step.kind,
    agent: step.agent,
    after: step.after,
    history: step.history,
    input_tokens: step.input_tokens,
    output_tokens: step.output_tokens,
  };
}
