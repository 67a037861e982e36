import { RngStreams } from "../../src/core/rng.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { appByName, resolveAppParams } from "../../traces/apps/index.ts";

/** Workflows 0 … count−1 of app `name`, built from one seeded stream as a caller would. */
export function buildMany(name: string, overrides: Record<string, string> = {}, count = 1, seed = 1): WorkflowSpec[] {
  const app = appByName(name);
  const params = resolveAppParams(app, overrides);
  const random = new RngStreams(seed).stream(`app:${name}`);
  return Array.from({ length: count }, (_, i) => app.build(i, params, random));
}

export function buildOne(name: string, overrides: Record<string, string> = {}, seed = 1): WorkflowSpec {
  return buildMany(name, overrides, 1, seed)[0];
}

export const llmSteps = (wf: WorkflowSpec) => wf.steps.filter((s) => s.kind === "llm");
export const toolSteps = (wf: WorkflowSpec) => wf.steps.filter((s) => s.kind === "tool");
