import type { ConfiguredInstance } from "../src/model/instance.ts";
import type { ColocatedPool } from "./colocated-pool.ts";
import type { Engine } from "./engine/engine.ts";
import { STEP_END, STEP_START, type StepEndEvent, type StepStartEvent } from "./sim-events.ts";

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
