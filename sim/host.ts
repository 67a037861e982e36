import { Controller } from "../src/core/controller.ts";
import { invariant } from "../src/core/errors.ts";
import type { LlmCall } from "../src/core/types.ts";
import type { ControllerAction, ControllerEvent } from "../src/core/events.ts";
import type { DecisionRecord } from "../src/core/decisions.ts";
import { callFromRequest, isWorkflow, type Arrival } from "../src/core/arrival.ts";
import type { Recorder } from "../src/metrics/recorder.ts";
import type { AgentSummary } from "../src/metrics/report-schema.ts";
import type { ModelTraffic } from "../src/core/model-traffic.ts";
import type { DispatchPolicy } from "../src/policies/dispatch/policy.ts";
import type { SchedulingPolicy } from "../src/policies/scheduling/policy.ts";
import { VirtualClock } from "./des/clock.ts";
import { EventQueue } from "./des/event-queue.ts";
import type { RngStreams } from "../src/core/rng.ts";
import { simCallEstimator } from "../src/model/call-estimator.ts";
import { ArrivalChecks } from "../run/checks.ts";
import type { RunLifecycle, RunProgress } from "../run/setup.ts";
import { Engine, type EngineListener, type EngineStats } from "./engine/engine.ts";
import { ArrivalFeed, type ArrivalSource } from "./arrival-feed.ts";
import { ClosedLoopFeed } from "./closed-loop-feed.ts";
import { PrefixInterner, SegmentTokenIdentity } from "../src/core/prefix-identity.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { canonicalModelName } from "../src/model/models.ts";
import { ColocatedPool } from "./colocated-pool.ts";
import { delayedListener, directListener } from "./router-listener.ts";
import { VirtualDeliveries } from "./virtual-deliveries.ts";
import { DELIVER, EngineSlot, LAND, LIFECYCLE_DONE, OBSERVE, PREFETCH, STEP_END, STEP_START, TOOL_END, WAKE, type ObserveEvent, type SimEvent, type WakeEvent } from "./sim-events.ts";

export interface ObservabilityConfig {
  /** `scraped`: the controller sees each instance's state every `interval_s`, like a router
   *  polling /metrics. `oracle`: it sees exact state after every engine change (sim only). */
  mode: "scraped" | "oracle";
  interval_s: number;
}

export interface SimulationOptions {
  instances: ConfiguredInstance[];
  scheduling: SchedulingPolicy;
  dispatch: DispatchPolicy;
  recorder: Recorder;
  rng: RngStreams;
  observability: ObservabilityConfig;
  lifecycle?: RunLifecycle;
  /** Names the workload in error messages (a trace path, `app:NAME`). */
  source?: string;
  onProgress?: (progress: RunProgress) => void;
  /** Hears every event the controller receives (the run's event log). */
  onEvent?: (event: ControllerEvent) => void;
  /** Hears every scheduling and dispatch decision (the run's decision trace). */
  onDecision?: (record: DecisionRecord) => void;
  /** Decode fast-forward in the engines (default on; same results, docs/engine.md). */
  fastForward?: boolean;
  /** Closed-loop clients (docs/closed-loop.md): the arrivals' times are ignored and `users` users
   *  run the workflows back to back, each starting its next one `thinkTime()` after the last closed. */
  closedLoop?: ClosedLoopOptions;
}

export interface ClosedLoopOptions {
  users: number;
  /** Draws one think time in seconds (≥ 0). */
  thinkTime: () => number;
  /** Hears each workflow start: which user runs it (tests, per-user accounting). */
  onStart?: (user: number, workflowId: string, at_s: number) => void;
}

export interface SimulationResult {
  end_s: number;
  /** Requests or workflows that arrived. */
  arrived: number;
  events: number;
  engines: { id: string; stats: EngineStats; num_gpu_blocks: number }[];
  /** The controller's per-agent profiles at the end (empty for request traces). */
  agents: AgentSummary[];
  /** Per-model traffic statistics at the end. */
  models: ModelTraffic[];
}

/** The discrete-event host: feeds arrivals and engine events to the shared Controller in virtual
 *  time and carries out its actions on simulated engines. Arrivals are pulled batch by batch, so a
 *  trace is never held in memory whole. */
