import { z } from "zod";
import type { LlmCall } from "../../core/types.ts";
import type { ControllerView, InstanceView } from "../../core/view.ts";
import type { DispatchPolicy } from "./policy.ts";

export const KAIROS_TIMESLOT_PARAMS = z.strictObject({
  /** Length of one time slot. */
  slot_s: z.number().positive().default(0.5),
  /** Fraction of an instance's KV capacity the prediction may fill in any slot. */
  headroom: z.number().gt(0).lte(1).default(0.95),
  /** Smoothing of the bias correction: new bias = w × latest error + (1 − w) × old bias. */
  bias_weight: z.number().min(0).max(1).default(0.5),
  /** Predicted output of a call whose agent has no profile yet. */
  default_output_tokens: z.number().int().positive().default(256),
  /** Fallback duration when there is no expected latency: prompt / this rate … */
  fallback_prefill_tokens_per_s: z.number().positive().default(8000),
  /** … + predicted output × this time per output token. */
  fallback_tpot_s: z.number().positive().default(0.03),
  /** Most slots checked ahead for one call (bounds the work for very long predictions). */
  max_slots: z.number().int().positive().default(256),
});

export type KairosTimeslotParams = z.infer<typeof KAIROS_TIMESLOT_PARAMS>;

/** A call the router sent to an instance, as the policy predicts it. */
interface Tracked {
  readonly prompt_tokens: number;
  readonly output_tokens: number;
  /** Decode slope: predicted output tokens per second. */
  readonly slope: number;
  readonly start_s: number;
  /** Predicted end (start + predicted duration). */
  readonly predicted_end_s: number;
  /** When it closed; Infinity while open. */
  closed_s: number;
}

interface InstanceState {
  readonly open: Map<string, Tracked>;
  /** Recently closed calls, kept until an observation after their close: the prediction for a past
   *  observation time counts exactly the calls in flight then. */
  closed: Tracked[];
  bias_tokens: number;
  observed_s: number;
}

const MAX_RECENTLY_CLOSED = 4096;

/** Predicted KV tokens of a call at time t (t ≥ its start): prompt + decode slope × elapsed,
 *  capped at prompt + predicted output. */
function kvAt(c: Tracked, t: number): number {
  return c.prompt_tokens + Math.min(c.output_tokens, c.slope * Math.max(0, t - c.start_s));
}

/** kairos-timeslot — memory-aware time-slot dispatch. Time is cut into slots of `slot_s`. For each
 *  instance the router tracks the calls it sent there with a predicted output (the agent's online
 *  mean, `view.workflows.predictedOutputTokens`, else `default_output_tokens`) and duration
 *  (`view.workflows.expectedCall_s`, else prompt / fallback_prefill_tokens_per_s + output ×
 *  fallback_tpot_s); a call's KV grows from its prompt by output/duration tokens per second until
 *  its predicted end. Predicted KV demand in a future slot = Σ over calls predicted alive in it of
 *  their KV at the slot's end (or at their end, if sooner) + a per-instance bias: whenever a new
 *  scrape is seen, error = observed kv_usage × kv_capacity_tokens − the prediction at the scrape's
 *  time (counting exactly the calls in flight then), bias ← bias_weight × error + (1 − bias_weight) ×
 *  bias. A call is admitted only where no slot over its predicted duration would exceed
 *  kv_capacity_tokens × headroom; among those the lowest predicted peak (as a fraction of capacity)
 *  wins, ties to config order. If none fits, the call is held and retried at the next slot boundary
 *  (`retryAt_s`) or on any earlier event. Calls leave the prediction when they close.
 *  Two rules keep every call moving: a call still open past its predicted end counts as alive until
 *  the end of the current slot (so memory is never assumed free before the call closes), and an
 *  instance with none of the router's calls in flight admits any call, bias ignored — so a call
 *  larger than the headroom, or a stale scrape, can never hold the queue forever.
 *  Source: Kairos (multi-agent LLM serving): memory-aware time-slot dispatch with predicted per-slot
 *  KV demand corrected by the instances' reported usage. */
