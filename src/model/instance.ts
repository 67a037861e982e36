import type { InstanceSpec } from "../core/types.ts";
import type { MemoryShare } from "./colocation.ts";
import type { EngineConfig } from "./engine-config.ts";
import type { LatencyModel } from "./latency-model.ts";
import type { ModelSpec } from "./models.ts";

/** One instance as the cluster config defines it: what the router knows of it (spec) plus how its
 *  engine behaves (knobs, KV capacity, latency model). Both hosts build their instances from it. */
export interface ConfiguredInstance {
  spec: InstanceSpec;
  engine: EngineConfig;
  num_gpu_blocks: number;
  latency: LatencyModel;
  /** Set when the instance shares GPUs with others (config `colocate`): its KV pool is elastic. */
  memory?: MemoryShare;
  /** Set when the model came from a HuggingFace config.json rather than a preset: the path as the
   *  config wrote it and the shapes read (reports record them: no preset name brings them back). */
  model_file?: { path: string; spec: ModelSpec };
}
