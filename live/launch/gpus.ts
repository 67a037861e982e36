import { execFile } from "node:child_process";
import { InputError } from "../../src/core/errors.ts";

/** One instance's share of the GPU list. */
export interface GpuNeed {
  instance: string;
  tensor_parallel: number;
  /** Instances with the same colocate name share one set of GPUs (the first member takes it). */
  colocate?: string;
}

/** A GPU list as a flag or config gives it: "0,1,2,3" (or with spaces), or a list of ids. */
export function parseGpuList(value: string | readonly (string | number)[], where: string): string[] {
  const ids = typeof value === "string" ? value.split(/[\s,]+/).filter((id) => id !== "") : value.map(String);
  if (ids.length === 0) throw new InputError(`${where}: no GPU ids; expected a list such as 0,1,2,3`);
  const seen = new Set<string>();
  for (const id of ids) {
    if (!/^[A-Za-z0-9:._-]+$/.test(id)) throw new InputError(`${where}: "${id}" is not a GPU id; expected an index (0) or a UUID (GPU-…)`);
    if (seen.has(id)) throw new InputError(`${where}: GPU ${id} is listed twice`);
    seen.add(id);
  }
  return ids;
}

/** Hands the GPUs out in instance order, tensor_parallel at a time (CUDA_VISIBLE_DEVICES per
 *  instance); colocated instances get the same set. Too few GPUs is bad input, named with what the
 *  config needs. `source` says where the list came from, for the error. */
export function assignGpus(needs: readonly GpuNeed[], gpus: readonly string[], source: string): string[][] {
  const shared = new Map<string, string[]>();
  const out: string[][] = [];
  let next = 0;
  const needed = totalNeeded(needs);
  for (const need of needs) {
    const set = need.colocate !== undefined ? shared.get(need.colocate) : undefined;
    if (set) {
      out.push(set);
      continue;
    }
    if (next + need.tensor_parallel > gpus.length) {
      throw new InputError(
        `launch: instance ${need.instance} needs ${need.tensor_parallel} GPU${need.tensor_parallel === 1 ? "" : "s"} but only ${gpus.length - next} of the ${gpus.length} in ${source} are left; the config needs ${needed} (pass --gpus with ${needed} ids, or lower count/tensor_parallel)`,
      );
    }
    const taken = gpus.slice(next, next + need.tensor_parallel);
    next += need.tensor_parallel;
    if (need.colocate !== undefined) shared.set(need.colocate, taken);
    out.push(taken);
  }
  return out;
}

/** GPUs the config needs in all: each instance's tensor_parallel, a colocated set once. */
export function totalNeeded(needs: readonly GpuNeed[]): number {
  const colocated = new Set<string>();
  let total = 0;
  for (const need of needs) {
    if (need.colocate !== undefined) {
      if (colocated.has(need.colocate)) continue;
      colocated.add(need.colocate);
    }
    total += need.tensor_parallel;
  }
  return total;
}

/** The GPUs this machine offers when neither --gpus nor launch.gpus says: $CUDA_VISIBLE_DEVICES,
 *  else the indices `nvidia-smi` lists; undefined when neither is there. */
export async function detectGpus(env: NodeJS.ProcessEnv = process.env): Promise<{ ids: string[]; source: string } | undefined> {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && visible.trim() !== "") return { ids: parseGpuList(visible, "$CUDA_VISIBLE_DEVICES"), source: "$CUDA_VISIBLE_DEVICES" };
  const listed = await new Promise<string | undefined>((resolve) => {
    execFile("nvidia-smi", ["--query-gpu=index", "--format=csv,noheader"], { timeout: 10_000 }, (error, stdout) => resolve(error ? undefined : stdout));
  });
  if (listed === undefined) return undefined;
  const ids = listed
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return ids.length > 0 ? { ids, source: "nvidia-smi" } : undefined;
}
