import type { PriorityClass, WorkflowSpec } from "../../src/workflow/types.ts";

/** Fields an arrival generator may set on every workflow it emits. */
export interface WorkflowOverrides {
  tenant?: string;
  priority_class?: PriorityClass;
  slo_s?: number;
}

/** A deep, frozen copy of a template: instances share its agents and steps (no per-arrival copy of
 *  the DAG), and freezing makes any attempt to edit one instance's steps fail loudly instead of
 *  changing every other instance. */
export function frozenTemplate(template: WorkflowSpec): WorkflowSpec {
  const copy = structuredClone(template);
  for (const step of copy.steps) {
    Object.freeze(step.after);
    Object.freeze(step);
  }
  for (const agent of Object.values(copy.agents)) Object.freeze(agent);
  Object.freeze(copy.steps);
  Object.freeze(copy.agents);
  return Object.freeze(copy);
}

/** Arrival number `k` of a template: id `${template.id}#${k}` (unique per arrival, so prompt keys
 *  and metrics never mix two runs of the same task), its own arrival time, and the overrides; step
 *  ids stay as in the template. */
export function instantiate(template: WorkflowSpec, k: number, arrival_s: number, overrides: WorkflowOverrides = {}, redraw?: (duration_dist: string) => number): WorkflowSpec {
  const instance: WorkflowSpec = { ...template, id: `${template.id}#${k}`, arrival_s };
  // Tool durations drawn from a distribution are drawn again for every arrival, so repeated runs
  // of one task do not all take the same time; steps without one are shared as they are.
  if (redraw && template.steps.some((s) => s.kind === "tool" && s.duration_dist !== undefined)) {
    instance.steps = template.steps.map((s) => (s.kind === "tool" && s.duration_dist !== undefined ? { ...s, duration_s: redraw(s.duration_dist) } : s));
  }
  return withOverrides(instance, overrides);
}

/** Sets the given overrides on `workflow` (a fresh object the caller owns) and returns it. */
export function withOverrides(workflow: WorkflowSpec, overrides: WorkflowOverrides): WorkflowSpec {
  if (overrides.tenant !== undefined) workflow.tenant = overrides.tenant;
  if (overrides.priority_class !== undefined) workflow.priority_class = overrides.priority_class;
  if (overrides.slo_s !== undefined) workflow.slo_s = overrides.slo_s;
  return workflow;
}
