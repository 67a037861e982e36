import type { LlmCall, PromptSegment } from "../core/types.ts";
import { AgentProfiles } from "./agent-profiles.ts";
import { buildDag, longestPath, type WorkflowDag } from "./dag.ts";
import { composePrompts, promptTokens, stepOutputKey } from "./prompt.ts";
import type { LlmStepSpec, PriorityClass, WorkflowSpec } from "./types.ts";

/** Zero-queueing service time of an LLM call on an idle instance: the prefill of its uncached
 *  tokens after a cached prefix, then its decode steps. The host supplies it from its latency model
 *  (the core itself knows no hardware). */
export interface CallEstimator {
  isolatedCall_s(model: string | undefined, prompt_tokens: number, uncached_tokens: number, output_tokens: number): number;
}

/** A step the orchestrator released: an LLM call to schedule, or a tool to run for `duration_s`. */
export type ReleasedStep = { kind: "llm"; call: LlmCall } | { kind: "tool"; workflow_id: string; step_id: string; duration_s: number };

const WAITING = 0;
const RUNNING = 1;
const DONE = 2;

/** vLLM-style per-request priority for a workflow's class (lower runs first). */
export const CLASS_PRIORITY: Record<PriorityClass, number> = { high: 0, medium: 1, low: 2 };

/** One workflow in progress. */
export class WorkflowRun {
  readonly pending: Int32Array;
  readonly status: Uint8Array;
  readonly released_s: Float64Array;
  /** Zero-queueing estimate of each step (LLM: isolated call time; tool: its duration). */
  readonly estimate_s: Float64Array;
  readonly critical_path_s: number;
  readonly llm_steps: number;
  unfinished: number;
  failed = false;
  /** Summed service time (dispatch to finish) of finished LLM calls: the service the workflow has
   *  attained. Time held at the controller is not service. */
  attained_service_s = 0;
  /** Service time of each finished LLM step (0 for tools and unfinished steps). */
  readonly service_s: Float64Array;
  /** For each released step: the service attained along the heaviest chain of steps leading to it
   *  (the maximum over its predecessors of their own path service plus their service). */
  readonly path_service_s: Float64Array;
  /** Remaining-path cache: tail_s[i] = longest remaining path starting at step i, after_s[i] = the
   *  longest one starting after it (over its successors), tail_max_s = the longest of all; valid
   *  while (at_s, profiles version, step version) are unchanged. */
  tail_s: Float64Array | undefined;
  after_s: Float64Array | undefined;
  tail_max_s = 0;
  tail_key = "";
  /** Bumped whenever a step is released or finishes. */
  version = 0;

  constructor(
    readonly spec: WorkflowSpec,
    readonly dag: WorkflowDag,
    readonly prompts: (PromptSegment[] | undefined)[],
    readonly arrival_s: number,
    estimator: CallEstimator | undefined,
  ) {
    const n = dag.steps.length;
    this.pending = Int32Array.from(dag.predecessors, (p) => p.length);
    this.status = new Uint8Array(n);
    this.released_s = new Float64Array(n);
    this.estimate_s = new Float64Array(n);
    this.service_s = new Float64Array(n);
    this.path_service_s = new Float64Array(n);
    let llm = 0;
    dag.steps.forEach((step, i) => {
      if (step.kind === "tool") {
        this.estimate_s[i] = step.duration_s;
        return;
      }
      llm++;
      // A lower bound: everything but the step's own new input may already be cached (its history,
      // the system prompt, and — when a sibling computed the same chain — predecessors' outputs).
      const prompt = promptTokens(prompts[i]!);
      const uncached = Math.min(prompt, Math.max(1, step.input_tokens));
      const model = spec.agents[step.agent].model;
      this.estimate_s[i] = estimator?.isolatedCall_s(model, prompt, uncached, step.output_tokens) ?? 0;
    });
    this.llm_steps = llm;
    this.unfinished = n;
    this.critical_path_s = longestPath(dag, (i) => this.estimate_s[i]).length_s;
  }

  get id(): string {
    return this.spec.id;
  }
}

/** Turns workflow DAGs into ready LLM calls and tool runs: a step is released when all its
 *  predecessors have finished; the workflow completes when its last step ends and fails (nothing
 *  more is released) when a step fails. Keeps the online per-agent profiles. Pure: no I/O, no clock. */
export class Orchestrator {
  private readonly runs = new Map<string, WorkflowRun>();
  readonly profiles = new AgentProfiles();
  /** Bumped whenever a profile changes, which changes every prediction. */
  private profilesVersion = 0;

  constructor(private readonly estimator: CallEstimator | undefined) {}

