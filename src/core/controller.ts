import type { Recorder } from "../metrics/recorder.ts";
import type { DispatchPolicy } from "../policies/dispatch/policy.ts";
import type { SchedulingPolicy } from "../policies/scheduling/policy.ts";
import { callIdentity, candidateRecords, rankRecord, type DecisionRecord, type DispatchExplanation } from "./decisions.ts";
import { invariant } from "./errors.ts";
import type { ControllerAction, ControllerEvent, OpenWorkflowInfo } from "./events.ts";
import { WaitingQueues } from "./waiting-queues.ts";
import { ModelTrafficStats, type ModelTraffic } from "./model-traffic.ts";
import type { CallUsage, InstanceSnapshot, InstanceSpec, LlmCall } from "./types.ts";
import type { ControllerView, InstanceView, QueuedCall } from "./view.ts";
import { agentSummaries } from "../workflow/agent-profiles.ts";
import { Orchestrator, type CallEstimator, type ReleasedStep, type WorkflowRun } from "../workflow/orchestrator.ts";
import type { WorkflowSpec } from "../workflow/types.ts";
import type { AgentSummary } from "../metrics/report-schema.ts";
import type { WorkflowArrival } from "../metrics/workflow-recorder.ts";
import type { LifecyclePolicy } from "../policies/lifecycle/policy.ts";
import type { InstanceState } from "./view.ts";

export interface ControllerOptions {
  instances: readonly InstanceSpec[];
  scheduling: SchedulingPolicy;
  dispatch: DispatchPolicy;
  recorder: Recorder;
  /** Seeded uniform [0,1) source for policies that draw. */
  random: () => number;
  /** Times a call that failed before streaming may be dispatched again. */
  max_retries?: number;
  /** Zero-queueing call times, for workflow critical paths (omitted: critical paths count tools only). */
  estimator?: CallEstimator;
  /** Maps a call's model name to the name instances use (aliases such as `meta-llama/Meta-Llama-3-8B`
   *  → `llama-3-8b`); default: names must match exactly. */
  resolveModel?: (model: string) => string;
  /** Sleep/wake and scaling policies, applied after every event (none: instances stay as they are). */
  lifecycle?: LifecyclePolicy[];
  /** Hears every event the controller receives, as data, before it is handled (the event log that
   *  `tandem replay` drives a fresh controller with). */
  onEvent?: (event: ControllerEvent) => void;
  /** Hears every scheduling and dispatch decision as a record (`--decisions`, docs/decisions.md).
   *  Absent, no record is built: tracing costs nothing when off. */
  onDecision?: (record: DecisionRecord) => void;
  /** Hears each workflow close (completed or failed), after the recorder: closed-loop clients
   *  start a user's next workflow from it. */
  onWorkflowClosed?: (at_s: number, workflowId: string) => void;
}

const NO_ACTIONS: readonly ControllerAction[] = Object.freeze([]);

/** What the controller knows at one moment (`tandem replay --until`): its queues, the calls at
 *  instances, and each instance as the router sees it. */
export interface ControllerState {
  now_s: number;
  /** Calls waiting here, per model, in the order they would be dispatched. */
  waiting: { model: string; calls: { id: string; workflow_id?: string; agent?: string; enqueued_s: number; rank: number }[] }[];
  /** Calls dispatched and not yet closed. */
  in_flight: { id: string; instance: string; dispatched_s: number; attempts: number; workflow_id?: string }[];
  instances: {
    id: string;
    model: string;
    state: InstanceState;
    outstanding: number;
    outstanding_tokens: number;
    /** The latest observation and how old it is. */
    observed: (InstanceSnapshot & { age_s: number }) | null;
  }[];
  workflows_running: number;
}

interface InFlight {
  readonly queued: QueuedCall;
  instance: InstanceView | undefined;
  attempts: number;
  dispatched_s: number;
}

/** The shared scheduler/dispatcher: a pure state machine, events in, actions out. It owns no timer,
 *  socket or clock; both the simulator and the live host drive it. Methods named after events are
 *  the hot path (no event objects allocated); `handle` accepts the same events as data. */
