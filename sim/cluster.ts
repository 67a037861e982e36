import { dirname, resolve } from "node:path";
import type { ClusterConfig } from "../src/config/cluster-schema.ts";
import { inputError } from "../src/core/errors.ts";
import type { InstanceSpec } from "../src/core/types.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "./engine/config.ts";
import type { SimInstance } from "./host.ts";
import { loadLatencyModelFile } from "./latency/load.ts";
import { kvBytesPerTokenPerGpu, kvCapacity } from "./latency/memory.ts";
import type { LatencyModel } from "./latency/model.ts";
import { modelSpec } from "./latency/models.ts";
import { gpuSpec } from "./latency/gpus.ts";
import { rooflineModel } from "./latency/roofline.ts";

/** Turns a validated cluster config into simulated instances: engine knobs merged (group over
 *  cluster over vLLM defaults), KV capacity derived from model and GPU memory, latency model built.
 *  `file` names the config in error messages and anchors relative paths. */
export async function buildSimInstances(config: ClusterConfig, file: string): Promise<SimInstance[]> {
  const instances: SimInstance[] = [];
  const ids = new Set<string>();
  for (const [g, group] of config.instances.entries()) {
    const where = `${file}: instances[${g}]`;
    const model = modelSpec(group.model, `${where}.model`);
    const gpu = gpuSpec(group.gpu, `${where}.gpu`);
    const merged = { ...DEFAULT_ENGINE_CONFIG, ...config.engine, ...group.engine };
    // A KV block's bytes on one GPU, for the transfer times of the CPU/disk tiers.
    const engine: EngineConfig = { ...merged, kv_block_bytes: kvBytesPerTokenPerGpu(model, group.tensor_parallel) * merged.block_size };
    const max_model_len = engine.max_model_len ?? model.max_position_embeddings;
    if (max_model_len > model.max_position_embeddings) {
      throw inputError(`${where}.engine.max_model_len`, `${max_model_len} exceeds ${model.name}'s context length ${model.max_position_embeddings}`);
    }
    if (!engine.enable_chunked_prefill && engine.max_num_batched_tokens < max_model_len) {
      // As vLLM checks: without chunking, a whole max_model_len prompt must fit one step's budget.
      throw inputError(
        `${where}.engine.max_num_batched_tokens`,
        `${engine.max_num_batched_tokens} is below max_model_len ${max_model_len} with chunked prefill off; raise it, lower max_model_len or enable chunked prefill`,
      );
    }
    const num_gpu_blocks =
      engine.num_gpu_blocks_override ??
      kvCapacity({
        model,
        gpu,
        tensor_parallel: group.tensor_parallel,
        gpu_memory_utilization: engine.gpu_memory_utilization,
        block_size: engine.block_size,
        max_num_batched_tokens: engine.max_num_batched_tokens,
        max_num_seqs: engine.max_num_seqs,
        where,
      }).num_gpu_blocks;
    const kv_capacity_tokens = num_gpu_blocks * engine.block_size;
    if (max_model_len > kv_capacity_tokens) {
      // vLLM refuses to start in this case too: one maximal request could never fit.
      throw inputError(where, `max_model_len ${max_model_len} exceeds the KV capacity of ${kv_capacity_tokens} tokens; lower engine.max_model_len or add memory`);
    }
    const latencySpec = group.latency ?? config.latency ?? { kind: "roofline" as const };
    const latency: LatencyModel =
      latencySpec.kind === "fitted"
        ? await loadLatencyModelFile(resolve(dirname(file), latencySpec.file))
        : rooflineModel(model, gpu, group.tensor_parallel, undefined, where);
    const name = group.name ?? model.name;
    for (let i = 0; i < group.count; i++) {
      const id = group.count === 1 ? name : `${name}-${i}`;
      if (ids.has(id)) throw inputError(`${where}.name`, `instance id "${id}" is used twice; give groups distinct names`);
      ids.add(id);
      const spec: InstanceSpec = {
        id,
        model: model.name,
        gpu: gpu.name,
        tensor_parallel: group.tensor_parallel,
        max_model_len,
        kv_capacity_tokens,
      };
      instances.push({ spec, engine, num_gpu_blocks, latency });
    }
  }
  return instances;
}
