import type { LlmCall } from "../src/core/types.ts";
import type { SegmentTokenIdentity } from "../src/core/prefix-identity.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import type { ColocatedPool } from "./colocated-pool.ts";
import type { Engine } from "./engine/engine.ts";

/** What the simulator's event queue holds, one kind per reason to wake up. Numbers, not strings:
 *  the event loop switches on them for every event. */
export const STEP_START = 0;
export const STEP_END = 1;
export const OBSERVE = 2;
export const WAKE = 3;
export const TOOL_END = 4;
export const LIFECYCLE_DONE = 5;
export const PREFETCH = 6;
export const LAND = 7;
export const DELIVER = 8;

/** An engine may start a step (its slot's one reusable start event). */
export interface StepStartEvent {
  readonly kind: typeof STEP_START;
  readonly slot: EngineSlot;
}

/** An engine's step is done (its slot's one reusable end event). */
export interface StepEndEvent {
  readonly kind: typeof STEP_END;
  readonly slot: EngineSlot;
}

/** A scrape of every instance's metrics (scraped observability). */
export interface ObserveEvent {
  readonly kind: typeof OBSERVE;
}

/** A time the controller asked to be woken at. */
export interface WakeEvent {
  readonly kind: typeof WAKE;
}

/** A workflow's tool step is done. */
export interface ToolEndEvent {
  readonly kind: typeof TOOL_END;
  readonly workflowId: string;
  readonly stepId: string;
  readonly start_s: number;
}

/** An instance finished waking or starting. */
export interface LifecycleDoneEvent {
  readonly kind: typeof LIFECYCLE_DONE;
  readonly slot: EngineSlot;
}

/** Time to start moving a call's prefix up the KV tiers. */
export interface PrefetchEvent {
  readonly kind: typeof PREFETCH;
  readonly slot: EngineSlot;
  readonly call: LlmCall;
  readonly identity: SegmentTokenIdentity;
}

/** A dispatched call reaches its engine (engine.api_latency_s > 0). */
export interface LandEvent {
  readonly kind: typeof LAND;
  readonly slot: EngineSlot;
  readonly call: LlmCall;
  readonly priority: number;
}

/** An engine notification on its way back to the router (engine.api_latency_s > 0). */
export interface DeliverEvent {
  readonly kind: typeof DELIVER;
  readonly run: (at_s: number) => void;
}

export type SimEvent = StepStartEvent | StepEndEvent | ObserveEvent | WakeEvent | ToolEndEvent | LifecycleDoneEvent | PrefetchEvent | LandEvent | DeliverEvent;

/** A simulated engine as the host drives it: the engine, its two reusable step events (an engine
 *  has at most one of each pending, so the hot path allocates none), and its memory state. */
export class EngineSlot {
  readonly startEvent: StepStartEvent;
  readonly endEvent: StepEndEvent;
  /** The start event is in the queue. */
  startPending = false;
  /** Awake or being brought up (waking, starting): counts for its GPUs' memory. */
  holdsMemory: boolean;

  constructor(
    readonly engine: Engine,
    readonly instance: ConfiguredInstance,
    /** The instances it shares GPUs with (config `colocate`), itself included; undefined alone. */
    readonly pool: ColocatedPool | undefined,
  ) {
    this.startEvent = { kind: STEP_START, slot: this };
    this.endEvent = { kind: STEP_END, slot: this };
    this.holdsMemory = instance.spec.initial_state !== "stopped";
    if (!this.holdsMemory) engine.sleep(); // a stopped spare holds no memory until started
  }
}
