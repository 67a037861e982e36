/** Drives one Engine directly, the way sim/host.ts does (enqueue, startStep → duration, finishStep),
 *  with a clock the test controls and a linear step time: 5 ms + 0.1 ms per prefill token + 0.2 ms
 *  per decode. Used by the tier, reorder and resize tests. */
import type { LlmCall, PromptSegment } from "../../src/core/types.ts";
import { PrefixInterner, SegmentTokenIdentity } from "../../src/core/prefix-identity.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "../../src/model/engine-config.ts";
import { Engine, type EngineListener } from "../../sim/engine/engine.ts";
import type { EngineRequest } from "../../sim/engine/request.ts";
import { FittedLatencyModel } from "../../src/model/fitted.ts";

export const OVERHEAD_S = 0.005;
export const PER_PREFILL_TOKEN_S = 0.0001;

/** The harness's linear step time; `per_kv_token_s` adds a term that grows with the context. */
export function linearLatency(per_kv_token_s = 0): FittedLatencyModel {
  return new FittedLatencyModel({
    schema: "tandem.latency/v1",
    kind: "fitted",
    model: "t",
    gpu: "t",
    tensor_parallel: 1,
    coefficients: { overhead_s: OVERHEAD_S, per_prefill_token_s: PER_PREFILL_TOKEN_S, per_attention_pair_s: 0, per_decode_seq_s: 0.0002, per_kv_token_s },
  });
}

export interface HarnessLog {
  first: string[];
  finished: string[];
  rejected: [string, string][];
}

export function harness(engine: Partial<EngineConfig>, blocks: number, max_model_len = 4096) {
  const latency = linearLatency();
  const log: HarnessLog = { first: [], finished: [], rejected: [] };
  const listener: EngineListener = {
    firstToken: (_t, r) => log.first.push(r.id),
    tokenGaps: () => {},
    finished: (_t, r) => log.finished.push(r.id),
    rejected: (_t, r, reason) => log.rejected.push([r.id, reason]),
  };
  const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...engine };
  const e = new Engine("e0", config, max_model_len, blocks, latency, listener);
  const interner = new PrefixInterner();
  const requests = new Map<string, EngineRequest>();
  const h = {
    engine: e,
    config,
    log,
    requests,
    now: 0,
    /** Step durations, in order. */
    durations: [] as number[],
    call(id: string, prompt: number, output: number, segments?: PromptSegment[], priority = 0): LlmCall {
      return { id, arrival_s: h.now, prompt_tokens: prompt, output_tokens: output, segments: segments ?? [{ tokens: prompt }], priority };
    },
    identity(call: LlmCall): SegmentTokenIdentity {
      return new SegmentTokenIdentity(call, interner);
    },
    add(id: string, prompt: number, output: number, segments?: PromptSegment[], priority = 0): EngineRequest {
      const call = h.call(id, prompt, output, segments, priority);
      const request = e.enqueue(h.now, call, priority, h.identity(call));
      requests.set(id, request);
      return request;
    },
    /** Runs one step; returns its duration, or undefined when there was nothing to run. */
    step(): number | undefined {
      const d = e.startStep(h.now);
      if (d === undefined) return undefined;
      if (!(d > 0 && d < Infinity)) throw new Error(`bad step time ${d}`);
      h.durations.push(d);
      h.now += d;
      e.finishStep(h.now);
      return d;
    },
    drain(maxSteps = 100_000): void {
      for (let i = 0; i < maxSteps; i++) {
        if (h.step() === undefined) {
          if (e.hasWork) throw new Error("engine has work but schedules nothing");
          return;
        }
      }
      throw new Error("engine did not drain");
    },
  };
  return h;
}

/** Recompute time of `tokens` prefill tokens in the harness's latency model. */
export function prefillTime(tokens: number): number {
  return tokens * PER_PREFILL_TOKEN_S;
}