export class Controller {
  private now = 0;
  private seq = 0;
  private readonly queue = new WaitingQueues();
  private readonly calls = new Map<string, InFlight>();
  private readonly views: InstanceView[];
  private readonly viewById = new Map<string, InstanceView>();
  private readonly modelGroups = new Map<string, { views: InstanceView[]; shortest_max_model_len: number }>();
  private actions: ControllerAction[] = [];
  private readonly view: ControllerView;
  private readonly maxRetries: number;
  private pendingWake_s = NaN;
  private pendingLifecycle_s = NaN;
  /** Where each running workflow's latest finished call ran (its KV prefix lives there). */
  private readonly lastInstanceOf = new Map<string, string>();
  /** Instances not awake: while 0, candidate lists need no state filtering. */
  private notAwake = 0;
  /** The workflow layer: releases DAG steps as calls and tools, keeps agent profiles. */
  private readonly orchestrator: Orchestrator;
  /** Per-model request rate, latency, success and idle time (kvcached's router statistics). */
  private readonly traffic = new ModelTrafficStats();
  /** Open-ended workflows (workflowOpened) not yet ended: what the recorder was told of each. */
  private readonly openWorkflows = new Map<string, WorkflowArrival>();
  private readonly log: ((event: ControllerEvent) => void) | undefined;
  private readonly trace: ((record: DecisionRecord) => void) | undefined;
  /** Per model queue: the hold last recorded (call id and reason), so a hold is recorded once
   *  when it begins, not on every event that retries it; and when each held call's hold began. */
  private readonly lastHold = new Map<string, string>();
  private readonly heldSince = new Map<string, number>();

  constructor(private readonly options: ControllerOptions) {
    this.views = options.instances.map((spec, index) => ({
      spec,
      index,
      state: spec.initial_state ?? "awake",
      state_since_s: 0,
      last_activity_s: 0,
      outstanding: 0,
      outstanding_tokens: 0,
      observed: undefined,
    }));
    for (const view of this.views) {
      this.viewById.set(view.spec.id, view);
      if (view.state !== "awake") this.notAwake++;
    }
    this.maxRetries = options.max_retries ?? 3;
    this.log = options.onEvent;
    this.trace = options.onDecision;
    this.orchestrator = new Orchestrator(options.estimator);
    const controller = this;
    const orchestrator = this.orchestrator;
    this.view = {
      get now_s() {
        return controller.now;
      },
      instances: this.views,
      random: options.random,
      workflows: {
        remainingCriticalPath_s: (id) => orchestrator.remainingCriticalPath_s(id, controller.now),
        remainingPathThrough_s: (id, step) => orchestrator.remainingPathThrough_s(id, step, controller.now),
        remainingPathAfter_s: (id, step) => orchestrator.remainingPathAfter_s(id, step, controller.now),
        attainedService_s: (id) => orchestrator.attainedService_s(id),
        attainedServiceOnPath_s: (id, step) => orchestrator.attainedServiceOnPath_s(id, step),
        expectedCall_s: (call) => orchestrator.expectedCall_s(call),
        predictedOutputTokens: (call, fallback) => orchestrator.predictedOutputTokens(call, fallback),
      },
    };
  }

  get now_s(): number {
    return this.now;
  }

  /** What the router knows of each instance (state, outstanding calls, last observation). */
  get instances(): readonly InstanceView[] {
    return this.views;
  }

  /** Calls accepted and not yet closed (waiting here or in flight at an instance). */
  get openCalls(): number {
    return this.calls.size;
  }

  hasOpenCall(callId: string): boolean {
    return this.calls.has(callId);
  }

  hasRunningWorkflow(workflowId: string): boolean {
    return this.orchestrator.run(workflowId) !== undefined;
  }

  /** Per-model traffic statistics at `now_s` (the report's `models` section). */
  trafficSnapshot(now_s: number): ModelTraffic[] {
    return this.traffic.snapshot(now_s);
  }

  get waitingCalls(): number {
    return this.queue.size;
  }

  /** What policies see: the controller's view of instances and workflows (read-only queries). */
  get policyView(): ControllerView {
    return this.view;
  }

