import type { AgentSpec, LlmStepSpec, PriorityClass, ToolStepSpec, WorkflowSpec } from "../../src/workflow/types.ts";
import type { PrefixBoundary } from "./record-prefix.ts";

/** What the recorder keeps of one finished call (no text unless --record-text). */
export interface RecordedCall {
  call_id: string;
  /** Order of arrival at the gateway (ties in time keep it). */
  seq: number;
  workflow: string;
  /** The client's step id, if it named one. */
  step: string | undefined;
  /** The client's agent name, if it named one. */
  agent: string | undefined;
  app: string | undefined;
  tenant: string | undefined;
  priority_class: PriorityClass | undefined;
  slo_s: number | undefined;
  /** tandem's name of the model it ran on. */
  model: string;
  arrival_s: number;
  finished_s: number;
  /** The server's counts (usage). */
  prompt_tokens: number;
  output_tokens: number;
  /** Prefix hashes at message or block boundaries, and the gateway's estimate of the whole prompt. */
  boundaries: PrefixBoundary[];
  est_prompt_tokens: number;
  /** The earlier call of its workflow whose conversation (prompt, then reply) this prompt begins with. */
  continues: string | undefined;
}

/** The app a workflow is recorded under when its client names none. */
export const RECORDED_APP = "gateway";

/** Turns recorded calls into workflow specs (docs/gateway.md, "Recording traffic"):
 *  - a call that arrived after earlier calls of its workflow had finished depends on them (only the
 *    latest such calls, not their ancestors): a tool step of the gap's length sits between them; a
 *    call that arrived while none had finished waits on a tool step from the workflow's start;
 *  - a call that continues an earlier call's conversation has it as `history`;
 *  - otherwise its prompt starts with its agent's system prompt: the longest prefix (message or
 *    block boundary) it shares with a call of another workflow — each distinct shared prefix is an
 *    agent (the client's agent name, `~2`, `~3` … for further prefixes under one name);
 *  - `input_tokens` makes every step's prompt exactly the server's count, so the simulator replays
 *    the same token counts. Arrival times start at 0.
 *  `stepIds`, when given, gets each call's step id. */
export function recordedWorkflows(calls: readonly RecordedCall[], stepIds?: Map<string, string>): WorkflowSpec[] {
  const workflowsOf = new Map<string, Set<string>>(); // prefix hash → workflows holding it
  for (const c of calls) {
    for (const b of c.boundaries) {
      let set = workflowsOf.get(b.hash);
      if (set === undefined) workflowsOf.set(b.hash, (set = new Set()));
      set.add(c.workflow);
    }
  }
  const byWorkflow = new Map<string, RecordedCall[]>();
  for (const c of [...calls].sort((a, b) => a.arrival_s - b.arrival_s || a.seq - b.seq)) {
    const list = byWorkflow.get(c.workflow);
    if (list === undefined) byWorkflow.set(c.workflow, [c]);
    else list.push(c);
  }
  const agents = new AgentNames();
  const origin = calls.reduce((m, c) => Math.min(m, c.arrival_s), Infinity);
  const specs: { spec: WorkflowSpec; systemOf: Map<string, { est: number; ratio: number }> }[] = [];
  for (const [id, list] of byWorkflow) specs.push(buildWorkflow(id, list, workflowsOf, agents, origin, stepIds));
  // An agent's system prompt is one length everywhere: the smallest estimate any of its calls allows.
  const systemTokens = new Map<string, number>();
  for (const { spec, systemOf } of specs) {
    for (const step of spec.steps) {
      if (step.kind !== "llm" || step.history !== undefined) continue;
      const key = agentKey(spec, step.agent);
      const s = systemOf.get(step.id)!;
      const allowed = Math.min(Math.round(s.est * s.ratio), step.input_tokens);
      systemTokens.set(key, Math.min(systemTokens.get(key) ?? Infinity, allowed));
    }
  }
  for (const { spec } of specs) {
    for (const [name, agent] of Object.entries(spec.agents)) agent.system_tokens = systemTokens.get(agentKey(spec, name)) ?? 0;
    for (const step of spec.steps) if (step.kind === "llm" && step.history === undefined) step.input_tokens -= spec.agents[step.agent].system_tokens;
  }
  return specs.map((s) => s.spec).sort((a, b) => a.arrival_s - b.arrival_s);
}

const agentKey = (spec: WorkflowSpec, agent: string) => `${spec.app ?? ""}\u0000${agent}`;

/** Recorded agent names: one per (app, client name, model, shared prefix). */
class AgentNames {
  private readonly names = new Map<string, string>();
  private readonly variants = new Map<string, number>();

