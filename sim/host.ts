import { Controller } from "../src/core/controller.ts";
import type { ControllerEvent } from "../src/core/events.ts";
import { invariant } from "../src/core/errors.ts";
import type { LlmCall } from "../src/core/types.ts";
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
import { colocatedBlocks } from "../src/model/colocation.ts";
import { ArrivalChecks } from "../run/checks.ts";
import type { RunLifecycle, RunProgress } from "../run/setup.ts";
import { Engine, type EngineListener, type EngineStats } from "./engine/engine.ts";
import { PrefixInterner, SegmentTokenIdentity } from "../src/core/prefix-identity.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { canonicalModelName } from "../src/model/models.ts";

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

const STEP_START = 0;
const STEP_END = 1;
const OBSERVE = 2;
const WAKE = 3;
const TOOL_END = 4;
const LIFECYCLE_DONE = 5;
const PREFETCH = 6;
const LAND = 7;
const DELIVER = 8;

interface SimEvent {
  readonly kind: number;
  readonly slot: EngineSlot | undefined;
}

interface ToolEvent extends SimEvent {
  readonly workflowId: string;
  readonly stepId: string;
  readonly start_s: number;
}

/** An engine with its two reusable events (each engine has at most one of each pending). */
interface EngineSlot {
  readonly engine: Engine;
  readonly instance: ConfiguredInstance;
  readonly startEvent: SimEvent;
  readonly endEvent: SimEvent;
  startPending: boolean;
  /** Awake or being brought up (waking, starting): counts for its GPUs' memory. */
  holdsMemory: boolean;
}

interface LifecycleEvent extends SimEvent {
  readonly slot: EngineSlot;
}

/** An engine notification on its way back to the router (engine.api_latency_s > 0). */
interface DeliverEvent extends SimEvent {
  readonly run: (at_s: number) => void;
  readonly at_s: number;
}

interface LandEvent extends SimEvent {
  readonly slot: EngineSlot;
  readonly call: LlmCall;
  readonly priority: number;
}

interface PrefetchEvent extends SimEvent {
  readonly slot: EngineSlot;
  readonly call: LlmCall;
  readonly identity: SegmentTokenIdentity;
}

/** The discrete-event host: feeds arrivals and engine events to the shared Controller in virtual
 *  time and carries out its actions on simulated engines. Arrivals are pulled batch by batch, so a
 *  trace is never held in memory whole. */
