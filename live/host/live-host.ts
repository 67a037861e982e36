import { setMaxListeners } from "node:events";
import { Controller, type ControllerOptions } from "../../src/core/controller.ts";
import type { ControllerAction, OpenWorkflowInfo } from "../../src/core/events.ts";
import type { LlmCall } from "../../src/core/types.ts";
import type { InstanceState } from "../../src/core/view.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import type { LiveClock } from "./clock.ts";
import { CallFailure, type CallTransport, type InstanceControl } from "./transport.ts";

/** Failed /metrics scrapes in a row after which an instance is taken out of dispatch. */
const UNREACHABLE_AFTER_FAILED_SCRAPES = 2;

export interface LiveHostOptions extends ControllerOptions {
  clock: LiveClock;
  transport: CallTransport;
  control: InstanceControl;
  /** Model seconds between /metrics scrapes of every instance. */
  observe_interval_s: number;
  /** Called when an instance cannot be scraped (the host keeps going; dispatch failures decide). */
  onObserveError?: (instanceId: string, error: unknown) => void;
}

/** The live host: the shared Controller driven by wall-clock time and real HTTP. It feeds arrivals,
 *  streamed tokens, finishes, failures, scrapes and timers to the controller, and carries out its
 *  actions (dispatch over the transport, tool waits, sleep and wake). The same Controller, policies
 *  and Recorder as the simulator, so both hosts produce the same metrics. */
export class LiveHost {
  readonly controller: Controller;
  /** Aborted on close: every call's signal (one for all; a controller per call cost the gateway
   *  an allocation chain per request and longer garbage collections). */
  private readonly closing = new AbortController();
  private readonly tools = new Set<ReturnType<typeof setTimeout>>();
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private wakeAt_s = Infinity;
  private observeTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingLifecycle = 0;
  private fatal: unknown;
  private closed = false;
  private idleWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Failed scrapes in a row per instance, and the instances taken out of dispatch as unreachable. */
  private readonly scrapeFailures = new Map<string, number>();
  private readonly unreachable = new Set<string>();

  constructor(private readonly options: LiveHostOptions) {
    this.controller = new Controller(options);
    setMaxListeners(0, this.closing.signal); // a listener per call in flight, removed as each ends
    if (options.lifecycle?.some((p) => p.name === "autoscale")) {
      throw new Error("autoscale cannot start or stop servers in live mode; remove lifecycle.autoscale from the config");
    }
    this.scheduleObservation();
  }

  /** A workflow arrives now. */
  workflowArrived(workflow: WorkflowSpec): void {
    this.guard(() => this.controller.workflowArrived(this.options.clock.now_s(), workflow));
  }

  /** A single call arrives now (its arrival_s is overwritten with the arrival's model time). */
  callArrived(call: LlmCall): void {
    const now = this.options.clock.now_s();
    this.guard(() => this.controller.callArrived(now, { ...call, arrival_s: now }));
  }

  /** A call the host turned away before the controller's queue (the gateway's limits). */
  callTurnedAway(call: LlmCall, reason: string): void {
    const now = this.options.clock.now_s();
    this.guard(() => this.controller.callTurnedAway(now, { ...call, arrival_s: now }, reason));
  }

  /** A call still waiting at the controller is withdrawn (the gateway shutting down). */
  callWithdrawn(callId: string, reason: string): void {
    this.guard(() => this.controller.callWithdrawn(this.options.clock.now_s(), callId, reason));
  }

  /** A call at an instance is given up (the gateway shutting down): it ends failed. */
  callAbandoned(callId: string, reason: string): void {
    this.guard(() => this.controller.callFailed(this.options.clock.now_s(), callId, reason, false));
  }

  /** An open-ended workflow (the gateway's) begins now… */
  workflowOpened(workflow: OpenWorkflowInfo): void {
    this.guard(() => this.controller.workflowOpened(this.options.clock.now_s(), workflow));
  }

  /** … and ended at `end_s` (its last call's close, which may lie before now). */
  workflowEnded(workflowId: string, end_s: number, llm_steps: number, failure: string | null): void {
    this.guard(() => this.controller.workflowEnded(end_s, workflowId, llm_steps, failure));
  }

  /** An instance changed state outside the controller's own lifecycle decisions (the gateway's
   *  /sleep and /wake_up endpoints, an instance found down or back up): only `awake` ones take calls. */
  instanceStateChanged(instanceId: string, state: InstanceState): void {
    this.guard(() => this.controller.instanceStateChanged(this.options.clock.now_s(), instanceId, state));
  }

  /** True while anything is open: calls, workflows (with their tools) or lifecycle transitions. */
  get busy(): boolean {
    return this.controller.openCalls > 0 || this.controller.runningWorkflows > 0 || this.pendingLifecycle > 0;
  }

