/** Sharding of a comparison's grid: `--shard I/N` runs the jobs whose grid index is I modulo N
 *  (round-robin over the grid order, so that every shard gets a share of every rate and policy and
 *  the shards take about equally long). Pure: no I/O. */
import { InputError } from "../../src/core/errors.ts";

export interface Shard {
  /** 0 … count − 1 (Slurm's SLURM_ARRAY_TASK_ID, Kubernetes' JOB_COMPLETION_INDEX). */
  index: number;
  count: number;
}

/** `I/N` with 0 ≤ I < N. */
export function parseShard(text: string, flag = "--shard"): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new InputError(`${flag}: ${JSON.stringify(text)}; expected I/N, the shard I (0 … N−1) of N, e.g. 0/4`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new InputError(`${flag}: ${JSON.stringify(text)}: N must be ≥ 1`);
  if (index >= count) throw new InputError(`${flag}: ${JSON.stringify(text)}: I must be 0 … ${count - 1} (shards count from 0)`);
  return { index, count };
}

/** Whether the job at grid position `gridIndex` belongs to `shard`. */
export function inShard(gridIndex: number, shard: Shard): boolean {
  return gridIndex % shard.count === shard.index;
}

/** The shard's jobs, in grid order. */
export function shardJobs<T extends { index: number }>(jobs: readonly T[], shard: Shard | undefined): T[] {
  return shard === undefined ? [...jobs] : jobs.filter((job) => inShard(job.index, shard));
}

/** `I/N` as shown in messages and file names use it. */
export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
