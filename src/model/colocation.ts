/** GPU memory of one instance, for instances that share GPUs (kvcached's elastic KV): the budget
 *  is the GPUs' memory × utilisation; `fixed_bytes` (weights and activation reserve, per GPU) is
 *  freed while the instance sleeps; the rest of the budget is the KV pool its awake neighbours share. */
export interface MemoryShare {
  colocate: string;
  budget_bytes: number;
  fixed_bytes: number;
  block_bytes: number;
}

/** KV blocks each member gets: the pool left by the awake members' fixed memory, split evenly
 *  among them (in bytes), in whole blocks of each member's own size. */
export function colocatedBlocks(members: readonly { share: MemoryShare; awake: boolean }[]): number[] {
  const awake = members.filter((m) => m.awake);
  if (awake.length === 0) return members.map(() => 0);
  const budget = members[0].share.budget_bytes;
  const pool = budget - awake.reduce((sum, m) => sum + m.share.fixed_bytes, 0);
  const each = Math.max(0, pool) / awake.length;
  return members.map((m) => (m.awake ? Math.floor(each / m.share.block_bytes) : 0));
}