  /** A copy of what the controller knows now (for inspection; not on any hot path). */
  state(): ControllerState {
    const waiting: ControllerState["waiting"] = [];
    for (const key of this.queue.keys()) {
      const queue = this.queue.queue(key);
      if (!queue || queue.size === 0) continue;
      waiting.push({
        model: key === "" ? "(any)" : key,
        calls: queue.ordered().map(({ item, rank }) => ({
          id: item.call.id,
          ...(item.call.workflow_id !== undefined ? { workflow_id: item.call.workflow_id } : {}),
          ...(item.call.agent !== undefined ? { agent: item.call.agent } : {}),
          enqueued_s: item.enqueued_s,
          rank,
        })),
      });
    }
    const in_flight: ControllerState["in_flight"] = [];
    for (const [id, f] of this.calls) {
      if (f.instance === undefined) continue;
      in_flight.push({
        id,
        instance: f.instance.spec.id,
        dispatched_s: f.dispatched_s,
        attempts: f.attempts,
        ...(f.queued.call.workflow_id !== undefined ? { workflow_id: f.queued.call.workflow_id } : {}),
      });
    }
    return {
      now_s: this.now,
      waiting,
      in_flight,
      instances: this.views.map((v) => ({
        id: v.spec.id,
        model: v.spec.model,
        state: v.state,
        outstanding: v.outstanding,
        outstanding_tokens: v.outstanding_tokens,
        observed: v.observed ? { ...v.observed, age_s: this.now - v.observed.at_s } : null,
      })),
      workflows_running: this.orchestrator.running,
    };
  }

  /** Workflows arrived and not yet completed or failed. */
  get runningWorkflows(): number {
    return this.orchestrator.running;
  }

  handle(event: ControllerEvent): void {
    switch (event.kind) {
      case "workflowArrived":
        return this.workflowArrived(event.at_s, event.workflow);
      case "toolFinished":
        return this.toolFinished(event.at_s, event.workflowId, event.stepId, event.started_s);
      case "callArrived":
        return this.callArrived(event.at_s, event.call);
      case "callFirstToken":
        return this.callFirstToken(event.at_s, event.callId);
      case "callTokens":
        return this.callTokens(event.at_s, event.callId, event.count);
      case "tokenGaps":
        return this.tokenGaps(event.at_s, event.gap_s, event.count);
      case "callFinished":
        return this.callFinished(event.at_s, event.callId, event.usage);
      case "callFailed":
        return this.callFailed(event.at_s, event.callId, event.reason, event.retryable);
      case "callRejected":
        return this.callRejected(event.at_s, event.callId, event.reason);
      case "callTurnedAway":
        return this.callTurnedAway(event.at_s, event.call, event.reason);
      case "callWithdrawn":
        return this.callWithdrawn(event.at_s, event.callId, event.reason);
      case "workflowOpened":
        return this.workflowOpened(event.at_s, event.workflow);
      case "workflowEnded":
        return this.workflowEnded(event.at_s, event.workflowId, event.llm_steps, event.failure);
      case "instanceObserved":
        return this.instanceObserved(event.at_s, event.snapshot);
      case "tick":
        return this.tick(event.at_s);
      case "instanceStateChanged":
        return this.instanceStateChanged(event.at_s, event.instanceId, event.state);
    }
  }

  /** Actions produced since the last drain, in the order they were decided. */
  drain(): readonly ControllerAction[] {
    const out = this.actions;
    if (out.length === 0) return NO_ACTIONS; // the common case in the simulator's step loop: no allocation
    this.actions = [];
    return out;
  }

  callArrived(at_s: number, call: LlmCall): void {
    this.log?.({ kind: "callArrived", at_s, call });
    this.advance(at_s);
    this.accept(at_s, call);
    this.dispatchReady();
  }

  /** A workflow arrives: its first ready steps are released at once. */
  workflowArrived(at_s: number, workflow: WorkflowSpec): void {
    this.log?.({ kind: "workflowArrived", at_s, workflow });
    this.advance(at_s);
    const { run, released } = this.orchestrator.arrive(at_s, workflow);
    this.options.recorder.workflowArrived(at_s, {
      id: workflow.id,
      app: workflow.app,
      tenant: workflow.tenant,
      priority_class: workflow.priority_class,
      slo_s: workflow.slo_s,
      critical_path_s: run.critical_path_s,
      llm_steps: run.llm_steps,
      tool_steps: run.dag.steps.length - run.llm_steps,
    });
    this.startSteps(at_s, run, released);
    this.dispatchReady();
  }

