import { z } from "zod";
import { InputError } from "../../core/errors.ts";
import type { InstanceView } from "../../core/view.ts";
import type { DispatchPolicy } from "./policy.ts";

/** The hold's own options, accepted by every dispatch policy next to its parameters. */
export const WAITING_HOLD_PARAMS = z.strictObject({
  /** Skip instances that report waiting requests; the call waits in the controller's ranked queue. */
  hold_when_waiting: z.boolean(),
  /** An instance whose reports have shown waiting requests without a break for this long (or whose
   *  last report is this old) is taken as stuck and stops holding calls back. */
  max_waiting_s: z.number().positive().default(30),
});

export type WaitingHoldParams = z.infer<typeof WAITING_HOLD_PARAMS>;

const HOLD_KEYS = ["hold_when_waiting", "max_waiting_s"] as const;

/** Dispatch policies whose hold is on unless a config turns it off. */
const HOLD_BY_DEFAULT = new Set(["kairos-timeslot"]);

/** Splits the hold's keys from a dispatch policy's params: the policy's own schema sees the rest.
 *  Returns the hold options, or undefined when the hold is off. */
export function takeWaitingHoldParams(name: string, params: Record<string, unknown>, where: string): { rest: Record<string, unknown>; hold: WaitingHoldParams | undefined } {
  const rest: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if ((HOLD_KEYS as readonly string[]).includes(key)) own[key] = value;
    else rest[key] = value;
  }
  if (own.hold_when_waiting === undefined) own.hold_when_waiting = HOLD_BY_DEFAULT.has(name);
  const parsed = WAITING_HOLD_PARAMS.safeParse(own, { jitless: true }); // once per policy: skip compiling a fast path
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${where}: ${name} params.${issue.path.join(".")}: ${issue.message}`);
  }
  return { rest, hold: parsed.data.hold_when_waiting ? parsed.data : undefined };
}

/** How far above the learnt full size the hold lets an instance go when its last report ran that
 *  many calls without a queue (a fraction of the size; at least one call). */
const PROBE = 0.05;

/** What the hold knows about one instance. */
interface Seen {
  /** at_s of the snapshot the counts below are relative to. */
  snapshot_s: number;
  /** When the current unbroken run of snapshots reporting waiting requests began (NaN: none). */
  waiting_since_s: number;
  /** Running requests at the last report where the engine was seen full: a queue persisting
   *  across two reports while the running count did not grow (max_num_seqs, or KV). Undefined
   *  until seen. */
  full_at: number | undefined;
  /** Running requests at the previous report. */
  running: number;
  /** Dispatch and close times of calls here, newer than `snapshot_s`. */
  sent: number[];
  closed: number[];
}

/** Wraps `inner` with Kairos's waiting hold: an instance whose last report shows waiting requests is
 *  not a candidate, so the call stays in the controller's ranked queue (where the scheduling policy
 *  orders it) instead of the engine's queue (where vLLM serves it in arrival order). Reports lag, so
 *  between two reports the router also counts what it sent since the last one: once an instance has
 *  been seen full (a queue persisting over two reports beside R running, R not growing; the latest
 *  such R), it is skipped while last-reported running + sent − closed since that report ≥ R — or
 *  ≥ R + 5% when that report ran R or more with no queue, so that an estimate learnt from a
 *  transient (a batch of long calls) can rise again. When no instance is a candidate the call is held; it is
 *  retried on the next report (the engines keep working, waiting clears, a report says so).
 *  Progress: an instance that keeps reporting waiting requests for `max_waiting_s` without a break,
 *  or whose last report is that old, is no longer skipped, and the controller is woken when that
 *  happens — so a stuck or silent instance cannot hold calls forever.
 *  Source: Kairos's released load balancer (per-request priority queue at the balancer; instances
 *  reporting waiting requests are skipped until their queue clears). */
export function withWaitingHold(inner: DispatchPolicy, params: WaitingHoldParams): DispatchPolicy {
  const seen: Seen[] = [];
  const limit = params.max_waiting_s;

  const seenOf = (instance: InstanceView): Seen => {
    let s = seen[instance.index];
    if (!s) {
      s = { snapshot_s: -Infinity, waiting_since_s: Number.NaN, full_at: undefined, running: 0, sent: [], closed: [] };
      seen[instance.index] = s;
    }
    const snapshot = instance.observed;
    if (snapshot && snapshot.at_s > s.snapshot_s) {
      s.snapshot_s = snapshot.at_s;
      if (snapshot.waiting > 0) {
        // A request that arrived during the engine's current step waits until the next one without
        // the batch being full, and a burst is admitted over several steps (the prefill token
        // budget) with the running count rising; a queue still there one report later beside a
        // running count that did not grow is a full batch. The latest such count, not the largest:
        // a KV-bound batch holds fewer long calls than short ones.
        if (Number.isNaN(s.waiting_since_s)) s.waiting_since_s = snapshot.at_s;
        else if (snapshot.running <= s.running) s.full_at = snapshot.running;
      } else {
        s.waiting_since_s = Number.NaN;
        if (s.full_at !== undefined && snapshot.running > s.full_at) s.full_at = snapshot.running;
      }
      s.running = snapshot.running;
      s.sent = s.sent.filter((t) => t > snapshot.at_s);
      s.closed = s.closed.filter((t) => t > snapshot.at_s);
    }
    return s;
  };

  /** Whether the hold lets a call go to `instance` now. */
  const open = (instance: InstanceView, now: number): boolean => {
    const snapshot = instance.observed;
    if (!snapshot) return true; // nothing reported yet: nothing to hold on
    const s = seenOf(instance);
    if (now - snapshot.at_s >= limit) return true; // silent instance
    if (snapshot.waiting > 0) return now - s.waiting_since_s >= limit; // stuck reporting waiting
    if (s.full_at === undefined) return true;
    // The last report ran at least full_at calls with no queue: the estimate may be low, so probe
    // a little above it (the cap would otherwise keep the running count from ever showing more).
    const cap = snapshot.running >= s.full_at ? s.full_at + Math.max(1, Math.ceil(PROBE * s.full_at)) : s.full_at;
    return snapshot.running + s.sent.length - s.closed.length < Math.max(1, cap);
  };

  /** The earliest time a skipped instance stops being skipped by the `max_waiting_s` rule. */
  let wakeAt_s = Number.POSITIVE_INFINITY;

  return {
    ...inner, // keeps a policy's own extras (model-route's groupSizes)
    choose(call, candidates, view) {
      const now = view.now_s;
      const eligible = candidates.filter((c) => open(c, now));
      if (eligible.length === 0) {
        wakeAt_s = Number.POSITIVE_INFINITY;
        for (const c of candidates) {
          const s = seenOf(c);
          const snapshot = c.observed!;
          const lift = Math.min(snapshot.at_s + limit, Number.isNaN(s.waiting_since_s) ? Number.POSITIVE_INFINITY : s.waiting_since_s + limit);
          wakeAt_s = Math.min(wakeAt_s, lift);
        }
        return undefined;
      }
      wakeAt_s = Number.POSITIVE_INFINITY;
      return inner.choose(call, eligible, view);
    },
    retryAt_s(view) {
      const innerRetry = inner.retryAt_s?.(view);
      const own = wakeAt_s > view.now_s && wakeAt_s < Number.POSITIVE_INFINITY ? wakeAt_s : undefined;
      if (innerRetry === undefined) return own;
      return own === undefined ? innerRetry : Math.min(innerRetry, own);
    },
    instanceObserved(snapshot, instance, view) {
      seenOf(instance);
      inner.instanceObserved?.(snapshot, instance, view);
    },
    callDispatched(call, instance, view) {
      seenOf(instance).sent.push(view.now_s);
      inner.callDispatched?.(call, instance, view);
    },
    callClosed(call, instance, usage, view) {
      if (instance) seenOf(instance).closed.push(view.now_s);
      inner.callClosed?.(call, instance, usage, view);
    },
  };
}
