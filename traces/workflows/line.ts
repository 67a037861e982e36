import { inputError } from "../../src/core/errors.ts";
import type { AgentSpec, StepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import { validateWorkflow } from "../../src/workflow/validate.ts";
import { jsonObjectLine } from "../jsonl.ts";
import { describeWorkflowIssue } from "./issues.ts";
import { WorkflowLineSchema, type ToolStepLine, type WorkflowLine } from "./schema.ts";
import type { ToolDurations } from "./tool-durations.ts";

/** Parses and checks one line of a workflow trace: JSON, then the schema, then the DAG rules.
 *  `where` is "file:line"; every error starts with it. */
export function parseWorkflowLine(text: string, where: string, durations: ToolDurations): WorkflowSpec {
  const object = jsonObjectLine(text, where);
  const parsed = WorkflowLineSchema.safeParse(object);
  if (!parsed.success) throw inputError(where, describeWorkflowIssue(parsed.error, object));
  const workflow = toWorkflow(parsed.data, where, durations);
  validateWorkflow(workflow, where);
  return workflow;
}

/** Field by field, so every workflow has the same key order and no keys holding `undefined`. */
function toWorkflow(line: WorkflowLine, where: string, durations: ToolDurations): WorkflowSpec {
  const workflow: WorkflowSpec = { id: line.id, arrival_s: line.arrival_s, agents: {}, steps: [] };
  if (line.app !== undefined) workflow.app = line.app;
  if (line.tenant !== undefined) workflow.tenant = line.tenant;
  if (line.priority_class !== undefined) workflow.priority_class = line.priority_class;
  if (line.slo_s !== undefined) workflow.slo_s = line.slo_s;
  for (const [name, agent] of Object.entries(line.agents)) {
    const spec: AgentSpec = { system_tokens: agent.system_tokens };
    if (agent.model !== undefined) spec.model = agent.model;
    workflow.agents[name] = spec;
  }
  workflow.steps = line.steps.map((step, i): StepSpec => {
    if (step.kind === "tool") {
      return {
        kind: "tool",
        id: step.id,
        after: step.after,
        ...(step.tool !== undefined && { tool: step.tool }),
        duration_s: toolDuration(step, `${where}: steps[${i}]`, durations),
        output_tokens: step.output_tokens,
      };
    }
    return {
      kind: "llm",
      id: step.id,
      after: step.after,
      agent: step.agent,
      ...(step.history !== undefined && { history: step.history }),
      input_tokens: step.input_tokens,
      output_tokens: step.output_tokens,
    };
  });
  return workflow;
}

function toolDuration(step: ToolStepLine, field: string, durations: ToolDurations): number {
  if (step.duration_s !== undefined && step.duration !== undefined) {
    throw inputError(field, `has both duration_s and duration; expected exactly one of them`);
  }
  if (step.duration_s !== undefined) return step.duration_s;
  if (step.duration === undefined) {
    throw inputError(`${field}.duration_s`, `missing; expected duration_s (seconds ≥ 0) or duration (a distribution such as lognormal:1.2,0.5)`);
  }
  return durations.draw(step.duration, `${field}.duration`);
}