  get running(): number {
    return this.runs.size;
  }

  run(workflowId: string): WorkflowRun | undefined {
    return this.runs.get(workflowId);
  }

  /** Starts a workflow (already validated by its reader); returns it and its first ready steps. */
  arrive(at_s: number, spec: WorkflowSpec): { run: WorkflowRun; released: ReleasedStep[] } {
    const dag = buildDag(spec, "workflow");
    const run = new WorkflowRun(spec, dag, composePrompts(spec, dag), at_s, this.estimator);
    this.runs.set(spec.id, run);
    const released: ReleasedStep[] = [];
    for (let i = 0; i < dag.steps.length; i++) if (run.pending[i] === 0) released.push(this.release(run, i, at_s));
    return { run, released };
  }

  /** Marks a step finished; returns the steps it made ready and whether the workflow completed.
   *  Steps of workflows that already failed or completed are ignored. */
  stepFinished(at_s: number, workflowId: string, stepId: string): { released: ReleasedStep[]; completed: WorkflowRun | undefined } {
    const run = this.runs.get(workflowId);
    if (!run || run.failed) return { released: [], completed: undefined };
    const i = run.dag.index.get(stepId)!;
    run.status[i] = DONE;
    run.unfinished--;
    run.version++;
    const released: ReleasedStep[] = [];
    for (const s of run.dag.successors[i]) if (--run.pending[s] === 0) released.push(this.release(run, s, at_s));
    if (run.unfinished === 0) {
      this.runs.delete(workflowId);
      return { released, completed: run };
    }
    return { released, completed: undefined };
  }

  /** Updates the agent's profile with a finished call (`latency_s` from arrival at the controller,
   *  `queue_s` of it spent held there) and its workflow's attained service. */
  recordCall(call: LlmCall, latency_s: number, queue_s: number): void {
    if (call.agent === undefined) return;
    this.profiles.of(call.agent).record(latency_s, queue_s, call.prompt_tokens, call.output_tokens);
    this.profilesVersion++;
    const run = call.workflow_id === undefined ? undefined : this.runs.get(call.workflow_id);
    if (!run) return;
    const service_s = Math.max(0, latency_s - queue_s);
    run.attained_service_s += service_s;
    const i = run.dag.index.get(call.step_id ?? "");
    if (i !== undefined) run.service_s[i] = service_s;
  }

  /** Stops a workflow: nothing more is released. Returns it, or undefined if it was not running. */
  fail(workflowId: string): WorkflowRun | undefined {
    const run = this.runs.get(workflowId);
    if (!run) return undefined;
    run.failed = true;
    this.runs.delete(workflowId);
    return run;
  }

  /** Remaining work on the workflow's critical path at `now_s`: finished steps cost nothing, running
   *  ones their estimate less the time they have run, waiting ones their estimate — from the
   *  agent's online profile once it has one, else the zero-queueing estimate. */
  remainingCriticalPath_s(workflowId: string, now_s: number): number {
    const run = this.runs.get(workflowId);
    if (!run) return 0;
    this.tails(run, now_s);
    return run.tail_max_s;
  }

  /** Longest remaining path that starts at `stepId` (its own remaining time included). */
  remainingPathThrough_s(workflowId: string, stepId: string, now_s: number): number {
    const run = this.runs.get(workflowId);
    const i = run?.dag.index.get(stepId);
    if (!run || i === undefined) return 0;
    return this.tails(run, now_s)[i];
  }

  /** Longest remaining path that starts after `stepId` (over its successors; its own time excluded). */
  remainingPathAfter_s(workflowId: string, stepId: string, now_s: number): number {
    const run = this.runs.get(workflowId);
    const i = run?.dag.index.get(stepId);
    if (!run || i === undefined) return 0;
    this.tails(run, now_s);
    return run.after_s![i];
  }

  attainedService_s(workflowId: string): number {
    return this.runs.get(workflowId)?.attained_service_s ?? 0;
  }

  /** Service attained along the heaviest chain of finished steps that leads to `stepId` (Autellix
   *  ATLAS's program-level priority); 0 for a first step or an unknown workflow. */
  attainedServiceOnPath_s(workflowId: string, stepId: string): number {
    const run = this.runs.get(workflowId);
    const i = run?.dag.index.get(stepId);
    return run && i !== undefined ? run.path_service_s[i] : 0;
  }

  /** Expected latency of a workflow call: its agent's mean, else the step's static estimate. */
  expectedCall_s(call: LlmCall): number {
    const run = call.workflow_id === undefined ? undefined : this.runs.get(call.workflow_id);
    const i = run?.dag.index.get(call.step_id ?? "");
    if (run && i !== undefined) return this.expected_s(run, i);
    const profile = call.agent === undefined ? undefined : this.profiles.get(call.agent);
    return profile && profile.calls > 0 ? profile.mean_latency_s : 0;
  }

