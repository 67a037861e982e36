import type { InstanceSnapshot, LlmCall } from "./types.ts";
import type { ControllerView, InstanceState, InstanceView, QueuedCall } from "./view.ts";

/** Decision records (`--decisions FILE`, docs/decisions.md): why each call went where it went.
 *  The controller builds them only when a host asks (ControllerOptions.onDecision) and hands them
 *  over as data; hosts write them. */

/** One candidate instance as the dispatch policy saw it, with what the policy made of it. */
export interface CandidateRecord {
  instance: string;
  state: InstanceState;
  /** The router's own bookkeeping: calls and tokens it sent there that have not closed. */
  outstanding: number;
  outstanding_tokens: number;
  /** The last observed snapshot (running, waiting, KV use, …) and its age; null if never observed. */
  observed: { running: number; waiting: number; kv_usage: number; preemptions: number; age_s: number } | null;
  /** The policy's score for it (from its `explain` hook; lower is better unless the policy says). */
  score?: number;
  /** The score's terms, by name. */
  terms?: Record<string, number>;
}

/** A call's rank at the controller and what went into it. */
export interface RankRecord {
  value: number;
  /** Generic inputs (waited_s, prompt_tokens, remaining_critical_path_s for workflow calls) and the
   *  scheduling policy's own terms (its `explain` hook). */
  inputs: Record<string, number>;
}

interface CallIdentity {
  at_s: number;
  call: string;
  workflow?: string;
  step?: string;
  agent?: string;
  model?: string;
}

export type DecisionRecord =
  /** A call entered the controller's queue (on arrival, or again after a retryable failure). */
  | (CallIdentity & { kind: "enqueue"; policy: string; rank: RankRecord; queue_length: number })
  /** The dispatch policy sent the call to `chosen`. */
  | (CallIdentity & { kind: "dispatch"; policy: string; rank: RankRecord; waited_s: number; held_s?: number; candidates: CandidateRecord[]; chosen: string; reason?: string })
  /** The call at the head of its queue was held (recorded when a hold begins or its reason changes). */
  | (CallIdentity & { kind: "hold"; policy: string; rank: RankRecord; candidates: CandidateRecord[]; reason: string; retry_at_s?: number })
  /** A user policy threw; the call went to the fallback policy instead (live and gateway). */
  | (CallIdentity & { kind: "policy_error"; policy: string; hook: string; error: string; fallback: string });

/** What a dispatch policy reports about one decision, when asked (its optional `explain` hook,
 *  called just before `choose` with the same arguments, only while decisions are traced). */
export interface DispatchExplanation {
  /** One score per candidate, in the candidates' order. */
  scores?: readonly number[];
  /** Named score terms per candidate, in the candidates' order. */
  terms?: readonly Record<string, number>[];
  /** Why it chooses or holds, in a few words ("every instance at max_concurrency"). */
  reason?: string;
}

export function callIdentity(at_s: number, call: LlmCall): CallIdentity {
  const id: CallIdentity = { at_s, call: call.id };
  if (call.workflow_id !== undefined) id.workflow = call.workflow_id;
  if (call.step_id !== undefined) id.step = call.step_id;
  if (call.agent !== undefined) id.agent = call.agent;
  if (call.model !== undefined) id.model = call.model;
  return id;
}

export function candidateRecords(candidates: readonly InstanceView[], now_s: number, explanation: DispatchExplanation | undefined): CandidateRecord[] {
  return candidates.map((c, i) => {
    const o: InstanceSnapshot | undefined = c.observed;
    const record: CandidateRecord = {
      instance: c.spec.id,
      state: c.state,
      outstanding: c.outstanding,
      outstanding_tokens: c.outstanding_tokens,
      observed: o ? { running: o.running, waiting: o.waiting, kv_usage: o.kv_usage, preemptions: o.preemptions, age_s: now_s - o.at_s } : null,
    };
    const score = explanation?.scores?.[i];
    if (score !== undefined) record.score = score;
    const terms = explanation?.terms?.[i];
    if (terms !== undefined) record.terms = terms;
    return record;
  });
}

/** The rank and its inputs: generic ones every policy may read, then the policy's own terms. */
export function rankRecord(value: number, queued: QueuedCall, view: ControllerView, terms: Record<string, number> | undefined): RankRecord {
  const call = queued.call;
  const inputs: Record<string, number> = { waited_s: view.now_s - queued.enqueued_s, prompt_tokens: call.prompt_tokens };
  if (call.workflow_id !== undefined) inputs.remaining_critical_path_s = view.workflows.remainingCriticalPath_s(call.workflow_id);
  if (terms) Object.assign(inputs, terms);
  return { value, inputs };
}
