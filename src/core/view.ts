import type { CallUsage, InstanceSnapshot, InstanceSpec, LlmCall } from "./types.ts";

/** What the router knows about one instance: its static spec, its own bookkeeping of what it sent
 *  there, and the last scraped snapshot (which lags reality, as a live /metrics scrape does). */
/** An instance's lifecycle as the router knows it (it issued the actions): only `awake` instances
 *  take calls. `asleep`: weights and KV offloaded (vLLM sleep mode); `waking`: reloading;
 *  `starting`: a scaled-up instance booting; `stopped`: not running (scaled down or spare). */
export type InstanceState = "awake" | "asleep" | "waking" | "starting" | "stopped";

export interface InstanceView {
  readonly spec: InstanceSpec;
  state: InstanceState;
  /** When `state` last changed. */
  state_since_s: number;
  /** Last time a call was dispatched here or finished here (for idle detection). */
  last_activity_s: number;
  /** Position in the cluster config, for stable tie-breaks. */
  readonly index: number;
  /** Calls dispatched here that have not finished, failed or been rejected yet. */
  outstanding: number;
  /** Prompt + output tokens of those calls. */
  outstanding_tokens: number;
  /** Last observed state; undefined until the first observation. */
  observed: InstanceSnapshot | undefined;
}

/** A call waiting at the controller. `seq` is its arrival order there, the final tie-break. */
export interface QueuedCall {
  readonly call: LlmCall;
  readonly seq: number;
  readonly enqueued_s: number;
}

/** What the orchestrator knows about running workflows — the signals of workflow-aware policies.
 *  Predictions come from the online agent profiles, falling back to zero-queueing estimates. */
export interface WorkflowSignals {
  /** Remaining work on the workflow's critical path (0 for an unknown or finished workflow). */
  remainingCriticalPath_s(workflowId: string): number;
  /** Longest remaining path that starts at this step (its own expected time included). */
  remainingPathThrough_s(workflowId: string, stepId: string): number;
  /** Longest remaining path that starts after this step (over its successors; its own time excluded). */
  remainingPathAfter_s(workflowId: string, stepId: string): number;
  /** Service the workflow has received so far: summed service time (dispatch to finish) of its
   *  finished LLM calls. */
  attainedService_s(workflowId: string): number;
  /** Service attained along the heaviest chain of finished steps leading to this step: the maximum
   *  over its predecessors of (their own path service + their service time); 0 for a first step. */
  attainedServiceOnPath_s(workflowId: string, stepId: string): number;
  /** Expected latency of a call (its agent's mean, else the zero-queueing estimate). */
  expectedCall_s(call: LlmCall): number;
  /** Predicted output length of a call: its agent's mean output so far, else `fallback_tokens`. */
  predictedOutputTokens(call: LlmCall, fallback_tokens: number): number;
}

/** Everything a policy may read: the observable cluster state, workflow signals and a seeded
 *  random stream. */
export interface ControllerView {
  readonly now_s: number;
  readonly instances: readonly InstanceView[];
  readonly workflows: WorkflowSignals;
  /** Uniform [0,1) from the host's seeded "policy" stream; policies needing randomness use this. */
  readonly random: () => number;
}

/** Optional hooks through which a policy keeps its own bookkeeping (token counters, a prefix
 *  index, per-instance predictions) from the lifecycle events the controller sees. */
export interface CallObserver {
  callDispatched?(call: LlmCall, instance: InstanceView, view: ControllerView): void;
  /** A call closed (finished, failed or rejected); `instance` is where it was last sent, if anywhere;
   *  `usage` is set when it finished. */
  callClosed?(call: LlmCall, instance: InstanceView | undefined, usage: CallUsage | undefined, view: ControllerView): void;
}