export function createKairosTimeslot(params: KairosTimeslotParams): DispatchPolicy {
  const states: InstanceState[] = [];
  const slot = params.slot_s;
  // Per-slot demand, reused between calls (sized max_slots).
  const demand = new Float64Array(params.max_slots);

  /** Where each tracked open call was sent. */
  const sentTo = new Map<string, InstanceState>();

  const forget = (callId: string): Tracked | undefined => {
    const state = sentTo.get(callId);
    if (!state) return undefined;
    sentTo.delete(callId);
    const tracked = state.open.get(callId);
    state.open.delete(callId);
    return tracked;
  };

  const stateOf = (instance: InstanceView): InstanceState => {
    let state = states[instance.index];
    if (!state) {
      state = { open: new Map(), closed: [], bias_tokens: 0, observed_s: -Infinity };
      states[instance.index] = state;
    }
    return state;
  };

  /** Folds a scrape not yet seen into the instance's bias. */
  const observe = (instance: InstanceView, state: InstanceState) => {
    const snapshot = instance.observed;
    if (!snapshot || !(snapshot.at_s > state.observed_s)) return;
    const t = snapshot.at_s;
    let predicted = 0;
    for (const c of state.open.values()) if (c.start_s <= t) predicted += kvAt(c, t);
    for (const c of state.closed) if (c.start_s <= t && t < c.closed_s) predicted += kvAt(c, t);
    const error = snapshot.kv_usage * instance.spec.kv_capacity_tokens - predicted;
    state.bias_tokens = params.bias_weight * error + (1 - params.bias_weight) * state.bias_tokens;
    state.observed_s = t;
    // Later scrapes are later in time: calls closed by now can no longer be in flight at them.
    if (state.closed.length > 0) state.closed = state.closed.filter((c) => c.closed_s > t);
  };

  const predictedOutput = (call: LlmCall, view: ControllerView) => Math.max(0, view.workflows.predictedOutputTokens(call, params.default_output_tokens));

  const predictedDuration = (call: LlmCall, output: number, view: ControllerView) => {
    const expected = view.workflows.expectedCall_s(call);
    const duration = expected > 0 && Number.isFinite(expected) ? expected : call.prompt_tokens / params.fallback_prefill_tokens_per_s + output * params.fallback_tpot_s;
    return Math.max(duration, 1e-6);
  };

  /** Predicted peak KV tokens on `instance` over slots first..first+count−1 with the new call added,
   *  or Infinity when some slot would exceed the headroom. */
  const predictedPeak = (instance: InstanceView, state: InstanceState, now: number, first: number, count: number, add: Tracked) => {
    if (state.open.size === 0) return Math.max(add.prompt_tokens + add.output_tokens, 0);
    demand.fill(state.bias_tokens, 0, count);
    const currentSlotEnd = (first + 1) * slot;
    const accumulate = (c: Tracked) => {
      // A call still open past its predicted end is alive until the end of the current slot.
      const end = c.predicted_end_s > now ? c.predicted_end_s : currentSlotEnd;
      const lastSlot = Math.min(count, Math.ceil(end / slot) - first) - 1;
      for (let k = Math.max(0, Math.floor(c.start_s / slot) - first); k <= lastSlot; k++) {
        demand[k] += kvAt(c, Math.min((first + k + 1) * slot, end));
      }
    };
    for (const c of state.open.values()) accumulate(c);
    accumulate(add);
    const limit = instance.spec.kv_capacity_tokens * params.headroom;
    let peak = 0;
    for (let k = 0; k < count; k++) {
      if (demand[k] > limit) return Infinity;
      if (demand[k] > peak) peak = demand[k];
    }
    return peak;
  };

  const track = (call: LlmCall, view: ControllerView): Tracked => {
    const now = view.now_s;
    const output = predictedOutput(call, view);
    const duration = predictedDuration(call, output, view);
    return {
      prompt_tokens: call.prompt_tokens,
      output_tokens: output,
      slope: output / duration,
      start_s: now,
      predicted_end_s: now + duration,
      closed_s: Infinity,
    };
  };

  return {
    name: "kairos-timeslot",
    choose(call, candidates, view) {
      const now = view.now_s;
      const add = track(call, view);
      const first = Math.floor(now / slot);
      const count = Math.max(1, Math.min(params.max_slots, Math.ceil(add.predicted_end_s / slot) - first));
      // The call is waiting here, so anything tracked under its id is a stale earlier attempt.
      forget(call.id);
      let best: InstanceView | undefined;
      let bestPeak = Infinity;
      for (const instance of candidates) {
        const state = stateOf(instance);
        observe(instance, state);
        const peak = predictedPeak(instance, state, now, first, count, add) / instance.spec.kv_capacity_tokens;
        if (peak < bestPeak) {
          best = instance;
          bestPeak = peak;
        }
      }
      return best;
    },
    retryAt_s(view) {
      return (Math.floor(view.now_s / slot) + 1) * slot;
    },
    callDispatched(call, instance, view) {
      forget(call.id);
      const state = stateOf(instance);
      observe(instance, state);
      state.open.set(call.id, track(call, view));
      sentTo.set(call.id, state);
    },
    callClosed(call, instance, _usage, view) {
      // A call that failed before streaming and went back to the queue never closes at its first
      // instance; its entry there is dropped when it is chosen or dispatched again (see `forget`).
      if (instance) observe(instance, stateOf(instance));
      const state = sentTo.get(call.id);
      const tracked = forget(call.id);
      if (!state || !tracked) return;
      tracked.closed_s = view.now_s;
      state.closed.push(tracked);
      if (state.closed.length > MAX_RECENTLY_CLOSED) state.closed.splice(0, state.closed.length - MAX_RECENTLY_CLOSED);
    },
  };
}
