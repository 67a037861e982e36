import { describe, expect, it } from "vitest";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import { harness, OVERHEAD_S, prefillTime } from "./engine-harness.ts";

// 16-token blocks of 2 MiB: 84 µs each over the CPU link (25 GB/s), 419 µs from disk (5 GB/s),
// against 1.6 ms to recompute one (0.1 ms per prefill token).
const BLOCK_BYTES = 2 * 2 ** 20;
const CPU_BLOCK_S = BLOCK_BYTES / 25e9;
const DISK_BLOCK_S = BLOCK_BYTES / 5e9;
const SYS = [{ key: "sys", tokens: 64 }, { tokens: 1 }]; // 4 shareable blocks + a unique token

/** 8 GPU blocks: "a" leaves the 4 "sys" blocks cached; a 127-token filler then takes all 8 blocks,
 *  evicting them into the lower tiers; "b" (same prefix) comes next. */
function evictedPrefix(knobs: Partial<EngineConfig>) {
  const h = harness({ kv_block_bytes: BLOCK_BYTES, ...knobs }, 8);
  h.add("a", 65, 1, SYS);
  h.drain();
  h.add("filler", 127, 1);
  h.drain();
  return h;
}

describe("KV tiers below the GPU prefix cache", () => {
  it("an evicted prefix hits in the CPU tier: its step is longer than a GPU hit's and shorter than a recompute's", () => {
    // GPU hit: nothing evicted in between.
    const gpu = harness({ kv_block_bytes: BLOCK_BYTES, cpu_kv_blocks: 100 }, 8);
    gpu.add("a", 65, 1, SYS);
    gpu.drain();
    gpu.add("b", 65, 1, SYS);
    const gpuStep = gpu.step()!;
    expect(gpu.engine.stats.gpu_hit_tokens).toBe(64);

    const cpu = evictedPrefix({ cpu_kv_blocks: 100 });
    expect(cpu.engine.tiers!.cpuBlocks).toBe(4);
    cpu.add("b", 65, 1, SYS);
    const cpuStep = cpu.step()!;
    expect(cpu.requests.get("b")!.cached_tokens).toBe(64);
    expect(cpu.engine.stats.cpu_hit_tokens).toBe(64);
    expect(cpu.engine.stats.gpu_hit_tokens).toBe(0);
    expect(cpu.engine.tiers!.cpuBlocks).toBe(0); // swapped back up: tiers are exclusive

    // No tiers: the evicted prefix is recomputed.
    const none = evictedPrefix({});
    none.add("b", 65, 1, SYS);
    const recomputeStep = none.step()!;
    expect(none.requests.get("b")!.cached_tokens).toBe(0);

    expect(gpuStep).toBeCloseTo(OVERHEAD_S + prefillTime(1), 12);
    expect(cpuStep).toBeCloseTo(gpuStep + 4 * CPU_BLOCK_S, 12);
    expect(recomputeStep).toBeCloseTo(OVERHEAD_S + prefillTime(65), 12);
    expect(cpuStep).toBeGreaterThan(gpuStep);
    expect(cpuStep).toBeLessThan(recomputeStep);
    expect(cpu.engine.stats.swap_wait_s).toBeCloseTo(4 * CPU_BLOCK_S, 12);
  });

  it("the swapped-in blocks are GPU-cached again: the next request hits them on the GPU", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    h.add("b", 65, 1, SYS);
    h.drain();
    h.add("c", 65, 1, SYS);
    const d = h.step()!;
    expect(d).toBeCloseTo(OVERHEAD_S + prefillTime(1), 12);
    expect(h.engine.stats.gpu_hit_tokens).toBe(64);
    expect(h.engine.stats.cpu_hit_tokens).toBe(64);
  });

  it("the disk tier sits below the CPU tier: slower to swap in, still faster than recomputing", () => {
    const disk = evictedPrefix({ disk_kv_blocks: 100 }); // no CPU tier: evictions go straight to disk
    expect(disk.engine.tiers!.diskBlocks).toBe(4);
    disk.add("b", 65, 1, SYS);
    const diskStep = disk.step()!;
    expect(disk.engine.stats.disk_hit_tokens).toBe(64);
    expect(diskStep).toBeCloseTo(OVERHEAD_S + prefillTime(1) + 4 * DISK_BLOCK_S, 12);
    expect(diskStep).toBeGreaterThan(OVERHEAD_S + prefillTime(1) + 4 * CPU_BLOCK_S);
    expect(diskStep).toBeLessThan(OVERHEAD_S + prefillTime(65));
  });

  it("CPU evictions move to disk (LRU) and disk evictions are lost; per-tier hits add up to hit_tokens", () => {
    // The filler evicts sys blocks 3, 2, 1, 0 in that order (a request frees its tail first); the CPU
    // tier keeps the 2 most recent (1, 0) and pushes 3, 2 to disk.
    const h = evictedPrefix({ cpu_kv_blocks: 2, disk_kv_blocks: 100 });
    expect(h.engine.tiers!.cpuBlocks).toBe(2);
    expect(h.engine.tiers!.diskBlocks).toBe(2);
    h.add("b", 65, 1, SYS);
    const d = h.step()!;
    const s = h.engine.stats;
    expect([s.gpu_hit_tokens, s.cpu_hit_tokens, s.disk_hit_tokens]).toEqual([0, 32, 32]);
    expect(d).toBeCloseTo(OVERHEAD_S + prefillTime(1) + 2 * CPU_BLOCK_S + 2 * DISK_BLOCK_S, 12);
    h.drain();
    expect(s.gpu_hit_tokens + s.cpu_hit_tokens + s.disk_hit_tokens).toBe(s.prefix_hit_tokens);

    const lost = evictedPrefix({ cpu_kv_blocks: 2, disk_kv_blocks: 1 });
    expect(lost.engine.tiers!.stats.dropped_blocks).toBe(1);
    lost.add("b", 65, 1, SYS);
    lost.step();
    // Blocks 0, 1 in CPU, block 2 in disk, block 3 lost: the prefix stops there.
    expect(lost.requests.get("b")!.cached_tokens).toBe(48);
    expect(lost.engine.stats.disk_hit_tokens).toBe(16);
  });

  it("snapshots carry the per-tier counters", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    h.add("b", 65, 1, SYS);
    h.drain();
    const snap = h.engine.snapshot(h.now);
    expect(snap).toMatchObject({ gpu_hit_tokens: 0, cpu_hit_tokens: 64, disk_hit_tokens: 0, prefix_hit_tokens: 64, awake: true });
  });

  it("caches nothing in the tiers when prefix caching is off", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100, enable_prefix_caching: false });
    expect(h.engine.tiers).toBeUndefined();
    h.add("b", 65, 1, SYS);
    h.step();
    expect(h.requests.get("b")!.cached_tokens).toBe(0);
  });

  it("a later request walks GPU hits and tier hits in one prefix", () => {
    // A longer prefix: blocks 0..3 come back to the GPU with "b"; "c" shares 0..3 then hits 4..5 in the CPU.
    const h = harness({ kv_block_bytes: BLOCK_BYTES, cpu_kv_blocks: 100 }, 12);
    const long = [{ key: "sys", tokens: 64 }, { key: "doc", tokens: 32 }, { tokens: 1 }];
    h.add("a", 97, 1, long);
    h.drain();
    h.add("filler", 191, 1); // 12 blocks: evicts all 6 cached blocks to the CPU tier
    h.drain();
    expect(h.engine.tiers!.cpuBlocks).toBe(6);
    h.add("b", 65, 1, SYS); // brings sys 0..3 back
    h.drain();
    h.add("c", 97, 1, long);
    h.step();
    expect(h.engine.stats.gpu_hit_tokens).toBe(64);
    expect(h.engine.stats.cpu_hit_tokens).toBe(64 + 32);
    expect(h.requests.get("c")!.cached_tokens).toBe(96);
    h.drain();
    expect(h.engine.blocks.usedBlocks).toBe(0);
  });
});