  toolFinished(at_s: number, workflowId: string, stepId: string, started_s: number): void {
    this.log?.({ kind: "toolFinished", at_s, workflowId, stepId, started_s });
    this.advance(at_s);
    this.options.recorder.toolStep(workflowId, stepId, started_s, at_s); // timings for the report's Gantt
    this.stepFinished(at_s, workflowId, stepId);
    this.dispatchReady();
  }

  /** Per-agent profiles as the report's `agents` section. */
  agentSummaries(): AgentSummary[] {
    return agentSummaries(this.orchestrator.profiles.all());
  }

  private accept(at_s: number, call: LlmCall): void {
    invariant(!this.calls.has(call.id), `call ${call.id} arrived twice`);
    const queued: QueuedCall = { call, seq: this.seq++, enqueued_s: at_s };
    this.options.recorder.callArrived(at_s, call);
    this.traffic.arrived(this.trafficKey(call), at_s);
    const reason = this.unservableReason(call);
    if (reason) {
      this.options.recorder.callRejected(at_s, call.id, reason);
      this.traffic.closed(this.trafficKey(call), "rejected", 0);
      this.actions.push({ kind: "reject", callId: call.id, reason });
      this.failWorkflowOf(at_s, call, reason);
      return;
    }
    this.calls.set(call.id, { queued, instance: undefined, attempts: 0, dispatched_s: NaN });
    this.enqueue(queued);
  }

  private startSteps(at_s: number, run: WorkflowRun, released: ReleasedStep[]): void {
    for (const step of released) {
      if (run.failed) return; // an earlier step of this batch was rejected
      if (step.kind === "llm") this.accept(at_s, step.call);
      else {
        this.actions.push({ kind: "startTool", workflowId: step.workflow_id, stepId: step.step_id, duration_s: step.duration_s });
        this.advisePrefetch(run, step.step_id, at_s + step.duration_s);
      }
    }
  }

  /** While a tool runs, the calls waiting only on it are known: advise the host to bring their
   *  cached prefix back to the instance that served the workflow's latest call (where it lives). */
  private advisePrefetch(run: WorkflowRun, toolStepId: string, ready_by_s: number): void {
    const instanceId = this.lastInstanceOf.get(run.id);
    if (instanceId === undefined) return;
    for (const call of this.orchestrator.nextCallsAfter(run.id, toolStepId, ready_by_s)) {
      this.actions.push({ kind: "prefetch", call, instanceId, ready_by_s });
    }
  }

  private stepFinished(at_s: number, workflowId: string, stepId: string): void {
    const { released, completed } = this.orchestrator.stepFinished(at_s, workflowId, stepId);
    const run = completed ?? this.orchestrator.run(workflowId);
    if (run) this.startSteps(at_s, run, released);
    if (completed) {
      this.lastInstanceOf.delete(workflowId);
      this.options.recorder.workflowClosed(at_s, workflowId, "completed", null);
      this.options.onWorkflowClosed?.(at_s, workflowId);
    }
  }

  /** A step failed, so its workflow fails: nothing more is released, and its calls still waiting
   *  here are rejected; calls already at an instance run to their end. */
  private failWorkflowOf(at_s: number, call: LlmCall, reason: string): void {
    if (call.workflow_id === undefined) return;
    const run = this.orchestrator.fail(call.workflow_id);
    if (!run) return;
    this.lastInstanceOf.delete(run.id);
    this.options.recorder.workflowClosed(at_s, run.id, "failed", `step ${call.step_id}: ${reason}`);
    this.options.onWorkflowClosed?.(at_s, run.id);
    for (const queued of this.queue.removeWhere((q) => q.call.workflow_id === run.id)) {
      this.calls.delete(queued.call.id);
      this.heldSince.delete(queued.call.id);
      this.options.recorder.callRejected(at_s, queued.call.id, "workflow_failed");
      this.traffic.closed(this.trafficKey(queued.call), "rejected", 0);
      // Closed without ever being dispatched: policies drop their bookkeeping of it.
      this.options.scheduling.callClosed?.(queued.call, undefined, undefined, this.view);
      this.options.dispatch.callClosed?.(queued.call, undefined, undefined, this.view);
      this.actions.push({ kind: "reject", callId: queued.call.id, reason: "workflow_failed" });
    }
  }

  callFirstToken(at_s: number, callId: string): void {
    this.log?.({ kind: "callFirstToken", at_s, callId });
    this.advance(at_s);
    this.options.recorder.callFirstToken(at_s, callId);
  }

