import type { DispatchPolicy } from "./dispatch/policy.ts";
import type { SchedulingPolicy } from "./scheduling/policy.ts";
import type { LlmCall } from "../core/types.ts";

/** A user policy's method threw: which file, which method, for which call, at what model time. */
export interface PolicyFault {
  file: string;
  policy: string;
  hook: string;
  call: LlmCall | undefined;
  at_s: number;
  error: unknown;
}

/** What a guarded policy does when its policy throws: `"stop"` rethrows (the simulator: a bug in a
 *  policy must not be averaged into results), or a fallback takes the call over (live and the
 *  gateway, where the calls are real). `onFault` hears every fault before either happens. */
export interface GuardOptions<T> {
  file: string;
  fallback: T | undefined;
  onFault: (fault: PolicyFault) => void;
}

/** The fault as one line: `FILE: choose threw for call c-3 at t=1.234567 s: TypeError: … (FILE:12:7)`. */
export function describeFault(fault: PolicyFault): string {
  const error = fault.error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const where = error instanceof Error ? userFrame(error.stack, fault.file) : undefined;
  const call = fault.call ? ` for call ${fault.call.id}` : "";
  return `${fault.file}: ${fault.policy}.${fault.hook} threw${call} at t=${fault.at_s.toFixed(6)} s: ${message.split("\n")[0]}${where ? ` (${where})` : ""}`;
}

/** The first stack frame inside the policy file, as `file:line:col`. */
function userFrame(stack: string | undefined, file: string): string | undefined {
  if (!stack) return undefined;
  const base = file.replace(/^.*[\\/]/, "");
  for (const line of stack.split("\n").slice(1)) {
    if (!line.includes(base)) continue;
    const m = /([^\s(]+:\d+:\d+)\)?\s*$/.exec(line);
    if (m) return m[1].replace(/^file:\/\//, "");
  }
  return undefined;
}

/** The dispatch policy with every method guarded (see GuardOptions). */
export function guardDispatchPolicy(policy: DispatchPolicy, options: GuardOptions<DispatchPolicy>): DispatchPolicy {
  const { fallback, onFault, file } = options;
  const fault = (hook: string, call: LlmCall | undefined, at_s: number, error: unknown) => onFault({ file, policy: policy.name, hook, call, at_s, error });
  const guarded: DispatchPolicy = {
    name: policy.name,
    choose(call, candidates, view) {
      try {
        return policy.choose(call, candidates, view);
      } catch (error) {
        fault("choose", call, view.now_s, error);
        if (!fallback) throw error;
        return fallback.choose(call, candidates, view);
      }
    },
    callDispatched(call, instance, view) {
      try {
        policy.callDispatched?.(call, instance, view);
      } catch (error) {
        fault("callDispatched", call, view.now_s, error);
        if (!fallback) throw error;
      }
      fallback?.callDispatched?.(call, instance, view);
    },
    callClosed(call, instance, usage, view) {
      try {
        policy.callClosed?.(call, instance, usage, view);
      } catch (error) {
        fault("callClosed", call, view.now_s, error);
        if (!fallback) throw error;
      }
      fallback?.callClosed?.(call, instance, usage, view);
    },
  };
  const retryAt = policy.retryAt_s;
  if (retryAt) {
    guarded.retryAt_s = (view) => {
      try {
        return retryAt.call(policy, view);
      } catch (error) {
        fault("retryAt_s", undefined, view.now_s, error);
        if (!fallback) throw error;
        return undefined;
      }
    };
  }
  const explain = policy.explain;
  if (explain) {
    // An explanation that fails is left out of the trace; it never changes a decision.
    guarded.explain = (call, candidates, view) => {
      try {
        return explain.call(policy, call, candidates, view);
      } catch {
        return { reason: "explain threw" };
      }
    };
  }
  return guarded;
}

/** The scheduling policy with every method guarded; a rank that throws falls back to arrival order
 *  (first come, first served) when a fallback is wanted. */
export function guardSchedulingPolicy(policy: SchedulingPolicy, options: GuardOptions<SchedulingPolicy>): SchedulingPolicy {
  const { fallback, onFault, file } = options;
  const fault = (hook: string, call: LlmCall | undefined, at_s: number, error: unknown) => onFault({ file, policy: policy.name, hook, call, at_s, error });
  const guarded: SchedulingPolicy = {
    name: policy.name,
    dynamic: policy.dynamic,
    rank(queued, view) {
      try {
        return policy.rank(queued, view);
      } catch (error) {
        fault("rank", queued.call, view.now_s, error);
        if (!fallback) throw error;
        return fallback.rank(queued, view);
      }
    },
    callDispatched(call, instance, view) {
      try {
        policy.callDispatched?.(call, instance, view);
      } catch (error) {
        fault("callDispatched", call, view.now_s, error);
        if (!fallback) throw error;
      }
    },
    callClosed(call, instance, usage, view) {
      try {
        policy.callClosed?.(call, instance, usage, view);
      } catch (error) {
        fault("callClosed", call, view.now_s, error);
        if (!fallback) throw error;
      }
    },
  };
  const enginePriority = policy.enginePriority;
  if (enginePriority) {
    guarded.enginePriority = (queued, view) => {
      try {
        return enginePriority.call(policy, queued, view);
      } catch (error) {
        fault("enginePriority", queued.call, view.now_s, error);
        if (!fallback) throw error;
        return undefined;
      }
    };
  }
  const explain = policy.explain;
  if (explain) {
    guarded.explain = (queued, view) => {
      try {
        return explain.call(policy, queued, view);
      } catch {
        return {};
      }
    };
  }
  return guarded;
}