export async function simulate(arrivals: AsyncIterable<Arrival[]>, options: SimulationOptions): Promise<SimulationResult> {
  const iterator = arrivals[Symbol.asyncIterator]();
  const closed = options.closedLoop;
  const feed = closed === undefined ? new ArrivalFeed(iterator) : new ClosedLoopFeed(iterator, closed.users, closed.thinkTime, closed.onStart);
  return new SimHost(options, feed).run(feed);
}

/** One simulation: the event loop (`run`), a handler per event kind, and the controller's actions
 *  carried out on the engine slots. */
class SimHost {
  private readonly clock = new VirtualClock();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly interner = new PrefixInterner();
  private readonly controller: Controller;
  private readonly checks: ArrivalChecks;
  private readonly oracle: boolean;
  private readonly slots = new Map<string, EngineSlot>();
  private readonly slotList: EngineSlot[] = [];
  private readonly observeEvent: ObserveEvent = { kind: OBSERVE };
  private readonly wakeEvent: WakeEvent = { kind: WAKE };
  private observePending = false;
  /** Token-gap deliveries kept off the queue (fast-forward without an event log; virtual-deliveries.ts). */
  private readonly virtual: VirtualDeliveries | undefined;
  private arrived = 0;
  private events = 0;

  constructor(
    private readonly options: SimulationOptions,
    feed: ArrivalSource,
  ) {
    this.controller = new Controller({
      instances: options.instances.map((i) => i.spec),
      scheduling: options.scheduling,
      dispatch: options.dispatch,
      recorder: options.recorder,
      random: options.rng.stream("policy"),
      estimator: simCallEstimator(options.instances),
      resolveModel: canonicalModelName,
      lifecycle: options.lifecycle?.policies,
      onEvent: options.onEvent,
      onDecision: options.onDecision,
      onWorkflowClosed: feed.workflowClosed?.bind(feed),
    });
    this.checks = new ArrivalChecks(options.source ?? "workload", options.instances);
    this.oracle = options.observability.mode === "oracle";
    // The event log records each delivery at its own time, so it keeps them as real events.
    this.virtual = (options.fastForward ?? true) && options.onEvent === undefined ? new VirtualDeliveries() : undefined;
    const pools = new Map<string, ColocatedPool>();
    for (const instance of options.instances) {
      let pool: ColocatedPool | undefined;
      if (instance.memory !== undefined) {
        pool = pools.get(instance.memory.colocate) ?? new ColocatedPool();
        pools.set(instance.memory.colocate, pool);
      }
      const engine = new Engine(
        instance.spec.id,
        instance.engine,
        instance.spec.max_model_len,
        instance.num_gpu_blocks,
        instance.latency,
        this.listenerFor(instance),
        options.fastForward ?? true,
      );
      const slot = new EngineSlot(engine, instance, pool);
      if (pool !== undefined && instance.memory !== undefined) pool.join(slot, instance.memory);
      this.slots.set(instance.spec.id, slot);
      this.slotList.push(slot);
    }
  }

  async run(feed: ArrivalSource): Promise<SimulationResult> {
    const { clock, queue, controller } = this;
    const onProgress = this.options.onProgress;
    let lastProgress = 0;
    for (;;) {
      if (feed.needsPull) {
        await feed.pull();
        continue;
      }
      const arrivalTime = feed.nextTime_s;
      if (this.virtual !== undefined && this.virtual.size > 0) this.passVirtual(this.virtual, arrivalTime, feed);
      const eventTime = queue.peekTime();
      if (arrivalTime === Infinity && eventTime === Infinity) break;
      this.events++;
      if (onProgress && this.events - lastProgress >= 65536) {
        lastProgress = this.events;
        onProgress({ sim_time_s: clock.now_s, arrived: this.arrived });
      }
      if (arrivalTime <= eventTime) {
        // Arrivals win ties, so calls arriving at a step boundary join the next step.
        this.arrive(feed.take());
        continue;
      }
      const event = queue.pop();
      clock.advanceTo(eventTime);
      const now = clock.now_s;
      // Scrapes go on while anything is in flight or still to arrive (tools and held calls included).
      if (!this.observePending && (controller.openCalls > 0 || controller.runningWorkflows > 0 || feed.hasMore)) {
        this.ensureObserving(now);
      }
      this.handle(event, now);
    }
    return this.finish();
  }