  callTokens(at_s: number, callId: string, count: number): void {
    this.log?.({ kind: "callTokens", at_s, callId, count });
    this.advance(at_s);
    this.options.recorder.callTokens(at_s, callId, count);
  }

  /** `count` output tokens streamed at `at_s`, each `gap_s` after its call's previous token: the
   *  simulator's per-step aggregate of callTokens (same ITL samples, one event per step). */
  tokenGaps(at_s: number, gap_s: number, count: number): void {
    this.log?.({ kind: "tokenGaps", at_s, gap_s, count });
    this.advance(at_s);
    this.options.recorder.interTokenGaps(gap_s, count);
  }

  callFinished(at_s: number, callId: string, usage: CallUsage): void {
    this.log?.({ kind: "callFinished", at_s, callId, usage });
    this.advance(at_s);
    const servedBy = this.calls.get(callId)?.instance?.spec.id;
    const inFlight = this.release(callId, usage);
    this.options.recorder.callFinished(at_s, callId, usage);
    const call = inFlight.queued.call;
    if (call.workflow_id !== undefined) {
      if (servedBy !== undefined) this.lastInstanceOf.set(call.workflow_id, servedBy);
      this.orchestrator.recordCall(call, at_s - inFlight.queued.enqueued_s, inFlight.dispatched_s - inFlight.queued.enqueued_s);
      this.stepFinished(at_s, call.workflow_id, call.step_id!);
    }
    this.dispatchReady();
  }

  callFailed(at_s: number, callId: string, reason: string, retryable: boolean): void {
    this.log?.({ kind: "callFailed", at_s, callId, reason, retryable });
    this.advance(at_s);
    const inFlight = this.calls.get(callId);
    invariant(inFlight, `failure reported for unknown call ${callId}`);
    if (retryable && inFlight.attempts <= this.maxRetries) {
      // Nothing streamed yet, so the call can go elsewhere; it keeps its place in arrival order.
      this.detachFromInstance(inFlight);
      this.enqueue(inFlight.queued);
    } else {
      this.release(callId, undefined, "failed");
      this.options.recorder.callFailed(at_s, callId, reason);
      this.failWorkflowOf(at_s, inFlight.queued.call, reason);
    }
    this.dispatchReady();
  }

  callRejected(at_s: number, callId: string, reason: string): void {
    this.log?.({ kind: "callRejected", at_s, callId, reason });
    this.advance(at_s);
    const inFlight = this.release(callId, undefined, "rejected");
    this.options.recorder.callRejected(at_s, callId, reason);
    this.failWorkflowOf(at_s, inFlight.queued.call, reason);
    this.dispatchReady();
  }

  /** The host turned the call away before it reached the queue: arrived and rejected at once. */
  callTurnedAway(at_s: number, call: LlmCall, reason: string): void {
    this.log?.({ kind: "callTurnedAway", at_s, call, reason });
    this.advance(at_s);
    const key = this.trafficKey(call);
    this.options.recorder.callArrived(at_s, call);
    this.traffic.arrived(key, at_s);
    this.options.recorder.callRejected(at_s, call.id, reason);
    this.traffic.closed(key, "rejected", 0);
  }

  /** A call still waiting here is withdrawn by the host: it ends rejected. */
  callWithdrawn(at_s: number, callId: string, reason: string): void {
    this.log?.({ kind: "callWithdrawn", at_s, callId, reason });
    this.advance(at_s);
    const inFlight = this.calls.get(callId);
    invariant(inFlight && inFlight.instance === undefined, `withdrawal of call ${callId}, which is not waiting at the controller`);
    this.queue.removeWhere((q) => q.call.id === callId);
    this.release(callId, undefined, "rejected");
    this.options.recorder.callRejected(at_s, callId, reason);
    this.failWorkflowOf(at_s, inFlight.queued.call, reason);
    this.dispatchReady();
  }

