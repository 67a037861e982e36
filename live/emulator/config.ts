import { resolve } from "node:path";
import type { ClusterConfig, EngineOverrides, InstanceGroup } from "../../src/model/cluster-schema.ts";
import { loadClusterConfig } from "../../run/config-file.ts";
import { InputError } from "../../src/core/errors.ts";
import { buildInstances } from "../../run/instances.ts";
import type { ConfiguredInstance } from "../../src/model/instance.ts";
import { gpuSpec } from "../../src/model/gpus.ts";
import { modelSpec } from "../../src/model/models.ts";

/** What the emulated instance is: a model on a GPU, with engine and latency settings taken from a
 *  cluster config's first instance group and/or given directly (direct settings win). */
export interface EmulatedInstanceOptions {
  model?: string;
  gpu?: string;
  tensorParallel?: number;
  /** A cluster config file (YAML or JSON); its first instance group, merged with the cluster-wide
   *  engine and latency settings, describes the instance (its count, colocate and max_count are
   *  ignored), and `lifecycle.sleep.wake_latency_s` sets the wake latency. */
  configFile?: string;
  /** A fitted latency model file (`tandem.latency/v1`), instead of the roofline. */
  latencyFile?: string;
  /** Engine knobs over the config's (vLLM engine argument names). */
  engine?: EngineOverrides;
}

/** vLLM /wake_up: seconds (model time) to reload the weights when no config says otherwise, as the
 *  simulator's lifecycle.sleep.wake_latency_s default. */
export const DEFAULT_WAKE_LATENCY_S = 2;

export interface EmulatedInstance {
  instance: ConfiguredInstance;
  /** The model preset's vocabulary size (token ids must be below it). */
  vocabSize: number;
  /** From the config's lifecycle.sleep.wake_latency_s, if it has one. */
  wakeLatency_s: number | undefined;
}

/** Builds the one instance the emulator serves exactly as the simulator builds a cluster's
 *  instances (sim/cluster.ts): same engine defaults, KV capacity and latency model. */
export async function resolveEmulatedInstance(options: EmulatedInstanceOptions): Promise<EmulatedInstance> {
  const cluster: ClusterConfig | undefined = options.configFile ? await loadClusterConfig(options.configFile) : undefined;
  const first = cluster?.instances[0];
  const model = options.model ?? first?.model;
  const gpu = options.gpu ?? first?.gpu;
  if (model === undefined) throw new InputError("emulate: --model is required (or a --config whose first instance group names one)");
  if (gpu === undefined) throw new InputError("emulate: --gpu is required (or a --config whose first instance group names one)");
  if (options.model !== undefined) modelSpec(options.model, "--model");
  if (options.gpu !== undefined) gpuSpec(options.gpu, "--gpu");
  const group: InstanceGroup = {
    name: first?.name,
    model,
    gpu,
    tensor_parallel: options.tensorParallel ?? first?.tensor_parallel ?? 1,
    count: 1,
    engine: { ...first?.engine, ...options.engine },
    latency: options.latencyFile ? { kind: "fitted", file: resolve(options.latencyFile) } : first?.latency,
  };
  const config: ClusterConfig = { instances: [group], engine: cluster?.engine, latency: cluster?.latency };
  const [instance] = await buildInstances(config, options.configFile ?? "emulate");
  return {
    instance,
    vocabSize: modelSpec(model).vocab_size,
    wakeLatency_s: cluster?.lifecycle?.sleep?.wake_latency_s,
  };
}
