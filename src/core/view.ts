import type { InstanceSnapshot, InstanceSpec, LlmCall } from "./types.ts";

/** What the router knows about one instance: its static spec, its own bookkeeping of what it sent
 *  there, and the last scraped snapshot (which lags reality, as a live /metrics scrape does). */
export interface InstanceView {
  readonly spec: InstanceSpec;
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

/** Everything a policy may read: the observable cluster state and a seeded random stream. */
export interface ControllerView {
  readonly now_s: number;
  readonly instances: readonly InstanceView[];
  /** Uniform [0,1) from the host's seeded "policy" stream; policies needing randomness use this. */
  readonly random: () => number;
}