  name(app: string, client: string, model: string, prefix: string): string {
    const key = `${app}\u0000${client}\u0000${model}\u0000${prefix}`;
    let name = this.names.get(key);
    if (name === undefined) {
      const base = `${app}\u0000${client}`;
      const n = (this.variants.get(base) ?? 0) + 1;
      this.variants.set(base, n);
      name = n === 1 ? client : `${client}~${n}`;
      this.names.set(key, name);
    }
    return name;
  }
}

function buildWorkflow(
  id: string,
  calls: RecordedCall[],
  workflowsOf: Map<string, Set<string>>,
  agents: AgentNames,
  origin: number,
  stepIds: Map<string, string> | undefined,
): { spec: WorkflowSpec; systemOf: Map<string, { est: number; ratio: number }> } {
  const first = calls[0];
  const app = first.app ?? RECORDED_APP;
  const spec: WorkflowSpec = { id, arrival_s: first.arrival_s - origin, app, agents: {}, steps: [] };
  if (first.tenant !== undefined) spec.tenant = first.tenant;
  if (first.priority_class !== undefined) spec.priority_class = first.priority_class;
  if (first.slo_s !== undefined) spec.slo_s = first.slo_s;
  const systemOf = new Map<string, { est: number; ratio: number }>();
  const stepIdOf = new Map<string, string>(); // call id → step id
  const ancestors = new Map<string, Set<string>>(); // step id → its ancestors' step ids
  const byStep = new Map<string, { call: RecordedCall; step: LlmStepSpec }>();
  const clientIds = new Set<string>();
  const taken = new Set<string>();
  for (const c of calls) if (c.step !== undefined) clientIds.has(c.step) ? taken.add(c.step) : clientIds.add(c.step);
  for (const [k, c] of calls.entries()) {
    // The client's step id when it is unique in the workflow, else the call's position.
    const stepId = c.step !== undefined && !taken.has(c.step) && !c.step.endsWith(":wait") ? c.step : `call-${k}`;
    stepIdOf.set(c.call_id, stepId);
    stepIds?.set(c.call_id, stepId);
    // Dependencies: the latest earlier calls that had finished when this one arrived.
    const done = calls.slice(0, k).filter((a) => a.finished_s <= c.arrival_s);
    const doneIds = done.map((a) => stepIdOf.get(a.call_id)!);
    const covered = new Set<string>();
    for (const d of doneIds) for (const x of ancestors.get(d) ?? []) covered.add(x);
    const preds = done.filter((_a, i) => !covered.has(doneIds[i]));
    const mine = new Set<string>(covered);
    for (const d of doneIds) mine.add(d);
    const after: string[] = [];
    const waited_from = preds.length > 0 ? Math.max(...preds.map((a) => a.finished_s)) : first.arrival_s;
    if (preds.length > 0 || c.arrival_s > first.arrival_s) {
      const tool: ToolStepSpec = {
        kind: "tool",
        id: `${stepId}:wait`,
        after: preds.map((a) => stepIdOf.get(a.call_id)!),
        tool: preds.length > 0 ? "gap" : "start-delay",
        duration_s: Math.max(0, c.arrival_s - waited_from),
        output_tokens: 0,
      };
      spec.steps.push(tool);
      after.push(tool.id);
      mine.add(tool.id);
    }
    ancestors.set(stepId, mine);
    const step: LlmStepSpec = { kind: "llm", id: stepId, after, agent: "", input_tokens: c.prompt_tokens, output_tokens: c.output_tokens };
    const parent = c.continues !== undefined ? byStep.get(stepIdOf.get(c.continues) ?? "") : undefined;
    let prefix = "";
    let est = 0;
    if (parent !== undefined && mine.has(parent.step.id) && c.prompt_tokens - parent.call.prompt_tokens - parent.call.output_tokens >= 0) {
      step.history = parent.step.id;
      step.input_tokens = c.prompt_tokens - parent.call.prompt_tokens - parent.call.output_tokens;
      step.agent = parent.step.agent;
    } else {
      for (const b of c.boundaries) if ((workflowsOf.get(b.hash)?.size ?? 0) >= 2) [prefix, est] = [b.hash, b.est_tokens];
      step.agent = agents.name(app, c.agent ?? "agent", c.model, prefix);
      systemOf.set(stepId, { est, ratio: c.est_prompt_tokens > 0 ? c.prompt_tokens / c.est_prompt_tokens : 1 });
    }
    if (spec.agents[step.agent] === undefined) spec.agents[step.agent] = { system_tokens: 0, model: c.model } satisfies AgentSpec;
    spec.steps.push(step);
    byStep.set(stepId, { call: c, step });
  }
  return { spec, systemOf };
}