describe("async prefetch", () => {
  it("moves a CPU-resident prefix to the GPU ahead of time: the later admission is a GPU hit with no swap delay", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    const call = h.call("b", 65, 1, SYS);
    const identity = h.identity(call);
    const result = h.engine.prefetch(h.now, call, identity);
    expect(result).toMatchObject({ gpu_blocks: 0, cpu_blocks: 4, disk_blocks: 0 });
    expect(result.ready_s).toBeCloseTo(h.now + 4 * CPU_BLOCK_S, 12);
    expect(h.engine.blocks.usedBlocks).toBe(0); // prefetched blocks are cached, not held
    expect(h.engine.tiers!.cpuBlocks).toBe(0);
    h.now = result.ready_s + 0.001; // the next step starts after the transfer is done
    h.requests.set("b", h.engine.enqueue(h.now, call, 0, identity));
    const d = h.step()!;
    expect(d).toBeCloseTo(OVERHEAD_S + prefillTime(1), 12);
    expect(h.engine.stats.gpu_hit_tokens).toBe(64);
    expect(h.engine.stats.cpu_hit_tokens).toBe(0);
    expect(h.engine.stats.swap_wait_s).toBe(0);
  });

  it("a request admitted before the prefetch lands waits only for the rest of the transfer, and counts the tier it came from", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    const call = h.call("b", 65, 1, SYS);
    const identity = h.identity(call);
    const { ready_s } = h.engine.prefetch(h.now, call, identity);
    const admitAt = h.now + 2.5 * CPU_BLOCK_S; // blocks 0 and 1 arrived, 2 and 3 still moving
    h.now = admitAt;
    h.engine.enqueue(h.now, call, 0, identity);
    const d = h.step()!;
    expect(d).toBeCloseTo(OVERHEAD_S + prefillTime(1) + (ready_s - admitAt), 12);
    expect(h.engine.stats.gpu_hit_tokens).toBe(32);
    expect(h.engine.stats.cpu_hit_tokens).toBe(32);
  });

  it("transfers queue on the host link: a swap-in after a prefetch waits for it", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    // Two prefixes in the CPU tier: "sys" (via the filler) and "doc".
    const docSeg = [{ key: "doc", tokens: 32 }, { tokens: 1 }];
    h.add("d", 33, 1, docSeg);
    h.drain();
    h.add("filler2", 127, 1);
    h.drain();
    const call = h.call("b", 65, 1, SYS);
    const pre = h.engine.prefetch(h.now, call, h.identity(call));
    expect(pre.cpu_blocks).toBe(4);
    h.add("e", 33, 1, docSeg); // swaps 2 doc blocks in, behind the 4 prefetched ones
    const d = h.step()!;
    expect(h.engine.stats.cpu_hit_tokens).toBe(32);
    expect(d).toBeCloseTo(OVERHEAD_S + prefillTime(1) + 6 * CPU_BLOCK_S, 12);
  });

  it("keeps GPU-resident blocks, stops at the first block cached nowhere, and does nothing without tiers", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    const longer = [{ key: "sys", tokens: 64 }, { key: "never-seen", tokens: 32 }, { tokens: 1 }];
    const call = h.call("x", 97, 1, longer);
    const r = h.engine.prefetch(h.now, call, h.identity(call));
    expect(r.cpu_blocks).toBe(4);
    const again = h.engine.prefetch(h.now, call, h.identity(call));
    expect(again).toMatchObject({ gpu_blocks: 4, cpu_blocks: 0, disk_blocks: 0, ready_s: h.now });

    const plain = evictedPrefix({});
    const c2 = plain.call("x", 65, 1, SYS);
    expect(plain.engine.prefetch(plain.now, c2, plain.identity(c2))).toEqual({ gpu_blocks: 0, cpu_blocks: 0, disk_blocks: 0, ready_s: plain.now });
  });

  it("never takes more than the free blocks and never evicts the prefix's own GPU blocks", () => {
    // 8 blocks; a long-running request holds 6, so only 2 are free.
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    h.add("hog", 90, 30);
    h.step();
    expect(h.engine.blocks.freeBlocks).toBe(2);
    const call = h.call("b", 65, 1, SYS);
    const r = h.engine.prefetch(h.now, call, h.identity(call));
    expect(r.cpu_blocks).toBe(2);
    expect(h.engine.tiers!.cpuBlocks).toBe(2);
    h.drain();
    expect(h.engine.blocks.usedBlocks).toBe(0);
  });

  it("a prefetched block evicted before use goes back down to its tier", () => {
    const h = evictedPrefix({ cpu_kv_blocks: 100 });
    const call = h.call("b", 65, 1, SYS);
    h.engine.prefetch(h.now, call, h.identity(call));
    h.add("filler2", 127, 1); // takes every block again
    h.drain();
    expect(h.engine.tiers!.cpuBlocks).toBe(4);
    expect(h.engine.tiers!.inflight.size).toBe(0);
  });
});