  /** An open-ended workflow begins (its calls arrive one by one as callArrived). */
  workflowOpened(at_s: number, workflow: OpenWorkflowInfo): void {
    this.log?.({ kind: "workflowOpened", at_s, workflow });
    this.advance(at_s);
    invariant(!this.openWorkflows.has(workflow.id), `open workflow ${workflow.id} opened twice`);
    const info: WorkflowArrival = {
      id: workflow.id,
      app: workflow.app,
      tenant: workflow.tenant,
      priority_class: workflow.priority_class,
      slo_s: workflow.slo_s,
      critical_path_s: 0,
      llm_steps: 0,
      tool_steps: 0,
    };
    this.openWorkflows.set(workflow.id, info);
    this.options.recorder.workflowArrived(at_s, info);
  }

  /** An open-ended workflow ends at `at_s` (its last call's close). */
  workflowEnded(at_s: number, workflowId: string, llm_steps: number, failure: string | null): void {
    this.log?.({ kind: "workflowEnded", at_s, workflowId, llm_steps, failure });
    const info = this.openWorkflows.get(workflowId);
    invariant(info, `end of unknown open workflow ${workflowId}`);
    this.openWorkflows.delete(workflowId);
    info.llm_steps = llm_steps;
    this.options.recorder.workflowClosed(at_s, workflowId, failure === null ? "completed" : "failed", failure);
    this.options.onWorkflowClosed?.(at_s, workflowId);
  }

  instanceObserved(at_s: number, snapshot: InstanceSnapshot): void {
    this.log?.({ kind: "instanceObserved", at_s, snapshot });
    this.advance(at_s);
    const view = this.viewById.get(snapshot.instance);
    invariant(view, `observation of unknown instance ${snapshot.instance}`);
    view.observed = snapshot;
    this.options.dispatch.instanceObserved?.(snapshot, view, this.view);
    this.options.recorder.instanceObserved(snapshot);
    if (this.queue.size > 0 || this.options.lifecycle) this.dispatchReady();
  }

  tick(at_s: number): void {
    this.log?.({ kind: "tick", at_s });
    this.advance(at_s);
    if (at_s >= this.pendingWake_s) this.pendingWake_s = NaN;
    if (this.queue.size > 0 || this.options.lifecycle) this.dispatchReady();
  }

  instanceStateChanged(at_s: number, instanceId: string, state: InstanceState): void {
    this.log?.({ kind: "instanceStateChanged", at_s, instanceId, state });
    this.advance(at_s);
    const view = this.viewById.get(instanceId);
    invariant(view, `state change of unknown instance ${instanceId}`);
    // A host that sleeps or wakes an instance itself (the gateway's /sleep, /wake_up) is counted
    // in the model's traffic statistics as the lifecycle policies' decisions are.
    if (view.state === "awake" && state === "asleep") this.traffic.transition(view.spec.model, "sleep");
    if (view.state === "asleep" && state === "waking") this.traffic.transition(view.spec.model, "wake");
    this.setState(view, state);
    this.dispatchReady();
  }

  private setState(view: InstanceView, state: InstanceState): void {
    if (view.state === state) return;
    if (view.state !== "awake") this.notAwake--;
    if (state !== "awake") this.notAwake++;
    view.state = state;
    view.state_since_s = this.now;
    view.last_activity_s = this.now;
  }

  /** Lifecycle policies decide; decisions take effect in the view at once and go to the host. */
  private runLifecycle(): void {
    const context = { waitingByModel: this.queue.sizes() };
    let next = Infinity;
    for (const policy of this.options.lifecycle!) {
      for (const decision of policy.decide(this.view, context)) {
        const view = this.viewById.get(decision.instanceId);
        invariant(view, `lifecycle decision about unknown instance ${decision.instanceId}`);
        const state: InstanceState = decision.kind === "sleep" ? "asleep" : decision.kind === "wake" ? "waking" : decision.kind === "startInstance" ? "starting" : "stopped";
        this.setState(view, state);
        if (decision.kind === "sleep" || decision.kind === "wake") this.traffic.transition(view.spec.model, decision.kind);
        this.actions.push({ kind: decision.kind, instanceId: decision.instanceId });
      }
      const check = policy.nextCheck_s?.(this.view);
      if (check !== undefined) next = Math.min(next, check);
    }
    if (next < Infinity && next > this.now && next !== this.pendingLifecycle_s) {
      this.pendingLifecycle_s = next;
      this.actions.push({ kind: "wakeMeAt", at_s: next });
    }
  }

  private advance(at_s: number): void {
    if (!(at_s >= this.now)) throw new Error(`invariant violated: time went backwards: event at ${at_s} after ${this.now}`);
    this.now = at_s;
  }

