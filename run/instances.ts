import { dirname, resolve } from "node:path";
import type { ClusterConfig } from "../src/model/cluster-schema.ts";
import { inputError } from "../src/core/errors.ts";
import type { InstanceSpec } from "../src/core/types.ts";
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from "../src/model/engine-config.ts";
import type { ConfiguredInstance } from "../src/model/instance.ts";
import { colocatedBlocks, type MemoryShare } from "../src/model/colocation.ts";
import { loadLatencyModelFile } from "./latency-file.ts";
import { kvBytesPerTokenPerGpu, kvCapacity } from "../src/model/memory.ts";
import type { LatencyModel } from "../src/model/latency-model.ts";
import { defaultMaxModelLen } from "../src/model/max-model-len.ts";
import { resolveModel } from "./model-file.ts";
import { gpuSpec } from "../src/model/gpus.ts";
import { rooflineModel } from "../src/model/roofline.ts";
import { stepModel } from "../src/model/step-presets.ts";

/** The latency model of instances whose config names none: the step-time model with the presets fitted
 *  to public GPU measurements (docs/latency.md). `latency: {kind: roofline}` keeps the analytic one. */
const DEFAULT_LATENCY = { kind: "step" } as const;

/** Turns a validated cluster config into simulated instances: engine knobs merged (group over
 *  cluster over vLLM defaults), KV capacity derived from model and GPU memory, latency model built.
 *  `file` names the config in error messages and anchors relative paths. */
export async function buildInstances(config: ClusterConfig, file: string): Promise<ConfiguredInstance[]> {
  const instances: ConfiguredInstance[] = [];
  const colocated: ColocatedGroup[] = [];
  const ids = new Set<string>();
  for (const [g, group] of config.instances.entries()) {
    const where = `${file}: instances[${g}]`;
    const resolved = await resolveModel(group.model, dirname(file), `${where}.model`);
    const model = resolved.spec;
    const gpu = gpuSpec(group.gpu, `${where}.gpu`);
    const merged = { ...DEFAULT_ENGINE_CONFIG, ...config.engine, ...group.engine };
    // A KV block's bytes on one GPU, for the transfer times of the CPU/disk tiers.
    const engine: EngineConfig = { ...merged, kv_block_bytes: kvBytesPerTokenPerGpu(model, group.tensor_parallel) * merged.block_size };
    if (engine.max_model_len !== undefined && engine.max_model_len > model.max_position_embeddings) {
      throw inputError(`${where}.engine.max_model_len`, `${engine.max_model_len} exceeds ${model.name}'s context length ${model.max_position_embeddings}`);
    }
    const capacity = kvCapacity({
      model,
      gpu,
      tensor_parallel: group.tensor_parallel,
      gpu_memory_utilization: engine.gpu_memory_utilization,
      block_size: engine.block_size,
      max_num_batched_tokens: engine.max_num_batched_tokens,
      max_num_seqs: engine.max_num_seqs,
      where,
    });
    // Colocated instances get their share of the pool below; others the whole free memory.
    const num_gpu_blocks = engine.num_gpu_blocks_override ?? capacity.num_gpu_blocks;
    const kv_capacity_tokens = num_gpu_blocks * engine.block_size;
    // vLLM's rule: the model's context when one such sequence fits the KV cache, else refuse.
    const max_model_len = engine.max_model_len ?? defaultMaxModelLen(model, kv_capacity_tokens, where);
    if (!engine.enable_chunked_prefill && engine.max_num_batched_tokens < max_model_len) {
      // As vLLM checks: without chunking, a whole max_model_len prompt must fit one step's budget.
      throw inputError(
        `${where}.engine.max_num_batched_tokens`,
        `${engine.max_num_batched_tokens} is below max_model_len ${max_model_len} with chunked prefill off; raise it, lower max_model_len or enable chunked prefill`,
      );
    }
    const memory: MemoryShare | undefined = group.colocate
      ? {
          colocate: group.colocate,
          budget_bytes: capacity.budget_bytes,
          fixed_bytes: capacity.weights_bytes + capacity.activation_reserve_bytes,
          block_bytes: capacity.block_bytes,
        }
      : undefined;
    const total = group.max_count ?? group.count;
    if (total < group.count) throw inputError(`${where}.max_count`, `${total} is below count ${group.count}; expected max_count ≥ count`);
    if (total > group.count && !config.lifecycle?.autoscale) {
      throw inputError(`${where}.max_count`, "spare instances need lifecycle.autoscale to start them; add it or drop max_count");
    }
    if (memory) colocated.push({ where, gpu: gpu.name, tensor_parallel: group.tensor_parallel, awake: group.count, total, share: memory, first: instances.length });
    if (max_model_len > kv_capacity_tokens) {
      // vLLM refuses to start in this case too: one maximal request could never fit.
      throw inputError(where, `max_model_len ${max_model_len} exceeds the KV capacity of ${kv_capacity_tokens} tokens; lower engine.max_model_len or add memory`);
    }
    const latencySpec = group.latency ?? config.latency ?? DEFAULT_LATENCY;
    const latency: LatencyModel =
      latencySpec.kind === "fitted"
        ? await loadLatencyModelFile(resolve(dirname(file), latencySpec.file))
        : latencySpec.kind === "step"
          ? stepModel(model, gpu, group.tensor_parallel, undefined, where)
          : rooflineModel(model, gpu, group.tensor_parallel, undefined, where);
    const name = group.name ?? model.name;
    for (let i = 0; i < total; i++) {
      const id = total === 1 ? name : `${name}-${i}`;
      if (ids.has(id)) throw inputError(`${where}.name`, `instance id "${id}" is used twice; give groups distinct names`);
      ids.add(id);
      const spec: InstanceSpec = {
        id,
        model: model.name,
        gpu: gpu.name,
        tensor_parallel: group.tensor_parallel,
        max_model_len,
        kv_capacity_tokens,
        group: name,
        initial_state: i < group.count ? "awake" : "stopped",
      };
      instances.push({ spec, engine, num_gpu_blocks, latency, memory, ...(resolved.file ? { model_file: { path: group.model, spec: model } } : {}) });
    }
  }
  shareColocatedMemory(instances, colocated);
  return instances;
}

