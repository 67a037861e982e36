/** A scripted five-call run shared by the recorder, report and table tests. Times are multiples of
 *  1/8 s so that every expected latency is an exact double. */
import type { InstanceSpec, LlmCall } from "../../src/core/types.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { Recorder, type SloConfig } from "../../src/metrics/recorder.ts";

export const SLO: SloConfig = { ttft_s: 0.75, tpot_s: 0.2, e2e_s: 2 };

export const SPECS: InstanceSpec[] = [
  { id: "i1", model: "llama-8b", gpu: "H100", tensor_parallel: 1, max_model_len: 8192, kv_capacity_tokens: 100_000 },
  { id: "i2", model: "llama-8b", gpu: "A100", tensor_parallel: 2, max_model_len: 8192, kv_capacity_tokens: 200_000 },
];

export function call(id: string, arrival_s: number, prompt_tokens: number, output_tokens: number): LlmCall {
  return { id, arrival_s, prompt_tokens, output_tokens, segments: [{ tokens: prompt_tokens }], model: "llama-8b", tenant: "t1" };
}

/**  A: arrive 0, dispatch 0.25 → i1, first token 0.5, chunks at 0.75 and 1.0, finish 1.0 (4 tokens)
 *  B: arrive 0.5, dispatch 0.5 → i2, first token 1.5, finish 1.5 (1 token, 1 preemption)
 *  C: arrive 1, dispatch 1.25 → i1, retried 1.5 → i2, first token 2, chunk 2.5, finish 2.5 (5 tokens)
 *  D: arrive 2, rejected at 2 ("queue full")
 *  E: arrive 2, dispatch 2.25 → i1, failed at 4 ("timeout") */
export function runScript(): { recorder: Recorder; rows: CallRow[] } {
  const rows: CallRow[] = [];
  const r = new Recorder({ slo: SLO, onCallClosed: (row) => rows.push(row) });
  r.callArrived(0, call("A", 0, 100, 4));
  r.callDispatched(0.25, "A", "i1");
  r.callFirstToken(0.5, "A");
  r.callArrived(0.5, call("B", 0.5, 50, 1));
  r.callDispatched(0.5, "B", "i2");
  r.callTokens(0.75, "A", 2);
  r.callTokens(1, "A", 1);
  r.callFinished(1, "A", { prompt_tokens: 100, cached_tokens: 32, output_tokens: 4, preemptions: 0 });
  r.instanceObserved(snap("i1", 1, 0.5, 100, 32, 0));
  r.callArrived(1, call("C", 1, 200, 5));
  r.callDispatched(1.25, "C", "i1");
  r.callFirstToken(1.5, "B");
  r.callFinished(1.5, "B", { prompt_tokens: 50, cached_tokens: 0, output_tokens: 1, preemptions: 1 });
  r.callDispatched(1.5, "C", "i2");
  r.callFirstToken(2, "C");
  r.callArrived(2, call("D", 2, 9000, 10));
  r.callRejected(2, "D", "queue full");
  r.callArrived(2, call("E", 2, 10, 10));
  r.instanceObserved(snap("i2", 2, 0.75, 250, 100, 1));
  r.instanceObserved(snap("i2", 1, 0.9, 50, 0, 0)); // a stale scrape arriving late
  r.callDispatched(2.25, "E", "i1");
  r.callTokens(2.5, "C", 4);
  r.callFinished(2.5, "C", { prompt_tokens: 200, cached_tokens: 64, output_tokens: 5, preemptions: 0 });
  r.instanceObserved(snap("i1", 3, 0.25, 300, 64, 0));
  r.callFailed(4, "E", "timeout");
  return { recorder: r, rows };
}

function snap(instance: string, at_s: number, kv_usage: number, queried: number, hits: number, preemptions: number) {
  return {
    instance,
    at_s,
    running: 1,
    waiting: 0,
    kv_usage,
    prefix_queried_tokens: queried,
    prefix_hit_tokens: hits,
    preemptions,
    awake: true,
  };
}