  private enqueue(queued: QueuedCall): void {
    const key = this.modelOf(queued.call) ?? "";
    const rank = this.options.scheduling.rank(queued, this.view);
    this.queue.push(key, queued, rank);
    if (this.trace) {
      const scheduling = this.options.scheduling;
      this.trace({
        kind: "enqueue",
        ...callIdentity(this.now, queued.call),
        policy: scheduling.name,
        rank: rankRecord(rank, queued, this.view, scheduling.explain?.(queued, this.view)),
        queue_length: this.queue.queue(key)?.size ?? 0,
      });
    }
  }

  /** Instances that serve the call's model and can hold it. The per-model list is cached and
   *  returned as is when every instance in it is long enough (the common case: no allocation). */
  private candidatesFor(call: LlmCall): readonly InstanceView[] {
    const key = call.model ?? "";
    let group = this.modelGroups.get(key);
    if (!group) {
      const model = this.modelOf(call);
      const views = this.views.filter((v) => model === undefined || v.spec.model === model);
      group = { views, shortest_max_model_len: Math.min(...views.map((v) => v.spec.max_model_len)) };
      this.modelGroups.set(key, group);
    }
    const total = call.prompt_tokens + call.output_tokens;
    if (total <= group.shortest_max_model_len && this.notAwake === 0) return group.views;
    return group.views.filter((v) => v.state === "awake" && total <= v.spec.max_model_len);
  }

  /** The model a call's traffic counts under: its own, else the instance it went to, else "(any)". */
  private trafficKey(call: LlmCall, instance?: InstanceView): string {
    return this.modelOf(call) ?? instance?.spec.model ?? "(any)";
  }

  private modelOf(call: LlmCall): string | undefined {
    if (call.model === undefined) return undefined;
    return this.options.resolveModel ? this.options.resolveModel(call.model) : call.model;
  }

  /** Why no instance could ever serve this call (a short stable code), or undefined if some can.
   *  Checked at the router, as vLLM's API server checks prompt + max_tokens against max_model_len. */
  private unservableReason(call: LlmCall): string | undefined {
    const model = this.modelOf(call);
    const sameModel = this.views.filter((v) => model === undefined || v.spec.model === model);
    if (sameModel.length === 0) return "no_instance_for_model";
    const total = call.prompt_tokens + call.output_tokens;
    if (sameModel.every((v) => total > v.spec.max_model_len)) return "exceeds_max_model_len";
    return undefined;
  }

  /** Hands waiting calls to the dispatch policy in scheduling order, per model, until it holds
   *  one (or the model has no instance ready). */
  private dispatchReady(): void {
    this.dispatchWaiting();
    if (this.options.lifecycle) this.runLifecycle();
  }

  private dispatchWaiting(): void {
    if (this.queue.size === 0) return;
    const scheduling = this.options.scheduling;
    if (scheduling.dynamic) this.queue.rerank((queued) => scheduling.rank(queued, this.view));
    for (const key of this.queue.keys()) this.dispatchModel(key);
  }

  private dispatchModel(key: string): void {
    const queue = this.queue.queue(key)!;
    const scheduling = this.options.scheduling;
    for (;;) {
      const head = queue.peek();
      if (!head) return;
      const candidates = this.candidatesFor(head.call);
      if (candidates.length === 0) {
        // every instance of the model is asleep or starting
        if (this.trace) this.traceHold(key, head, candidates, undefined, "no instance of the model is awake", undefined);
        return;
      }
      // Traced: what the policy saw and how it scored it, taken before it decides.
      const explained = this.trace ? this.explainDispatch(head, candidates) : undefined;
      const target = this.options.dispatch.choose(head.call, candidates, this.view);
      if (!target) {
        // Held: order is preserved; retried on the next event, or when the policy asks.
        const retry_s = this.options.dispatch.retryAt_s?.(this.view);
        if (retry_s !== undefined && retry_s > this.now && retry_s !== this.pendingWake_s) {
          this.pendingWake_s = retry_s;
          this.actions.push({ kind: "wakeMeAt", at_s: retry_s });
        }
        if (explained) this.traceHold(key, head, candidates, explained.explanation, explained.explanation?.reason ?? "held by the dispatch policy", retry_s);
        return;
      }
      if (explained) this.traceDispatch(key, head, target, explained);
      this.queue.pop(key);
      const inFlight = this.calls.get(head.call.id)!;
      inFlight.instance = target;
      inFlight.attempts++;
      inFlight.dispatched_s = this.now;
      target.outstanding++;
      target.outstanding_tokens += head.call.prompt_tokens + head.call.output_tokens;
      target.last_activity_s = this.now;
      this.options.recorder.callDispatched(this.now, head.call.id, target.spec.id);
      scheduling.callDispatched?.(head.call, target, this.view);
      this.options.dispatch.callDispatched?.(head.call, target, this.view);
      this.actions.push({
        kind: "dispatch",
        call: head.call,
        instanceId: target.spec.id,
        // vLLM's per-request priority: the policy's own, else its rank (lower runs first); an
        // engine in fcfs mode ignores it.
        enginePriority: scheduling.enginePriority ? scheduling.enginePriority(head, this.view) : scheduling.rank(head, this.view),
      });
    }
  }