export async function simulate(
  arrivals: AsyncIterable<Arrival[]>,
  options: SimulationOptions,
): Promise<SimulationResult> {
  const clock = new VirtualClock();
  const queue = new EventQueue<SimEvent>();
  const interner = new PrefixInterner();
  const controller = new Controller({
    instances: options.instances.map((i) => i.spec),
    scheduling: options.scheduling,
    dispatch: options.dispatch,
    recorder: options.recorder,
    random: options.rng.stream("policy"),
    estimator: simCallEstimator(options.instances),
    resolveModel: canonicalModelName,
    lifecycle: options.lifecycle?.policies,
    onEvent: options.onEvent,
  });
  const checks = new ArrivalChecks(options.source ?? "workload", options.instances);
  const oracle = options.observability.mode === "oracle";
  const slots = new Map<string, EngineSlot>();
  const slotList: EngineSlot[] = [];

  for (const instance of options.instances) {
    const direct: EngineListener = {
      firstToken: (at, request) => controller.callFirstToken(at, request.id),
      tokenGaps: (at, gap_s, count) => controller.tokenGaps(at, gap_s, count),
      finished: (at, request) =>
        controller.callFinished(at, request.id, {
          prompt_tokens: request.call.prompt_tokens,
          cached_tokens: request.cached_tokens,
          output_tokens: request.output_done,
          preemptions: request.preemptions,
        }),
      rejected: (at, request, reason) => controller.callRejected(at, request.id, reason),
    };
    // With an API latency, what the engine produces reaches the router that much later, as over
    // HTTP: every notification becomes an event (the default, 0, keeps the allocation-free path).
    const latency_s = instance.engine.api_latency_s;
    const deliver = (at: number, run: (at: number) => void) => {
      const event: DeliverEvent = { kind: DELIVER, slot: undefined, run, at_s: at + latency_s };
      queue.push(event.at_s, event);
    };
    const listener: EngineListener =
      latency_s > 0
        ? {
            firstToken: (at, request) => deliver(at, (t) => direct.firstToken(t, request)),
            tokenGaps: (at, gap_s, count) => deliver(at, (t) => direct.tokenGaps(t, gap_s, count)),
            finished: (at, request) => {
              const usage = { prompt_tokens: request.call.prompt_tokens, cached_tokens: request.cached_tokens, output_tokens: request.output_done, preemptions: request.preemptions };
              deliver(at, (t) => controller.callFinished(t, request.id, usage));
            },
            rejected: (at, request, reason) => deliver(at, (t) => direct.rejected(t, request, reason)),
          }
        : direct;
    const engine = new Engine(
      instance.spec.id,
      instance.engine,
      instance.spec.max_model_len,
      instance.num_gpu_blocks,
      instance.latency,
      listener,
    );
    const slot: EngineSlot = {
      engine,
      instance,
      startEvent: { kind: STEP_START, slot: undefined },
      endEvent: { kind: STEP_END, slot: undefined },
      startPending: false,
      holdsMemory: instance.spec.initial_state !== "stopped",
    };
    if (!slot.holdsMemory) engine.sleep(); // a stopped spare holds no memory until started
    (slot.startEvent as { slot: EngineSlot }).slot = slot;
    (slot.endEvent as { slot: EngineSlot }).slot = slot;
    slots.set(instance.spec.id, slot);
    slotList.push(slot);
  }

  const observeEvent: SimEvent = { kind: OBSERVE, slot: undefined };
  const wakeEvent: SimEvent = { kind: WAKE, slot: undefined };
  let observePending = false;
  let arrived = 0;
  let events = 0;
  let sourceDone = false;

  const startStep = (slot: EngineSlot, now: number) => {
    const duration = slot.engine.startStep(now);
    if (duration !== undefined) {
      if (!(duration > 0 && duration < Infinity)) throw new Error(`invariant violated: step time must be positive, got ${duration}`);
      queue.push(now + duration, slot.endEvent);
    } else {
      invariant(!slot.engine.hasWork, `engine ${slot.engine.id} has work but cannot schedule any of it`);
    }
  };

  /** A dispatched call reaches its engine. */
  const land = (slot: EngineSlot, call: LlmCall, priority: number, now: number) => {
    slot.engine.enqueue(now, call, priority, new SegmentTokenIdentity(call, interner));
    if (!slot.engine.busy && !slot.startPending && slot.engine.hasWork) {
      slot.startPending = true;
      queue.push(now, slot.startEvent);
    }
    if (oracle) observe(slot, now);
  };

  const observe = (slot: EngineSlot, now: number) => controller.instanceObserved(now, slot.engine.snapshot(now));

  /** Re-splits a GPU set's KV pool after a member slept or woke: shrink first, then grow. */
  const rebalance = (changed: EngineSlot) => {
    const colocate = changed.instance.memory?.colocate;
    if (colocate === undefined) return;
    const members = slotList.filter((s) => s.instance.memory?.colocate === colocate);
    const targets = colocatedBlocks(members.map((m) => ({ share: m.instance.memory!, awake: m.holdsMemory })));
    const order = members.map((_, i) => i).sort((a, b) => (targets[a] - members[a].engine.blocks.numBlocks) - (targets[b] - members[b].engine.blocks.numBlocks));
    for (const i of order) {
      const member = members[i];
      if (!member.holdsMemory || member.engine.asleep) continue;
      member.engine.resize(targets[i]);
    }
  };

  /** Blocks an instance gets when it wakes: its fair share of its GPUs, but never more than the
   *  others (which may hold blocks they could not give back yet) left free; or its full capacity. */
  const blocksOnWake = (slot: EngineSlot) => {
    const share = slot.instance.memory;
    if (!share) return slot.instance.num_gpu_blocks;
    const members = slotList.filter((s) => s.instance.memory?.colocate === share.colocate);
    const targets = colocatedBlocks(members.map((m) => ({ share: m.instance.memory!, awake: m.holdsMemory })));
    let free_bytes = share.budget_bytes;
    for (const m of members) {
      if (!m.holdsMemory) continue;
      free_bytes -= m.instance.memory!.fixed_bytes;
      if (m !== slot && !m.engine.asleep) free_bytes -= m.engine.blocks.numBlocks * m.instance.memory!.block_bytes;
    }
    return Math.min(targets[members.indexOf(slot)], Math.floor(Math.max(0, free_bytes) / share.block_bytes));
  };

  const carryOutActions = (now: number) => {
    for (let actions = controller.drain(); actions.length > 0; actions = controller.drain()) {
      for (const action of actions) {
        if (action.kind === "dispatch") {
          const slot = slots.get(action.instanceId)!;
          const priority = action.enginePriority ?? action.call.priority ?? 0;
          const latency_s = slot.engine.config.api_latency_s;
          if (latency_s > 0) {
            const landed: LandEvent = { kind: LAND, slot, call: action.call, priority };
            queue.push(now + latency_s, landed);
          } else {
            land(slot, action.call, priority, now);
          }
        } else if (action.kind === "startTool") {
          const toolEvent: ToolEvent = { kind: TOOL_END, slot: undefined, workflowId: action.workflowId, stepId: action.stepId, start_s: now };
          queue.push(now + action.duration_s, toolEvent);
        } else if (action.kind === "prefetch") {
          const slot = slots.get(action.instanceId)!;
          if (slot.engine.config.enable_prefetch) {
            // Start late enough that the moved blocks are not evicted again while the tool runs,
            // early enough that the transfer ends when the call is released.
            const identity = new SegmentTokenIdentity(action.call, interner);
            const start_s = Math.max(now, action.ready_by_s - slot.engine.prefetchLead_s(action.call, identity));
            const event: PrefetchEvent = { kind: PREFETCH, slot, call: action.call, identity };
            queue.push(start_s, event);
          }
        } else if (action.kind === "wakeMeAt") {
          queue.push(Math.max(now, action.at_s), wakeEvent);
        } else if (action.kind === "sleep" || action.kind === "stopInstance") {
          const slot = slots.get(action.instanceId)!;
          invariant(slot.engine.sleep(), `engine ${action.instanceId} was told to sleep with work in it`);
          slot.holdsMemory = false;
          rebalance(slot);
          observe(slot, now);
        } else if (action.kind === "wake" || action.kind === "startInstance") {
          const slot = slots.get(action.instanceId)!;
          const delay_s = action.kind === "wake" ? options.lifecycle!.wake_latency_s : options.lifecycle!.startup_s;
          const done: LifecycleEvent = { kind: LIFECYCLE_DONE, slot };
          queue.push(now + delay_s, done);
        }
        // "reject" needs nothing here: the recorder has already counted it.
      }
    }
  };

  const ensureObserving = (now: number) => {
    if (!oracle && !observePending) {
      observePending = true;
      queue.push(now + options.observability.interval_s, observeEvent);
    }
  };

  const iterator = arrivals[Symbol.asyncIterator]();
  let batch: Arrival[] = [];
  let index = 0;
  let lastProgress = 0;

  for (;;) {
    if (index >= batch.length && !sourceDone) {
      const next = await iterator.next();
      if (next.done) sourceDone = true;
      else {
        batch = next.value;
        index = 0;
        continue;
      }
    }
    const arrivalTime = index < batch.length ? batch[index].arrival_s : Infinity;
    const eventTime = queue.peekTime();
    if (arrivalTime === Infinity && eventTime === Infinity) break;
    events++;
    if (options.onProgress && events - lastProgress >= 65536) {
      lastProgress = events;
      options.onProgress({ sim_time_s: clock.now_s, arrived });
    }

    if (arrivalTime <= eventTime) {
      // Arrivals win ties, so calls arriving at a step boundary join the next step.
      const arrival = batch[index++];
      clock.advanceTo(arrival.arrival_s);
      arrived++;
      checks.check(arrival, controller);
      if (isWorkflow(arrival)) controller.workflowArrived(clock.now_s, arrival);
      else controller.callArrived(clock.now_s, callFromRequest(arrival));
      carryOutActions(clock.now_s);
      ensureObserving(clock.now_s);
      continue;
    }

    const event = queue.pop();
    clock.advanceTo(eventTime);
    const now = clock.now_s;
    // Scrapes go on while anything is in flight or still to arrive (tools and held calls included).
    if (!observePending && (controller.openCalls > 0 || controller.runningWorkflows > 0 || index < batch.length || !sourceDone)) {
      ensureObserving(now);
    }
    switch (event.kind) {
      case STEP_START: {
        const slot = event.slot!;
        slot.startPending = false;
        if (!slot.engine.busy) startStep(slot, now);
        break;
      }
      case STEP_END: {
        const slot = event.slot!;
        slot.engine.finishStep(now);
        if (oracle) observe(slot, now);
        carryOutActions(now);
        if (!slot.engine.busy && slot.engine.hasWork) startStep(slot, now);
        break;
      }
      case OBSERVE: {
        observePending = false;
        for (const slot of slotList) observe(slot, now);
        carryOutActions(now);
        break;
      }
      case WAKE: {
        controller.tick(now);
        carryOutActions(now);
        break;
      }
      case LIFECYCLE_DONE: {
        const slot = (event as LifecycleEvent).slot;
        slot.holdsMemory = true;
        rebalance(slot); // the others shrink to make room first
        slot.engine.wake(Math.max(1, blocksOnWake(slot)));
        controller.instanceStateChanged(now, slot.engine.id, "awake");
        observe(slot, now);
        carryOutActions(now);
        break;
      }
      case DELIVER: {
        (event as DeliverEvent).run(now);
        carryOutActions(now);
        break;
      }
      case LAND: {
        const { slot, call, priority } = event as LandEvent;
        land(slot, call, priority, now);
        break;
      }
      case PREFETCH: {
        const { slot, call, identity } = event as PrefetchEvent;
        if (!slot.engine.asleep) slot.engine.prefetch(now, call, identity);
        break;
      }
      case TOOL_END: {
        const tool = event as ToolEvent;
        controller.toolFinished(now, tool.workflowId, tool.stepId, tool.start_s);
        carryOutActions(now);
        break;
      }
    }
  }

  invariant(controller.openCalls === 0, `${controller.openCalls} calls never closed (${controller.waitingCalls} waiting at the controller)`);
  invariant(controller.runningWorkflows === 0, `${controller.runningWorkflows} workflows never closed`);
  const end_s = clock.now_s;
  for (const slot of slotList) {
    invariant(slot.engine.blocks.usedBlocks === 0, `engine ${slot.engine.id} leaked KV blocks`);
    observe(slot, end_s); // the final scrape gives the report its cumulative counters
  }
  options.onProgress?.({ sim_time_s: end_s, arrived });
  return {
    agents: controller.agentSummaries(),
    models: controller.trafficSnapshot(end_s),
    end_s,
    arrived,
    events,
    engines: slotList.map((slot) => ({ id: slot.engine.id, stats: { ...slot.engine.stats }, num_gpu_blocks: slot.engine.blocks.numBlocks })),
  };
}
