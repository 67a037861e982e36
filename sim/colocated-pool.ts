import { invariant } from "../src/core/errors.ts";
import { colocatedBlocks, type MemoryShare } from "../src/model/colocation.ts";
import type { Engine } from "./engine/engine.ts";

/** What the pool needs of a member's slot (an EngineSlot): its engine and whether it holds memory. */
export interface PoolSlot {
  readonly engine: Engine;
  readonly holdsMemory: boolean;
}

interface Member {
  readonly slot: PoolSlot;
  readonly share: MemoryShare;
}

/** Instances sharing one GPU set (config `colocate`): their KV pools are split among the members
 *  holding memory, and re-split whenever one sleeps or wakes (kvcached-style elastic KV). */
export class ColocatedPool {
  private readonly members: Member[] = [];

  join(slot: PoolSlot, share: MemoryShare): void {
    this.members.push({ slot, share });
  }

  /** Re-splits the pool after a member slept or woke: the members that shrink go first, so the
   *  ones that grow find the room. */
  rebalance(): void {
    const members = this.members;
    const targets = this.targets();
    const order = members.map((_, i) => i).sort((a, b) => targets[a] - members[a].slot.engine.kv.capacityBlocks - (targets[b] - members[b].slot.engine.kv.capacityBlocks));
    for (const i of order) {
      const engine = members[i].slot.engine;
      if (!members[i].slot.holdsMemory || engine.asleep) continue;
      engine.resize(targets[i]);
    }
  }

  /** Blocks a member gets when it wakes: its fair share of the GPUs, but never more than the
   *  others (which may hold blocks they could not give back yet) left free. */
  blocksOnWake(slot: PoolSlot): number {
    const index = this.members.findIndex((m) => m.slot === slot);
    invariant(index >= 0, `engine ${slot.engine.id} is not in its colocation pool`);
    const share = this.members[index].share;
    let free_bytes = share.budget_bytes;
    for (const m of this.members) {
      if (!m.slot.holdsMemory) continue;
      free_bytes -= m.share.fixed_bytes;
      if (m.slot !== slot && !m.slot.engine.asleep) free_bytes -= m.slot.engine.kv.capacityBlocks * m.share.block_bytes;
    }
    return Math.min(this.targets()[index], Math.floor(Math.max(0, free_bytes) / share.block_bytes));
  }

  private targets(): number[] {
    return colocatedBlocks(this.members.map((m) => ({ share: m.share, awake: m.slot.holdsMemory })));
  }
}
