/** Multi-agent workflows: a DAG of LLM steps and tool steps. One time unit: seconds. */

export type PriorityClass = "high" | "medium" | "low";
export const PRIORITY_CLASSES: readonly PriorityClass[] = ["high", "medium", "low"];

/** An agent of a workflow: its system prompt (a KV prefix shared by every call of that agent in
 *  every workflow of the same app) and the model it runs on (undefined = any instance). */
export interface AgentSpec {
  system_tokens: number;
  model?: string;
}

/** An LLM call. Its prompt is, in order: the whole context (prompt and output) of the `history`
 *  step when given — the conversation this call continues, so it reuses that KV prefix — or else
 *  the agent's system prompt; then the outputs of its other direct predecessors, in `after` order;
 *  then `input_tokens` new tokens. */
export interface LlmStepSpec {
  kind: "llm";
  id: string;
  /** Steps that must finish before this one starts. */
  after: string[];
  agent: string;
  /** An LLM step among this step's ancestors whose context this call extends. */
  history?: string;
  input_tokens: number;
  output_tokens: number;
}

/** A tool run (code execution, API call, retrieval): it takes `duration_s` and its result,
 *  `output_tokens` long, becomes input to the steps that depend on it. */
export interface ToolStepSpec {
  kind: "tool";
  id: string;
  after: string[];
  tool?: string;
  duration_s: number;
  /** The distribution `duration_s` was drawn from (traces/durations.ts syntax), when it was drawn:
   *  each arrival of a template draws its own duration from it. */
  duration_dist?: string;
  output_tokens: number;
}

export type StepSpec = LlmStepSpec | ToolStepSpec;

export interface WorkflowSpec {
  id: string;
  arrival_s: number;
  /** The application (generator or template) it came from; scopes agent system prompts. */
  app?: string;
  tenant?: string;
  priority_class?: PriorityClass;
  /** Makespan target; the workflow meets its SLO when it completes within it. */
  slo_s?: number;
  agents: Record<string, AgentSpec>;
  steps: StepSpec[];
}
