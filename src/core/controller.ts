import type { Recorder } from "../metrics/recorder.ts";
import type { DispatchPolicy } from "../policies/dispatch/policy.ts";
import type { SchedulingPolicy } from "../policies/scheduling/policy.ts";
import { invariant } from "./errors.ts";
import type { ControllerAction, ControllerEvent } from "./events.ts";
import { RankedQueue } from "./ranked-queue.ts";
import type { CallUsage, InstanceSnapshot, InstanceSpec, LlmCall } from "./types.ts";
import type { ControllerView, InstanceView, QueuedCall } from "./view.ts";

export interface ControllerOptions {
  instances: readonly InstanceSpec[];
  scheduling: SchedulingPolicy;
  dispatch: DispatchPolicy;
  recorder: Recorder;
  /** Seeded uniform [0,1) source for policies that draw. */
  random: () => number;
  /** Times a call that failed before streaming may be dispatched again. */
  max_retries?: number;
}

interface InFlight {
  readonly queued: QueuedCall;
  instance: InstanceView | undefined;
  attempts: number;
}

/** The shared scheduler/dispatcher: a pure state machine, events in, actions out. It owns no timer,
 *  socket or clock; both the simulator and the live host drive it. Methods named after events are
 *  the hot path (no event objects allocated); `handle` accepts the same events as data. */
export class Controller {
  private now = 0;
  private seq = 0;
  private readonly queue = new RankedQueue<QueuedCall>();
  private readonly calls = new Map<string, InFlight>();
  private readonly views: InstanceView[];
  private readonly viewById = new Map<string, InstanceView>();
  private readonly modelGroups = new Map<string, { views: InstanceView[]; shortest_max_model_len: number }>();
  private actions: ControllerAction[] = [];
  private readonly view: ControllerView;
  private readonly maxRetries: number;

  constructor(private readonly options: ControllerOptions) {
    this.views = options.instances.map((spec, index) => ({
      spec,
      index,
      outstanding: 0,
      outstanding_tokens: 0,
      observed: undefined,
    }));
    for (const view of this.views) this.viewById.set(view.spec.id, view);
    const controller = this;
    this.view = {
      get now_s() {
        return controller.now;
      },
      instances: this.views,
      random: options.random,
    };
    this.maxRetries = options.max_retries ?? 3;
  }

  get now_s(): number {
    return this.now;
  }

  /** Calls accepted and not yet closed (waiting here or in flight at an instance). */
  get openCalls(): number {
    return this.calls.size;
  }

  hasOpenCall(callId: string): boolean {
    return this.calls.has(callId);
  }

  get waitingCalls(): number {
    return this.queue.size;
  }

  get recorder(): Recorder {
    return this.options.recorder;
  }

  handle(event: ControllerEvent): void {
    switch (event.kind) {
      case "callArrived":
        return this.callArrived(event.at_s, event.call);
      case "callFirstToken":
        return this.callFirstToken(event.at_s, event.callId);
      case "callTokens":
        return this.callTokens(event.at_s, event.callId, event.count);
      case "callFinished":
        return this.callFinished(event.at_s, event.callId, event.usage);
      case "callFailed":
        return this.callFailed(event.at_s, event.callId, event.reason, event.retryable);
      case "callRejected":
        return this.callRejected(event.at_s, event.callId, event.reason);
      case "instanceObserved":
        return this.instanceObserved(event.at_s, event.snapshot);
      case "tick":
        return this.tick(event.at_s);
    }
  }