interface ColocatedGroup {
  where: string;
  gpu: string;
  tensor_parallel: number;
  awake: number;
  total: number;
  share: MemoryShare;
  first: number;
}

/** Instances that share GPUs split the KV pool their awake members' weights leave free. All
 *  members of one `colocate` set must name the same GPU and tensor parallelism. */
function shareColocatedMemory(instances: ConfiguredInstance[], groups: ColocatedGroup[]): void {
  const sets = new Map<string, ColocatedGroup[]>();
  for (const g of groups) {
    const set = sets.get(g.share.colocate) ?? [];
    if (set.length > 0 && (set[0].gpu !== g.gpu || set[0].tensor_parallel !== g.tensor_parallel)) {
      throw inputError(
        `${g.where}.colocate`,
        `"${g.share.colocate}" is shared with a group on ${set[0].gpu} × ${set[0].tensor_parallel}; colocated instances must name the same gpu and tensor_parallel`,
      );
    }
    set.push(g);
    sets.set(g.share.colocate, set);
  }
  for (const set of sets.values()) {
    const members = set.flatMap((g) => Array.from({ length: g.total }, (_, i) => ({ instance: instances[g.first + i], where: g.where, awake: i < g.awake })));
    const blocks = colocatedBlocks(members.map((m) => ({ share: m.instance.memory!, awake: m.awake })));
    members.forEach((m, i) => {
      const instance = m.instance;
      // A spare gets the share it would have if it woke alone with the others awake; the host
      // recomputes shares at every sleep and wake anyway.
      const own = m.awake ? blocks[i] : colocatedBlocks([...members.map((x) => ({ share: x.instance.memory!, awake: x.awake || x === m }))])[i];
      if (instance.engine.num_gpu_blocks_override === undefined) instance.num_gpu_blocks = own;
      const tokens = instance.num_gpu_blocks * instance.engine.block_size;
      if (instance.spec.max_model_len > tokens) {
        throw inputError(
          m.where,
          `colocated on "${instance.memory!.colocate}", ${instance.spec.id} gets a KV pool of ${tokens} tokens, below max_model_len ${instance.spec.max_model_len}; use fewer colocated models, a larger GPU or a lower max_model_len`,
        );
      }
      instance.spec.kv_capacity_tokens = tokens;
    });
  }
}
