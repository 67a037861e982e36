import type { ModelSpec } from "./models.ts";
import { inputErrorAt } from "./where.ts";

/** Checks a tensor-parallel size the way vLLM does: attention heads split evenly across GPUs; KV heads
 *  split evenly too, or, when there are fewer KV heads than GPUs, each KV head is replicated on
 *  tensor_parallel / kv_heads GPUs (so that ratio must be whole). `where` names the field checked. */
export function validateTensorParallel(model: ModelSpec, tensor_parallel: number, where?: string): void {
  const at = (problem: string) => inputErrorAt(where, problem);
  if (!Number.isInteger(tensor_parallel) || tensor_parallel < 1) {
    throw at(`tensor_parallel ${tensor_parallel}: expected a positive integer`);
  }
  if (model.heads % tensor_parallel !== 0) {
    throw at(`tensor_parallel ${tensor_parallel} does not divide ${model.name}'s ${model.heads} attention heads`);
  }
  const kv_ok = tensor_parallel <= model.kv_heads ? model.kv_heads % tensor_parallel === 0 : tensor_parallel % model.kv_heads === 0;
  if (!kv_ok) {
    throw at(`tensor_parallel ${tensor_parallel} does not split ${model.name}'s ${model.kv_heads} KV heads evenly` + " (it must divide them, or be a multiple of them)");
  }
}

/** KV heads each GPU stores: kv_heads / TP, at least one (replicated when TP > kv_heads). */
export function kvHeadsPerGpu(model: ModelSpec, tensor_parallel: number): number {
  return Math.max(1, model.kv_heads / tensor_parallel);
}