  /** Resolves when nothing is open; rejects with the first internal error (a broken invariant). */
  idle(): Promise<void> {
    if (this.fatal !== undefined) return Promise.reject(this.fatal);
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Stops timers and aborts calls still in flight (they end failed with reason `host_closed`). */
  close(): void {
    this.closed = true;
    clearTimeout(this.observeTimer);
    clearTimeout(this.wakeTimer);
    for (const timer of this.tools) clearTimeout(timer);
    this.tools.clear();
    this.closing.abort(new CallFailure("host_closed", false));
  }

  /** One scrape of every instance now, awaited (the driver's final scrape gives the report its
   *  cumulative counters). */
  async observeAll(): Promise<void> {
    const { control, onObserveError } = this.options;
    await Promise.all(
      this.options.instances.map(async ({ id }) => {
        try {
          const snapshot = await control.observe(id);
          this.scrapeFailures.set(id, 0);
          this.guard(() => {
            const now = this.options.clock.now_s();
            if (this.unreachable.delete(id)) this.controller.instanceStateChanged(now, id, "awake");
            this.controller.instanceObserved(now, { ...snapshot, at_s: now });
          });
        } catch (error) {
          const failures = (this.scrapeFailures.get(id) ?? 0) + 1;
          this.scrapeFailures.set(id, failures);
          if (failures >= UNREACHABLE_AFTER_FAILED_SCRAPES) this.markUnreachable(id);
          onObserveError?.(id, error);
        }
      }),
    );
  }

  /** An instance that refuses connections or fails its scrapes takes no calls until a scrape
   *  succeeds again (the router's health check). */
  private markUnreachable(id: string): void {
    if (this.unreachable.has(id)) return;
    this.guard(() => {
      const view = this.controller.instances.find((v) => v.spec.id === id);
      if (view === undefined || view.state !== "awake") return;
      this.unreachable.add(id);
      this.controller.instanceStateChanged(this.options.clock.now_s(), id, "stopped");
    });
  }

  /** Runs `step` (a controller event), then every action it produced; an exception is a broken
   *  invariant: it stops the run and reaches whoever awaits idle(). */
  private guard(step: () => void): void {
    if (this.fatal !== undefined || this.closed) return;
    try {
      step();
      this.carryOutActions();
    } catch (error) {
      this.fatal = error;
      this.close();
      for (const waiter of this.idleWaiters.splice(0)) waiter.reject(error);
      return;
    }
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.busy || this.idleWaiters.length === 0) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  private carryOutActions(): void {
    for (let actions = this.controller.drain(); actions.length > 0; actions = this.controller.drain()) {
      for (const action of actions) this.carryOut(action);
    }
  }

  private carryOut(action: ControllerAction): void {
    const clock = this.options.clock;
    switch (action.kind) {
      case "dispatch":
        return this.send(action.call, action.instanceId, action.enginePriority);
      case "startTool": {
        const start_s = clock.now_s();
        const timer = setTimeout(
          () => {
            this.tools.delete(timer);
            this.guard(() => {
              const now = clock.now_s();
              this.controller.toolFinished(now, action.workflowId, action.stepId, start_s);
            });
          },
          clock.wallDelay_ms(start_s + action.duration_s),
        );
        this.tools.add(timer);
        return;
      }
      case "wakeMeAt":
        return this.wakeAt(action.at_s);
      case "sleep":
        return this.lifecycle(action.instanceId, () => this.options.control.sleep(action.instanceId), undefined);
      case "wake":
        return this.lifecycle(action.instanceId, () => this.options.control.wake(action.instanceId), "awake");
      case "startInstance":
      case "stopInstance":
        throw new Error(`${action.kind} ${action.instanceId}: live mode cannot start or stop servers`);
      case "prefetch": // vLLM has no API to move a prefix back to GPU memory ahead of a call: advice ignored
      case "reject": // already recorded by the controller
        return;
    }
  }

  private send(call: LlmCall, instanceId: string, enginePriority: number | undefined): void {
    const clock = this.options.clock;
    const progress = {
      firstToken: (at_s: number) => this.guard(() => this.controller.callFirstToken(at_s, call.id)),
      tokens: (at_s: number, count: number) => this.guard(() => this.controller.callTokens(at_s, call.id, count)),
    };
    this.options.transport.send(instanceId, call, enginePriority, progress, this.closing.signal).then(
      (usage) => {
        this.guard(() => this.controller.callFinished(clock.now_s(), call.id, usage));
      },
      (error: unknown) => {
        const failure = error instanceof CallFailure ? error : new CallFailure(`client_error: ${(error as Error)?.message ?? String(error)}`, false);
        if (failure.unreachable) this.markUnreachable(instanceId);
        this.guard(() => {
          if (failure.rejected) this.controller.callRejected(clock.now_s(), call.id, failure.reason);
          else this.controller.callFailed(clock.now_s(), call.id, failure.reason, failure.retryable);
        });
      },
    );
  }

  /** One timer for the controller's earliest requested wake-up. */
  private wakeAt(at_s: number): void {
    if (at_s >= this.wakeAt_s) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt_s = at_s;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt_s = Infinity;
      this.guard(() => this.controller.tick(this.options.clock.now_s()));
    }, this.options.clock.wallDelay_ms(at_s));
  }

  private lifecycle(instanceId: string, transition: () => Promise<void>, reached: "awake" | undefined): void {
    this.pendingLifecycle++;
    transition().then(
      () => {
        this.pendingLifecycle--;
        this.guard(() => {
          if (reached) this.controller.instanceStateChanged(this.options.clock.now_s(), instanceId, reached);
        });
      },
      (error: unknown) => {
        this.pendingLifecycle--;
        this.guard(() => {
          throw new Error(`instance ${instanceId}: lifecycle request failed: ${(error as Error)?.message ?? String(error)}`);
        });
      },
    );
  }

  private scheduleObservation(): void {
    if (this.closed) return;
    const clock = this.options.clock;
    this.observeTimer = setTimeout(
      async () => {
        await this.observeAll();
        this.scheduleObservation();
      },
      clock.wallDelay_ms(clock.now_s() + this.options.observe_interval_s),
    );
  }
}
