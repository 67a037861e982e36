import type { Random } from "../../src/core/rng.ts";
import type { AgentSpec, LlmStepSpec, StepSpec, ToolStepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import { durationSampler, type DurationDistribution } from "../durations.ts";
import { lengthSampler, type LengthDistribution } from "../lengths.ts";

/** Token counts drawn by app generators are clamped to [1, MAX_APP_TOKENS]: every LLM step has at
 *  least one output token, and no single segment exceeds a 32k context. */
export const MAX_APP_TOKENS = 32768;

/** A sampler of token counts in [1, MAX_APP_TOKENS] drawing from `random`. */
export function tokens(dist: LengthDistribution, random: Random): () => number {
  return lengthSampler(dist, random, 1, MAX_APP_TOKENS);
}

/** A sampler of tool durations (seconds ≥ 0) drawing from `random`. */
export function seconds(dist: DurationDistribution, random: Random): () => number {
  return durationSampler(dist, random);
}

/** An LLM step. A `history` step not already in `after` is listed first there, so every
 *  conversation edge is explicit (the prompt rule skips it among the inputs either way); `history`
 *  is set only when given, so generated JSON has no undefined fields. */
export function llm(id: string, agent: string, after: string[], input_tokens: number, output_tokens: number, history?: string): LlmStepSpec {
  if (history !== undefined && !after.includes(history)) after = [history, ...after];
  const step: LlmStepSpec = { kind: "llm", id, after, agent, input_tokens, output_tokens };
  if (history !== undefined) step.history = history;
  return step;
}

export function tool(id: string, name: string, after: string[], duration_s: number, output_tokens: number): ToolStepSpec {
  return { kind: "tool", id, after, tool: name, duration_s, output_tokens };
}

/** The workflow envelope every generator returns: id `${app}-${index}`, arrival 0 (the caller
 *  sets arrival times, tenants and priorities). */
export function appWorkflow(app: string, index: number, agents: Record<string, AgentSpec>, steps: StepSpec[]): WorkflowSpec {
  return { id: `${app}-${index}`, arrival_s: 0, app, agents, steps };
}
