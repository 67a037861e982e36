import type { CallUsage, LlmCall } from "../../../src/core/types.ts";
import type { ControllerView, InstanceView, QueuedCall } from "../../../src/core/view.ts";
import type { DispatchPolicy } from "../../../src/policies/dispatch/policy.ts";
import type { SchedulingPolicy } from "../../../src/policies/scheduling/policy.ts";
import type { ForeignCalls, Replicator } from "./replicator.ts";

/** Scheduling policies whose ranks mean the same on every replica (a tenant's service counter), so
 *  a replica can hold its head call while another replica has a call ranked ahead of it: one queue
 *  order across the deployment. Others (fcfs ranks by each replica's own clock) order per replica. */
const GLOBAL_ORDER = new Set(["vtc"]);

/** Wall ms a replica holds a call for a foreign call ranked ahead of it, at most (stale state can
 *  make two replicas each wait for the other; the bound keeps both moving). */
const ORDER_HOLD_MAX_MS = 250;

/** Foreign events kept until the controller first shows its view (no local call yet). */
const PENDING_MAX = 100_000;

/** The replica's scheduling and dispatch policies, shared: local calls are published (arrival at
 *  their first rank, dispatch, close) and the other replicas' calls are fed to the same policy
 *  objects as if they were local — so the prefix index, VTC's counters and every other policy's
 *  call bookkeeping cover the whole deployment — and the candidates a dispatch policy sees carry
 *  the deployment's calls in flight (local + the other replicas'), so least-outstanding, capacity's
 *  bounds and prefix-affinity's balance guard count every replica's calls. While Redis is
 *  unreachable the overlay and the global order are off: the replica routes on what it has. */
export class SharedPolicies implements ForeignCalls {
  private view: ControllerView | undefined;
  private byId: Map<string, InstanceView> | undefined;
  private pending: (() => void)[] = [];
  /** Local calls open at the controller: their instance once dispatched (for snapshots). */
  readonly local = new Map<string, { call: LlmCall; instance: string | undefined }>();
  private held = false;
  readonly counts = { order_holds: 0 };

  constructor(
    private readonly sched: SchedulingPolicy,
    private readonly disp: DispatchPolicy,
    private readonly rep: Replicator,
    /** Model seconds after which a held call is tried again (a few wall ms). */
    private readonly retry_s: number,
  ) {}

  scheduling(): SchedulingPolicy {
    const sched = this.sched;
    const wrapped: SchedulingPolicy = {
      name: sched.name,
      dynamic: sched.dynamic,
      rank: (queued, view) => {
        this.see(view);
        const call = queued.call;
        if (!this.local.has(call.id)) {
          this.local.set(call.id, { call, instance: undefined });
          this.rep.publish({ k: "a", c: call });
        }
        return sched.rank(queued, view);
      },
    };
    if (sched.enginePriority) wrapped.enginePriority = sched.enginePriority.bind(sched);
    if (sched.callDispatched) wrapped.callDispatched = sched.callDispatched.bind(sched);
    if (sched.callClosed) wrapped.callClosed = sched.callClosed.bind(sched);
    return wrapped;
  }

  dispatch(): DispatchPolicy {
    const disp = this.disp;
    const globalOrder = GLOBAL_ORDER.has(this.sched.name);
    return {
      name: disp.name,
      choose: (call, candidates, view) => {
        this.see(view);
        this.held = false;
        if (!this.rep.up) {
          const target = disp.choose(call, candidates, view);
          this.held = target === undefined;
          return target;
        }
        if (globalOrder && this.behindForeign(call, view)) {
          this.held = true;
          this.counts.order_holds++;
          return undefined;
        }
        const seen = candidates.map((c) => this.overlay(c));
        const picked = disp.choose(call, seen, view);
        this.held = picked === undefined;
        if (picked === undefined) return undefined;
        const i = seen.indexOf(picked);
        return i >= 0 ? candidates[i] : picked;
      },
      retryAt_s: (view) => {
        const inner = disp.retryAt_s?.(view);
        if (!this.held || !this.rep.up) return inner;
        return Math.min(inner ?? Infinity, view.now_s + this.retry_s);
      },
      callDispatched: (call, instance, view) => {
        disp.callDispatched?.(call, instance, view);
        const open = this.local.get(call.id);
        if (open !== undefined) open.instance = instance.spec.id;
        this.rep.publish({ k: "d", c: call, i: instance.spec.id });
      },
      callClosed: (call, instance, usage, view) => {
        disp.callClosed?.(call, instance, usage, view);
        if (!this.local.delete(call.id)) return;
        this.rep.publish({ k: "x", id: call.id, i: instance?.spec.id ?? null, u: usage ?? null });
      },
    };
  }

  /** The replica's open calls, for the snapshot it sends after an outage. */
  openCalls(): { c: LlmCall; i: string | null }[] {
    return [...this.local.values()].map((o) => ({ c: o.call, i: o.instance ?? null }));
  }

  /** Calls in flight per instance, this replica's (its heartbeat). */
  localOutstanding(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const o of this.local.values()) if (o.instance !== undefined) out[o.instance] = (out[o.instance] ?? 0) + 1;
    return out;
  }

  arrived(call: LlmCall): void {
    this.later((view) => this.sched.rank(foreignQueued(call), view));
  }

  dispatched(call: LlmCall, instance: string): void {
    this.later((view) => {
      const target = this.byId!.get(instance);
      if (target === undefined) return; // an instance this replica's config lacks
      this.sched.callDispatched?.(call, target, view);
      this.disp.callDispatched?.(call, target, view);
    });
  }

  closed(call: LlmCall, instance: string | undefined, usage: CallUsage | undefined): void {
    this.later((view) => {
      const target = instance === undefined ? undefined : this.byId!.get(instance);
      this.sched.callClosed?.(call, target, usage, view);
      this.disp.callClosed?.(call, target, usage, view);
    });
  }

  /** A local call is behind a foreign call still waiting at a live replica, by the shared rank. */
  private behindForeign(call: LlmCall, view: ControllerView): boolean {
    let mine: number | undefined;
    const now = performance.now();
    for (const f of this.rep.waitingForeign()) {
      if (f.instance !== undefined || now - f.seen_ms > ORDER_HOLD_MAX_MS) continue;
      mine ??= this.sched.rank(foreignQueued(call), view);
      if (this.sched.rank(foreignQueued(f.call), view) < mine) return true;
    }
    return false;
  }

  private overlay(instance: InstanceView): InstanceView {
    const remote = this.rep.remoteOutstanding(instance.spec.id);
    if (remote === undefined || remote.calls === 0) return instance;
    const seen = Object.create(instance) as InstanceView;
    seen.outstanding = instance.outstanding + remote.calls;
    seen.outstanding_tokens = instance.outstanding_tokens + remote.tokens;
    return seen;
  }

  private see(view: ControllerView): void {
    if (this.view !== undefined) return;
    this.view = view;
    this.byId = new Map(view.instances.map((i) => [i.spec.id, i]));
    const pending = this.pending;
    this.pending = [];
    for (const apply of pending) apply();
  }

  private later(apply: (view: ControllerView) => void): void {
    const view = this.view;
    if (view !== undefined) {
      apply(view);
      return;
    }
    if (this.pending.length < PENDING_MAX) this.pending.push(() => apply(this.view!));
  }
}

function foreignQueued(call: LlmCall): QueuedCall {
  return { call, seq: -1, enqueued_s: call.arrival_s };
}
