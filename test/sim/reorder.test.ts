import { describe, expect, it } from "vitest";
import type { EngineConfig } from "../../src/model/engine-config.ts";
import { harness } from "./engine-harness.ts";

const SYS = [{ key: "sys", tokens: 64 }, { tokens: 16 }];

/** One sequence at a time, so the order of first tokens is the order of admission. "warm" leaves the
 *  "sys" prefix cached; then x1, x2 (nothing cached) and "hit" (sys) wait, in that order. */
function queued(knobs: Partial<EngineConfig>, before = ["x1", "x2"]) {
  const h = harness({ max_num_seqs: 1, ...knobs }, 100);
  h.add("warm", 80, 1, SYS);
  h.drain();
  h.log.first.length = 0;
  for (const id of before) h.add(id, 80, 1);
  h.add("hit", 80, 1, SYS);
  h.drain();
  return h;
}

describe("prefix-aware reordering of the waiting queue", () => {
  it("is off by default: queue order", () => {
    expect(queued({}).log.first).toEqual(["x1", "x2", "hit"]);
    expect(queued({ waiting_reorder_window: 1 }).log.first).toEqual(["x1", "x2", "hit"]);
  });

  it("admits the request with the cached prefix first when it is within the window", () => {
    const h = queued({ waiting_reorder_window: 3 });
    expect(h.log.first).toEqual(["hit", "x1", "x2"]);
    expect(h.requests.get("hit")!.cached_tokens).toBe(64);
  });

  it("does not look beyond the window", () => {
    expect(queued({ waiting_reorder_window: 2 }).log.first).toEqual(["x1", "hit", "x2"]);
    expect(queued({ waiting_reorder_window: 2 }, ["x1", "x2", "x3"]).log.first).toEqual(["x1", "x2", "hit", "x3"]);
  });

  it("keeps queue order among equal prefixes", () => {
    const h = harness({ max_num_seqs: 1, waiting_reorder_window: 8 }, 100);
    for (const id of ["a", "b", "c", "d"]) h.add(id, 40, 1);
    h.drain();
    expect(h.log.first).toEqual(["a", "b", "c", "d"]);
  });

  it("prefers the longer of two cached prefixes", () => {
    const h = harness({ max_num_seqs: 1, waiting_reorder_window: 4 }, 100);
    const long = [{ key: "sys", tokens: 64 }, { key: "doc", tokens: 64 }, { tokens: 16 }];
    h.add("warm", 144, 1, long);
    h.drain();
    h.log.first.length = 0;
    h.add("none", 80, 1);
    h.add("short", 80, 1, SYS);
    h.add("long", 144, 1, long);
    h.drain();
    expect(h.log.first).toEqual(["long", "short", "none"]);
  });

  it("counts lower-tier hits as cached", () => {
    // 8 blocks: the filler pushes the sys prefix down to the CPU tier.
    const h = harness({ max_num_seqs: 1, waiting_reorder_window: 3, cpu_kv_blocks: 64 }, 8);
    h.add("warm", 65, 1, [{ key: "sys", tokens: 64 }, { tokens: 1 }]);
    h.drain();
    h.add("filler", 127, 1);
    h.drain();
    expect(h.engine.tiers!.cpuBlocks).toBe(4);
    h.log.first.length = 0;
    h.add("x1", 65, 1);
    h.add("hit", 65, 1, [{ key: "sys", tokens: 64 }, { tokens: 1 }]);
    h.drain();
    expect(h.log.first).toEqual(["hit", "x1"]);
    expect(h.engine.stats.cpu_hit_tokens).toBe(64);
  });

  it("keeps the priority order outside the chosen request, and leaks nothing when the pick does not fit", () => {
    // Priority mode: the queue order is by priority; the window is over that order.
    const h = harness({ max_num_seqs: 2, waiting_reorder_window: 2, scheduling_policy: "priority" }, 12);
    h.add("warm", 80, 1, SYS);
    h.drain();
    h.log.first.length = 0;
    h.log.finished.length = 0;
    h.add("p2", 80, 1, undefined, 2);
    h.add("p0", 80, 1, undefined, 0);
    h.add("hit-p1", 80, 1, SYS, 1);
    h.add("big", 150, 20, undefined, 3);
    h.drain();
    expect(h.log.first.slice(0, 2)).toEqual(["hit-p1", "p0"]);
    expect(h.log.finished.sort()).toEqual(["big", "hit-p1", "p0", "p2"]);
    expect(h.engine.blocks.usedBlocks).toBe(0);
  });
});
