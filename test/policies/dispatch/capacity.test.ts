import { describe, expect, it } from "vitest";
import { call, controller, finish, placements, spec, targets } from "./helpers.ts";

describe("capacity dispatch", () => {
  it("never exceeds an instance's concurrency cap; holds when all are full; resumes when one frees", () => {
    const c = controller({ name: "capacity", params: { max_concurrency: { a: 1, b: 2 } } }, [spec("a"), spec("b")]);
    const calls = [0, 1, 2, 3].map((i) => call(`x${i}`));
    for (const x of calls) c.callArrived(0, x);
    // x0 → a (both empty, config order); x1 → b (a full); x2 → b (1/2 < 1/1); x3 → held.
    expect(targets(c.drain())).toEqual(["a", "b", "b"]);
    expect(c.waitingCalls).toBe(1);
    finish(c, 1, calls[0]);
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("balances by load relative to each instance's cap", () => {
    const c = controller({ name: "capacity", params: { max_concurrency: { a: 4, b: 1 } } }, [spec("a"), spec("b")]);
    for (let i = 0; i < 5; i++) c.callArrived(0, call(`x${i}`));
    // loads a: 0/4 → 1/4 …, b: 0/1 → full after one.
    expect(targets(c.drain())).toEqual(["a", "b", "a", "a", "a"]);
  });

  it("routes by task type: a full agent key or its app", () => {
    const task_types = { a: ["coder"], b: ["chat/answer"], c: ["chat"] };
    const c = controller({ name: "capacity", params: { task_types } }, [spec("a"), spec("b"), spec("c")]);
    c.callArrived(0, call("code1", { agent: "coder/write" }));
    c.callArrived(0, call("code2", { agent: "coder/review" }));
    c.callArrived(0, call("answer", { agent: "chat/answer" })); // b by key, c by app: b is first
    c.callArrived(0, call("other", { agent: "chat/other" })); // only c's app matches
    c.callArrived(0, call("plain")); // no agent, no type: the least loaded of all (a has 2)
    expect(placements(c.drain())).toEqual({ code1: "a", code2: "a", answer: "b", other: "c", plain: "b" });
  });

  it("lets an instance without a task_types entry take every type", () => {
    const c = controller({ name: "capacity", params: { max_concurrency: 1, task_types: { a: ["coder"] } } }, [spec("a"), spec("b")]);
    c.callArrived(0, call("x1", { agent: "coder/write" }));
    c.callArrived(0, call("x2", { agent: "coder/write" }));
    expect(targets(c.drain())).toEqual(["a", "b"]);
  });

  it("holds a typed call while its only instance is at capacity", () => {
    const c = controller({ name: "capacity", params: { max_concurrency: 1, task_types: { a: ["coder"], b: ["chat"] } } }, [spec("a"), spec("b")]);
    const first = call("c1", { agent: "coder/write" });
    c.callArrived(0, first);
    c.callArrived(0, call("c2", { agent: "coder/write" }));
    expect(targets(c.drain())).toEqual(["a"]);
    finish(c, 1, first);
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("reports an agent no instance serves, and unknown instance ids, as input errors", () => {
    const c = controller({ name: "capacity", params: { task_types: { a: ["coder"] } } }, [spec("a")]);
    expect(() => c.callArrived(0, call("x", { agent: "chat/answer" }))).toThrow(/capacity params\.task_types: no instance of model m lists agent "chat\/answer"/);
    const d = controller({ name: "capacity", params: { max_concurrency: { zz: 2 } } }, [spec("a")]);
    expect(() => d.callArrived(0, call("x"))).toThrow(/capacity params\.max_concurrency: unknown instance "zz"; instances are a/);
  });
});