  /** Passes the virtual deliveries due before the next arrival or queued event, as the loop would
   *  pass real ones: the clock moves to each, and the first after a scrape restarts the scrape timer. */
  private passVirtual(virtual: VirtualDeliveries, arrivalTime: number, feed: ArrivalSource): void {
    const { queue, controller } = this;
    for (;;) {
      const t = virtual.nextBefore(arrivalTime, queue.peekTime(), queue.size > 0 ? queue.peekSeq() : Infinity);
      if (Number.isNaN(t)) return;
      virtual.shift();
      this.events++;
      this.clock.advanceTo(t);
      if (!this.observePending && (controller.openCalls > 0 || controller.runningWorkflows > 0 || feed.hasMore)) this.ensureObserving(t);
    }
  }

  private arrive(arrival: Arrival): void {
    this.clock.advanceTo(arrival.arrival_s);
    const now = this.clock.now_s;
    this.arrived++;
    this.checks.check(arrival, this.controller);
    if (isWorkflow(arrival)) this.controller.workflowArrived(now, arrival);
    else this.controller.callArrived(now, callFromRequest(arrival));
    this.carryOutActions(now);
    this.ensureObserving(now);
  }

  private handle(event: SimEvent, now: number): void {
    switch (event.kind) {
      case STEP_START: {
        const slot = event.slot;
        slot.startPending = false;
        if (!slot.engine.busy) this.startStep(slot, now);
        break;
      }
      case STEP_END: {
        const slot = event.slot;
        slot.engine.finishStep(now);
        if (this.oracle) this.observe(slot, now);
        this.carryOutActions(now);
        if (!slot.engine.busy && slot.engine.hasWork) this.startStep(slot, now);
        break;
      }
      case OBSERVE: {
        this.observePending = false;
        for (const slot of this.slotList) this.observe(slot, now);
        this.carryOutActions(now);
        break;
      }
      case WAKE: {
        this.controller.tick(now);
        this.carryOutActions(now);
        break;
      }
      case LIFECYCLE_DONE:
        this.awaken(event.slot, now);
        break;
      case DELIVER: {
        event.run(now);
        this.carryOutActions(now);
        break;
      }
      case LAND:
        this.land(event.slot, event.call, event.priority, now);
        break;
      case PREFETCH: {
        if (!event.slot.engine.asleep) event.slot.engine.prefetch(now, event.call, event.identity);
        break;
      }
      case TOOL_END: {
        this.controller.toolFinished(now, event.workflowId, event.stepId, event.start_s);
        this.carryOutActions(now);
        break;
      }
    }
  }

  private carryOutActions(now: number): void {
    for (let actions = this.controller.drain(); actions.length > 0; actions = this.controller.drain()) {
      for (const action of actions) this.carryOut(action, now);
    }
  }

  private carryOut(action: ControllerAction, now: number): void {
    switch (action.kind) {
      case "dispatch": {
        const slot = this.slot(action.instanceId);
        const priority = action.enginePriority ?? action.call.priority ?? 0;
        const latency_s = slot.engine.config.api_latency_s;
        if (latency_s > 0) this.queue.push(now + latency_s, { kind: LAND, slot, call: action.call, priority });
        else this.land(slot, action.call, priority, now);
        break;
      }
      case "startTool":
        this.queue.push(now + action.duration_s, { kind: TOOL_END, workflowId: action.workflowId, stepId: action.stepId, start_s: now });
        break;
      case "prefetch": {
        const slot = this.slot(action.instanceId);
        if (slot.engine.config.enable_prefetch) {
          // Start late enough that the moved blocks are not evicted again while the tool runs,
          // early enough that the transfer ends when the call is released.
          const identity = new SegmentTokenIdentity(action.call, this.interner);
          const start_s = Math.max(now, action.ready_by_s - slot.engine.prefetchLead_s(action.call, identity));
          this.queue.push(start_s, { kind: PREFETCH, slot, call: action.call, identity });
        }
        break;
      }
      case "wakeMeAt":
        this.queue.push(Math.max(now, action.at_s), this.wakeEvent);
        break;
      case "sleep":
      case "stopInstance": {
        const slot = this.slot(action.instanceId);
        invariant(slot.engine.sleep(), `engine ${action.instanceId} was told to sleep with work in it`);
        slot.holdsMemory = false;
        slot.pool?.rebalance();
        this.observe(slot, now);
        break;
      }
      case "wake":
      case "startInstance": {
        const lifecycle = this.options.lifecycle;
        invariant(lifecycle !== undefined, `the controller asked to ${action.kind} ${action.instanceId} in a run without lifecycle settings`);
        const delay_s = action.kind === "wake" ? lifecycle.wake_latency_s : lifecycle.startup_s;
        this.queue.push(now + delay_s, { kind: LIFECYCLE_DONE, slot: this.slot(action.instanceId) });
        break;
      }
      case "reject":
        break; // the recorder has already counted it
    }
  }

