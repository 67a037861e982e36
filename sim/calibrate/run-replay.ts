import { PrefixInterner, SegmentTokenIdentity } from "../../src/core/prefix-identity.ts";
import type { LlmCall } from "../../src/core/types.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import type { LatencyModel } from "../../src/model/latency-model.ts";
import { Engine, type EngineListener } from "../engine/engine.ts";
import type { RunCall } from "./run-record.ts";

/** A replayed call's times as its client would have seen them (model seconds). */
export interface ReplayedTimes {
  first_token_s: number;
  finished_s: number;
}

/** Replays the calls one instance served through the simulator's engine with `latency`: each call
 *  reaches the engine at its recorded dispatch + the API latency, in the recorded order, and its
 *  tokens reach the client one API latency after the step that sampled them — the emulator's and
 *  vLLM's timeline, without the router (each call stays on the instance that served it). Returns
 *  each call's first-token and finish times; NaN for a call the engine refused. */
export function replayInstance(instance: ConfiguredInstance, latency: LatencyModel, calls: readonly RunCall[], api_latency_s: number): Map<string, ReplayedTimes> {
  const out = new Map<string, ReplayedTimes>();
  const listener: EngineListener = {
    firstToken: (at_s, request) => {
      out.set(request.call.id, { first_token_s: at_s + api_latency_s, finished_s: Number.NaN });
    },
    tokenGaps: () => {},
    finished: (at_s, request) => {
      const t = out.get(request.call.id);
      if (t !== undefined) t.finished_s = at_s + api_latency_s;
    },
    rejected: (_at_s, request) => {
      out.set(request.call.id, { first_token_s: Number.NaN, finished_s: Number.NaN });
    },
  };
  const engine = new Engine(instance.spec.id, instance.engine, instance.spec.max_model_len, instance.num_gpu_blocks, latency, listener);
  const interner = new PrefixInterner();
  const arrivals = calls.map((c) => ({ at_s: c.dispatched_s + api_latency_s, call: llmCall(c, instance.spec.model) })).sort((a, b) => a.at_s - b.at_s || a.call.id.localeCompare(b.call.id));
  let next = 0;
  let stepEnd = Infinity;
  let startAt = Infinity;
  // As the emulator's engine loop: arrivals first at equal times, then a pending start, then a step end.
  for (;;) {
    const arrival = next < arrivals.length ? arrivals[next].at_s : Infinity;
    const t = Math.min(arrival, stepEnd, startAt);
    if (t === Infinity) break;
    if (arrival <= stepEnd && arrival <= startAt) {
      const a = arrivals[next++];
      engine.enqueue(a.at_s, a.call, 0, new SegmentTokenIdentity(a.call, interner));
      if (!engine.busy && startAt === Infinity && engine.hasWork) startAt = a.at_s;
    } else if (startAt <= stepEnd) {
      startAt = Infinity;
      if (!engine.busy) stepEnd = step(engine, t);
    } else {
      engine.finishStep(stepEnd);
      stepEnd = engine.hasWork ? step(engine, stepEnd) : Infinity;
    }
  }
  return out;
}

function step(engine: Engine, at_s: number): number {
  const d = engine.startStep(at_s);
  return d === undefined ? Infinity : at_s + d;
}

function llmCall(c: RunCall, model: string): LlmCall {
  return {
    id: c.id,
    arrival_s: c.dispatched_s,
    prompt_tokens: c.prompt_tokens,
    output_tokens: c.output_tokens,
    segments: c.segments ?? [{ tokens: c.prompt_tokens }],
    model,
  };
}