  /** Before `choose`: the policy's explanation and the candidates as it sees them. */
  private explainDispatch(head: QueuedCall, candidates: readonly InstanceView[]): { explanation: DispatchExplanation | undefined; records: ReturnType<typeof candidateRecords> } {
    const explanation = this.options.dispatch.explain?.(head.call, candidates, this.view);
    return { explanation, records: candidateRecords(candidates, this.now, explanation) };
  }

  private tracedRank(head: QueuedCall) {
    const scheduling = this.options.scheduling;
    return rankRecord(scheduling.rank(head, this.view), head, this.view, scheduling.explain?.(head, this.view));
  }

  private traceDispatch(
    key: string,
    head: QueuedCall,
    target: InstanceView,
    explained: { explanation: DispatchExplanation | undefined; records: ReturnType<typeof candidateRecords> },
  ): void {
    const since = this.heldSince.get(head.call.id);
    this.heldSince.delete(head.call.id);
    this.lastHold.delete(key);
    this.trace!({
      kind: "dispatch",
      ...callIdentity(this.now, head.call),
      policy: this.options.dispatch.name,
      rank: this.tracedRank(head),
      waited_s: this.now - head.enqueued_s,
      ...(since !== undefined ? { held_s: this.now - since } : {}),
      candidates: explained.records,
      chosen: target.spec.id,
      ...(explained.explanation?.reason !== undefined ? { reason: explained.explanation.reason } : {}),
    });
  }

  private traceHold(key: string, head: QueuedCall, candidates: readonly InstanceView[], explanation: DispatchExplanation | undefined, reason: string, retry_s: number | undefined): void {
    const mark = `${head.call.id}\0${reason}`;
    if (this.lastHold.get(key) === mark) return;
    this.lastHold.set(key, mark);
    if (!this.heldSince.has(head.call.id)) this.heldSince.set(head.call.id, this.now);
    this.trace!({
      kind: "hold",
      ...callIdentity(this.now, head.call),
      policy: this.options.dispatch.name,
      rank: this.tracedRank(head),
      candidates: candidateRecords(candidates, this.now, explanation),
      reason,
      ...(retry_s !== undefined ? { retry_at_s: retry_s } : {}),
    });
  }

  private detachFromInstance(inFlight: InFlight): void {
    const instance = inFlight.instance;
    if (!instance) return;
    instance.outstanding--;
    instance.last_activity_s = this.now;
    instance.outstanding_tokens -= inFlight.queued.call.prompt_tokens + inFlight.queued.call.output_tokens;
    inFlight.instance = undefined;
  }

  private release(callId: string, usage?: CallUsage, status: "finished" | "failed" | "rejected" = "finished"): InFlight {
    const inFlight = this.calls.get(callId);
    invariant(inFlight, `completion reported for unknown call ${callId}`);
    const instance = inFlight.instance;
    this.traffic.closed(this.trafficKey(inFlight.queued.call, instance), status, this.now - inFlight.queued.enqueued_s);
    this.detachFromInstance(inFlight);
    this.calls.delete(callId);
    this.heldSince.delete(callId);
    const call = inFlight.queued.call;
    this.options.scheduling.callClosed?.(call, instance, usage, this.view);
    this.options.dispatch.callClosed?.(call, instance, usage, this.view);
    return inFlight;
  }
}