  /** A woken or started instance: the others in its pool shrink first, then it takes its blocks. */
  private awaken(slot: EngineSlot, now: number): void {
    slot.holdsMemory = true;
    slot.pool?.rebalance();
    slot.engine.wake(Math.max(1, slot.pool?.blocksOnWake(slot) ?? slot.instance.num_gpu_blocks));
    this.controller.instanceStateChanged(now, slot.engine.id, "awake");
    this.observe(slot, now);
    this.carryOutActions(now);
  }

  /** A dispatched call reaches its engine. */
  private land(slot: EngineSlot, call: LlmCall, priority: number, now: number): void {
    slot.engine.enqueue(now, call, priority, new SegmentTokenIdentity(call, this.interner));
    if (!slot.engine.busy && !slot.startPending && slot.engine.hasWork) {
      slot.startPending = true;
      this.queue.push(now, slot.startEvent);
    }
    if (this.oracle) this.observe(slot, now);
  }

  private startStep(slot: EngineSlot, now: number): void {
    const duration = slot.engine.startStep(now);
    if (duration !== undefined) {
      if (!(duration > 0 && duration < Infinity)) throw new Error(`invariant violated: step time must be positive, got ${duration}`);
      this.queue.push(now + duration, slot.endEvent);
    } else {
      invariant(!slot.engine.hasWork, `engine ${slot.engine.id} has work but cannot schedule any of it`);
    }
  }

  private observe(slot: EngineSlot, now: number): void {
    this.controller.instanceObserved(now, slot.engine.snapshot(now));
  }

  private ensureObserving(now: number): void {
    if (!this.oracle && !this.observePending) {
      this.observePending = true;
      this.queue.push(now + this.options.observability.interval_s, this.observeEvent);
    }
  }

  private slot(instanceId: string): EngineSlot {
    const slot = this.slots.get(instanceId);
    invariant(slot !== undefined, `the controller named an unknown instance ${instanceId}`);
    return slot;
  }

  /** What the engine reports, on its way to the controller: at once, or an API latency later. */
  private listenerFor(instance: ConfiguredInstance): EngineListener {
    const latency_s = instance.engine.api_latency_s;
    if (latency_s <= 0) return directListener(this.controller);
    const listener = delayedListener(this.controller, (at, run) => this.queue.push(at + latency_s, { kind: DELIVER, run }));
    const virtual = this.virtual;
    if (virtual === undefined) return listener;
    const recorder = this.options.recorder;
    const fifo = virtual.fifoFor(latency_s);
    listener.tokenGaps = (at, gap_s, count) => {
      recorder.interTokenGaps(gap_s, count);
      virtual.addTo(fifo, latency_s, at, this.queue.reserveSeq());
    };
    return listener;
  }

  /** Checks that everything closed and nothing leaked, takes the final scrape, and sums up. */
  private finish(): SimulationResult {
    const { controller } = this;
    invariant(controller.openCalls === 0, `${controller.openCalls} calls never closed (${controller.waitingCalls} waiting at the controller)`);
    invariant(controller.runningWorkflows === 0, `${controller.runningWorkflows} workflows never closed`);
    const end_s = this.clock.now_s;
    for (const slot of this.slotList) {
      invariant(slot.engine.kv.usedBlocks === 0, `engine ${slot.engine.id} leaked KV blocks`);
      this.observe(slot, end_s); // the final scrape gives the report its cumulative counters
    }
    this.options.onProgress?.({ sim_time_s: end_s, arrived: this.arrived });
    return {
      agents: controller.agentSummaries(),
      models: controller.trafficSnapshot(end_s),
      end_s,
      arrived: this.arrived,
      events: this.events,
      engines: this.slotList.map((slot) => ({ id: slot.engine.id, stats: { ...slot.engine.stats }, num_gpu_blocks: slot.engine.kv.capacityBlocks })),
    };
  }
}
