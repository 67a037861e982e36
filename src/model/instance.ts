import type { InstanceSpec } from "../core/types.ts";
import type { MemoryShare } from "./colocation.ts";
import type { EngineConfig } from "./engine-config.ts";
import type { LatencyModel } from "./latency-model.ts";

/** One instance as the cluster config defines it: what the router knows of it (spec) plus how its
 *  engine behaves (knobs, KV capacity, latency model). Both hosts build their instances from it. */
export interface ConfiguredInstance {
  spec: InstanceSpec;
  engine: EngineConfig;
  num_gpu_blocks: number;
  latency: LatencyModel;
  /** Set when the instance shares GPUs with others (config `colocate`): its KV pool is elastic. */
  memory?: MemoryShare;
}
