import { describe, expect, it } from "vitest";
import { HashRing, hash32, sessionKey } from "../../../src/policies/dispatch/hash-ring.ts";
import type { InstanceView } from "../../../src/core/view.ts";
import { call, controller, finish, placements, snapshot, spec, targets } from "./helpers.ts";

const four = () => [spec("a"), spec("b"), spec("c"), spec("d")];

describe("session-affinity dispatch", () => {
  it("keeps each session on one instance, and different sessions spread", () => {
    const c = controller("session-affinity", four());
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < 40; s++) {
        const x = call(`t${s}-${round}`, { tenant: `tenant-${s}` });
        c.callArrived(round, x);
      }
    }
    const placed = placements(c.drain());
    const homes = new Set<string>();
    for (let s = 0; s < 40; s++) {
      expect(placed[`t${s}-1`]).toBe(placed[`t${s}-0`]);
      expect(placed[`t${s}-2`]).toBe(placed[`t${s}-0`]);
      homes.add(placed[`t${s}-0`]);
    }
    expect(homes.size).toBe(4);
  });

  it("hashes the workflow id before the tenant, and the call id when neither is set", () => {
    expect(sessionKey({ id: "x", workflow_id: "w", tenant: "t" })).toBe("w:w");
    expect(sessionKey({ id: "x", tenant: "t" })).toBe("t:t");
    expect(sessionKey({ id: "x" })).toBe("c:x");
  });

  it("moves to the next instance on the ring when the session's instance is overloaded", () => {
    const c = controller({ name: "session-affinity", params: { max_outstanding: 2 } }, four());
    const calls = [0, 1, 2, 3].map((i) => call(`w${i}`, { workflow_id: "wf-1", step_id: `s${i}` }));
    for (const x of calls) c.callArrived(0, x);
    const placed = targets(c.drain());
    // Three fit at home (it has 0, 1, 2 in flight when chosen); the fourth finds 3 > 2 and moves.
    expect(placed[1]).toBe(placed[0]);
    expect(placed[2]).toBe(placed[0]);
    expect(placed[3]).not.toBe(placed[0]);
  });

  it("moves when the session's instance reports KV usage above max_kv_usage, and comes back after", () => {
    const c = controller("session-affinity", four());
    const first = call("t0", { tenant: "alice" });
    c.callArrived(0, first);
    const home = targets(c.drain())[0] as string;
    finish(c, 0.5, first);
    c.instanceObserved(1, snapshot(home, 1, 0.99));
    c.callArrived(1, call("t1", { tenant: "alice" }));
    const moved = targets(c.drain())[0];
    expect(moved).not.toBe(home);
    c.instanceObserved(2, snapshot(home, 2, 0.3));
    c.callArrived(2, call("t2", { tenant: "alice" }));
    expect(targets(c.drain())).toEqual([home]);
  });

  it("sends calls to the least outstanding instance when every instance is overloaded", () => {
    const c = controller({ name: "session-affinity", params: { max_outstanding: 0 } }, [spec("a"), spec("b")]);
    for (let i = 0; i < 4; i++) c.callArrived(0, call(`x${i}`, { tenant: "t" }));
    const placed = targets(c.drain());
    expect(placed.filter((t) => t === "a")).toHaveLength(2);
  });
});

describe("hash ring", () => {
  const views = (ids: string[]): InstanceView[] =>
    ids.map((id, index) => ({
      spec: spec(id),
      index,
      state: "awake",
      state_since_s: 0,
      last_activity_s: 0,
      outstanding: 0,
      outstanding_tokens: 0,
      observed: undefined,
    }));

  it("is deterministic and spreads keys roughly evenly with 64 virtual nodes", () => {
    expect(hash32("session-1")).toBe(hash32("session-1"));
    expect(hash32("session-1")).not.toBe(hash32("session-2"));
    const ring = new HashRing(views(["a", "b", "c"]), 64);
    const counts = new Map<string, number>();
    for (let k = 0; k < 3000; k++) {
      const id = ring.owner(`key-${k}`).spec.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const id of ["a", "b", "c"]) {
      expect(counts.get(id)!).toBeGreaterThan(700);
      expect(counts.get(id)!).toBeLessThan(1400);
    }
  });

  it("moves only the removed instance's keys when an instance leaves", () => {
    const full = new HashRing(views(["a", "b", "c", "d"]), 64);
    const less = new HashRing(views(["a", "b", "c"]), 64);
    for (let k = 0; k < 1000; k++) {
      const before = full.owner(`key-${k}`).spec.id;
      if (before !== "d") expect(less.owner(`key-${k}`).spec.id).toBe(before);
    }
  });
});