  /** Predicted output length: the agent's mean so far, else `fallback_tokens` (a router does not
   *  know a call's output length in advance). */
  predictedOutputTokens(call: LlmCall, fallback_tokens: number): number {
    const profile = call.agent === undefined ? undefined : this.profiles.get(call.agent);
    return profile && profile.calls > 0 ? profile.mean_output_tokens : fallback_tokens;
  }

  /** tail[i]: the longest remaining path from step i to the end, cached per (time, versions). */
  private tails(run: WorkflowRun, now_s: number): Float64Array {
    const key = `${now_s}|${this.profilesVersion}|${run.version}`;
    if (run.tail_s && run.tail_key === key) return run.tail_s;
    const dag = run.dag;
    const tail = run.tail_s ?? new Float64Array(dag.steps.length);
    const afterOf = run.after_s ?? new Float64Array(dag.steps.length);
    let longest = 0;
    for (let k = dag.topological.length - 1; k >= 0; k--) {
      const i = dag.topological[k];
      let after = 0;
      for (const s of dag.successors[i]) if (tail[s] > after) after = tail[s];
      const own = run.status[i] === DONE ? 0 : run.status[i] === RUNNING ? Math.max(0, this.expected_s(run, i) - (now_s - run.released_s[i])) : this.expected_s(run, i);
      tail[i] = own + after;
      afterOf[i] = after;
      if (tail[i] > longest) longest = tail[i];
    }
    run.tail_s = tail;
    run.after_s = afterOf;
    run.tail_max_s = longest;
    run.tail_key = key;
    return tail;
  }

  /** Expected duration of step `i`: an agent's mean observed latency, else the static estimate. */
  expected_s(run: WorkflowRun, i: number): number {
    const step = run.dag.steps[i];
    if (step.kind === "llm") {
      const profile = this.profiles.get(agentKey(run.spec, step.agent));
      if (profile && profile.calls > 0) return profile.mean_latency_s;
    }
    return run.estimate_s[i];
  }

  private release(run: WorkflowRun, i: number, at_s: number): ReleasedStep {
    run.status[i] = RUNNING;
    run.version++;
    run.released_s[i] = at_s;
    let path_s = 0;
    for (const p of run.dag.predecessors[i]) path_s = Math.max(path_s, run.path_service_s[p] + run.service_s[p]);
    run.path_service_s[i] = path_s;
    const step = run.dag.steps[i];
    if (step.kind === "tool") return { kind: "tool", workflow_id: run.id, step_id: step.id, duration_s: step.duration_s };
    return { kind: "llm", call: this.callOf(run, i, at_s) };
  }

  /** LLM steps that become ready as soon as `stepId` finishes (every other predecessor is done):
   *  known calls a host may prefetch KV for while `stepId` (a tool) runs. */
  nextCallsAfter(workflowId: string, stepId: string, at_s: number): LlmCall[] {
    const run = this.runs.get(workflowId);
    const i = run?.dag.index.get(stepId);
    if (!run || i === undefined) return [];
    const next: LlmCall[] = [];
    for (const s of run.dag.successors[i]) {
      if (run.status[s] !== WAITING || run.pending[s] !== 1 || run.dag.steps[s].kind !== "llm") continue;
      next.push(this.callOf(run, s, at_s));
    }
    return next;
  }

  /** The LLM call for step `i` of a run, released at `at_s`. */
  private callOf(run: WorkflowRun, i: number, at_s: number): LlmCall {
    const step = run.dag.steps[i] as LlmStepSpec;
    const spec = run.spec;
    const segments = run.prompts[i]!;
    const call: LlmCall = {
      id: `${spec.id}/${step.id}`,
      arrival_s: at_s,
      prompt_tokens: promptTokens(segments),
      output_tokens: step.output_tokens,
      segments,
      output_key: stepOutputKey(spec, step),
      model: spec.agents[step.agent].model,
      tenant: spec.tenant,
      priority: spec.priority_class === undefined ? undefined : CLASS_PRIORITY[spec.priority_class],
      workflow_id: spec.id,
      step_id: step.id,
      agent: agentKey(spec, step.agent),
      priority_class: spec.priority_class,
    };
    return call;
  }
}

/** Profiles are per agent of an app: "planner" in two apps has two system prompts and behaviours. */
export function agentKey(spec: WorkflowSpec, agent: string): string {
  return spec.app === undefined ? agent : `${spec.app}/${agent}`;
}
