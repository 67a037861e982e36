import type { RequestSpec } from "../../src/core/types.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import { RngStreams } from "../../src/core/rng.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "../../src/model/engine-config.ts";
import { simulate, type SimulationResult } from "../../sim/host.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { FittedLatencyModel } from "../../src/model/fitted.ts";
import type { LatencyModel } from "../../src/model/latency-model.ts";

/** A simple, exactly known step time: 5 ms + 0.1 ms per prefill token + 0.2 ms per decode. */
export function linearLatency(): LatencyModel {
  return new FittedLatencyModel({
    schema: "tandem.latency/v1",
    kind: "fitted",
    model: "test",
    gpu: "test",
    tensor_parallel: 1,
    coefficients: {
      overhead_s: 0.005,
      per_prefill_token_s: 0.0001,
      per_attention_pair_s: 0,
      per_decode_seq_s: 0.0002,
      per_kv_token_s: 0,
    },
  });
}

export function testInstances(count: number, engine: Partial<EngineConfig>, num_gpu_blocks: number, max_model_len = 4096): ConfiguredInstance[] {
  const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...engine };
  return Array.from({ length: count }, (_, i) => ({
    spec: {
      id: `i${i}`,
      model: "test-model",
      gpu: "test-gpu",
      tensor_parallel: 1,
      max_model_len,
      kv_capacity_tokens: num_gpu_blocks * config.block_size,
    },
    engine: config,
    num_gpu_blocks,
    latency: linearLatency(),
  }));
}

export async function* asBatches(requests: RequestSpec[], size = 7): AsyncGenerator<RequestSpec[]> {
  for (let i = 0; i < requests.length; i += size) yield requests.slice(i, i + size);
}

export interface TestRun {
  rows: CallRow[];
  recorder: Recorder;
  result: SimulationResult;
}

export async function runTestCluster(
  requests: RequestSpec[],
  instances: ConfiguredInstance[],
  options: { dispatch?: string; scheduling?: string; seed?: number; oracle?: boolean } = {},
): Promise<TestRun> {
  const rows: CallRow[] = [];
  const recorder = new Recorder({ slo: {}, onCallClosed: (row) => rows.push(row) });
  const result = await simulate(asBatches(requests), {
    instances,
    scheduling: createSchedulingPolicy(options.scheduling ?? "fcfs"),
    dispatch: createDispatchPolicy(options.dispatch ?? "least-outstanding"),
    recorder,
    rng: new RngStreams(options.seed ?? 1),
    observability: { mode: options.oracle ? "oracle" : "scraped", interval_s: 0.05 },
  });
  return { rows, recorder, result };
}