  /** Actions produced since the last drain, in the order they were decided. */
  drain(): ControllerAction[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  callArrived(at_s: number, call: LlmCall): void {
    this.advance(at_s);
    invariant(!this.calls.has(call.id), `call ${call.id} arrived twice`);
    const queued: QueuedCall = { call, seq: this.seq++, enqueued_s: at_s };
    this.options.recorder.callArrived(at_s, call);
    const reason = this.unservableReason(call);
    if (reason) {
      this.options.recorder.callRejected(at_s, call.id, reason);
      this.actions.push({ kind: "reject", callId: call.id, reason });
      return;
    }
    this.calls.set(call.id, { queued, instance: undefined, attempts: 0 });
    this.enqueue(queued);
    this.dispatchReady();
  }

  callFirstToken(at_s: number, callId: string): void {
    this.advance(at_s);
    this.options.recorder.callFirstToken(at_s, callId);
  }

  callTokens(at_s: number, callId: string, count: number): void {
    this.advance(at_s);
    this.options.recorder.callTokens(at_s, callId, count);
  }

  callFinished(at_s: number, callId: string, usage: CallUsage): void {
    this.advance(at_s);
    this.release(callId);
    this.options.recorder.callFinished(at_s, callId, usage);
    this.dispatchReady();
  }

  callFailed(at_s: number, callId: string, reason: string, retryable: boolean): void {
    this.advance(at_s);
    const inFlight = this.calls.get(callId);
    invariant(inFlight, `failure reported for unknown call ${callId}`);
    if (retryable && inFlight.attempts <= this.maxRetries) {
      // Nothing streamed yet, so the call can go elsewhere; it keeps its place in arrival order.
      this.detachFromInstance(inFlight);
      this.enqueue(inFlight.queued);
    } else {
      this.release(callId);
      this.options.recorder.callFailed(at_s, callId, reason);
    }
    this.dispatchReady();
  }

  callRejected(at_s: number, callId: string, reason: string): void {
    this.advance(at_s);
    this.release(callId);
    this.options.recorder.callRejected(at_s, callId, reason);
    this.dispatchReady();
  }

  instanceObserved(at_s: number, snapshot: InstanceSnapshot): void {
    this.advance(at_s);
    const view = this.viewById.get(snapshot.instance);
    invariant(view, `observation of unknown instance ${snapshot.instance}`);
    view.observed = snapshot;
    this.options.recorder.instanceObserved(snapshot);
    if (this.queue.size > 0) this.dispatchReady();
  }

  tick(at_s: number): void {
    this.advance(at_s);
    if (this.queue.size > 0) this.dispatchReady();
  }

  private advance(at_s: number): void {
    if (!(at_s >= this.now)) throw new Error(`invariant violated: time went backwards: event at ${at_s} after ${this.now}`);
    this.now = at_s;
  }

  private enqueue(queued: QueuedCall): void {
    this.queue.push(queued, this.options.scheduling.rank(queued, this.view));
  }

  /** Instances that serve the call's model and can hold it. The per-model list is cached and
   *  returned as is when every instance in it is long enough (the common case: no allocation). */
  private candidatesFor(call: LlmCall): readonly InstanceView[] {
    const key = call.model ?? "";
    let group = this.modelGroups.get(key);
    if (!group) {
      const views = this.views.filter((v) => call.model === undefined || v.spec.model === call.model);
      group = { views, shortest_max_model_len: Math.min(...views.map((v) => v.spec.max_model_len)) };
      this.modelGroups.set(key, group);
    }
    const total = call.prompt_tokens + call.output_tokens;
    if (total <= group.shortest_max_model_len) return group.views;
    return group.views.filter((v) => total <= v.spec.max_model_len);
  }

  /** Why no instance could ever serve this call (a short stable code), or undefined if some can.
   *  Checked at the router, as vLLM's API server checks prompt + max_tokens against max_model_len. */
  private unservableReason(call: LlmCall): string | undefined {
    const sameModel = this.views.filter((v) => call.model === undefined || v.spec.model === call.model);
    if (sameModel.length === 0) return "no_instance_for_model";
    const total = call.prompt_tokens + call.output_tokens;
    if (sameModel.every((v) => total > v.spec.max_model_len)) return "exceeds_max_model_len";
    return undefined;
  }

  /** Hands waiting calls to the dispatch policy in scheduling order until it holds one. */
  private dispatchReady(): void {
    if (this.queue.size === 0) return;
    const scheduling = this.options.scheduling;
    if (scheduling.dynamic) this.queue.rerank((queued) => scheduling.rank(queued, this.view));
    for (;;) {
      const head = this.queue.peek();
      if (!head) return;
      const candidates = this.candidatesFor(head.call);
      const target = this.options.dispatch.choose(head.call, candidates, this.view);
      if (!target) return; // held: order is preserved, retried on the next event
      this.queue.pop();
      const inFlight = this.calls.get(head.call.id)!;
      inFlight.instance = target;
      inFlight.attempts++;
      target.outstanding++;
      target.outstanding_tokens += head.call.prompt_tokens + head.call.output_tokens;
      this.options.recorder.callDispatched(this.now, head.call.id, target.spec.id);
      this.actions.push({
        kind: "dispatch",
        call: head.call,
        instanceId: target.spec.id,
        enginePriority: scheduling.enginePriority?.(head, this.view),
      });
    }
  }

  private detachFromInstance(inFlight: InFlight): void {
    const instance = inFlight.instance;
    if (!instance) return;
    instance.outstanding--;
    instance.outstanding_tokens -= inFlight.queued.call.prompt_tokens + inFlight.queued.call.output_tokens;
    inFlight.instance = undefined;
  }

  private release(callId: string): void {
    const inFlight = this.calls.get(callId);
    invariant(inFlight, `completion reported for unknown call ${callId}`);
    this.detachFromInstance(inFlight);
    this.calls.delete(callId);
  }
}
