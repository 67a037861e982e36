import { describe, expect, it } from "vitest";
import type { InstanceSnapshot } from "../../../src/core/types.ts";
import { createDispatchPolicy } from "../../../src/policies/registry.ts";
import { call, controller, finish, spec, targets } from "./helpers.ts";

const report = (instance: string, at_s: number, running: number, waiting: number): InstanceSnapshot => ({
  instance,
  at_s,
  running,
  waiting,
  kv_usage: 0.1,
  prefix_queried_tokens: 0,
  prefix_hit_tokens: 0,
  preemptions: 0,
  awake: true,
});

const hold = (params: Record<string, unknown> = {}) => ({ name: "round-robin", params: { hold_when_waiting: true, ...params } });

describe("hold_when_waiting", () => {
  it("skips an instance that reports waiting requests", () => {
    const c = controller(hold(), [spec("a"), spec("b")]);
    c.instanceObserved(0, report("a", 0, 4, 2));
    c.instanceObserved(0, report("b", 0, 4, 0));
    for (const id of ["x0", "x1", "x2"]) c.callArrived(0.01, call(id));
    // round-robin would alternate a, b, a; a reports a queue, so everything goes to b.
    expect(targets(c.drain())).toEqual(["b", "b", "b"]);
  });

  it("holds the call in the controller's queue while every instance reports waiting, and sends it when a report shows the queue cleared", () => {
    const c = controller(hold(), [spec("a"), spec("b")]);
    c.instanceObserved(0, report("a", 0, 4, 1));
    c.instanceObserved(0, report("b", 0, 4, 3));
    c.callArrived(0.01, call("x0"));
    expect(targets(c.drain()).filter((t) => t !== "wakeMeAt")).toEqual([]);
    expect(c.waitingCalls).toBe(1);
    c.instanceObserved(0.1, report("b", 0.1, 4, 0));
    expect(targets(c.drain())).toEqual(["b"]);
    expect(c.waitingCalls).toBe(0);
  });

  it("is off by default for round-robin and on by default for kairos-timeslot", () => {
    const plain = controller("round-robin", [spec("a")]);
    plain.instanceObserved(0, report("a", 0, 4, 5));
    plain.callArrived(0.01, call("x0"));
    expect(targets(plain.drain())).toEqual(["a"]);

    const kairos = controller("kairos-timeslot", [spec("a")]);
    kairos.instanceObserved(0, report("a", 0, 4, 5));
    kairos.callArrived(0.01, call("x0"));
    expect(targets(kairos.drain())).not.toContain("a");

    const off = controller({ name: "kairos-timeslot", params: { hold_when_waiting: false } }, [spec("a")]);
    off.instanceObserved(0, report("a", 0, 4, 5));
    off.callArrived(0.01, call("x0"));
    expect(targets(off.drain())).toEqual(["a"]);
  });

  it("between reports, counts what it sent: once seen full at R running, it sends no more than the reported room", () => {
    const c = controller(hold(), [spec("a")]);
    // A queue persisting over two reports beside 4 running: the batch is full at 4.
    c.instanceObserved(0, report("a", 0, 4, 2));
    c.instanceObserved(0.1, report("a", 0.1, 4, 1));
    c.instanceObserved(0.2, report("a", 0.2, 1, 0)); // room for 3
    for (const id of ["x0", "x1", "x2", "x3", "x4"]) c.callArrived(0.21, call(id));
    expect(targets(c.drain()).filter((t) => t === "a")).toHaveLength(3);
    expect(c.waitingCalls).toBe(2);
    // One of the calls running before the report closes: room for one more.
    const x0 = call("x0");
    finish(c, 0.25, x0);
    expect(targets(c.drain()).filter((t) => t === "a")).toHaveLength(1);
  });

  it("a lone request caught waiting mid-step does not count as a full batch", () => {
    const c = controller(hold(), [spec("a")]);
    c.instanceObserved(0, report("a", 0, 1, 1)); // one arrival waiting for the next step
    c.instanceObserved(0.1, report("a", 0.1, 2, 0));
    for (let i = 0; i < 10; i++) c.callArrived(0.11, call(`x${i}`));
    expect(targets(c.drain()).filter((t) => t === "a")).toHaveLength(10);
  });

  it("a burst admitted over several steps (running count rising beside a queue) is not a full batch", () => {
    const c = controller(hold(), [spec("a")]);
    c.instanceObserved(0, report("a", 0, 4, 20));
    c.instanceObserved(0.1, report("a", 0.1, 12, 12)); // still admitting: not full at 12
    c.instanceObserved(0.2, report("a", 0.2, 24, 0));
    for (let i = 0; i < 30; i++) c.callArrived(0.21, call(`x${i}`));
    expect(targets(c.drain()).filter((t) => t === "a")).toHaveLength(30);
  });

  it("a full size learnt from a transient rises again: a report running that many with no queue lets it probe above", () => {
    const c = controller(hold(), [spec("a")]);
    // Seen full at 10 (a queue over two reports, running flat): a batch of long calls, say.
    c.instanceObserved(0, report("a", 0, 10, 3));
    c.instanceObserved(0.1, report("a", 0.1, 10, 2));
    c.instanceObserved(0.2, report("a", 0.2, 10, 0));
    for (let i = 0; i < 40; i++) c.callArrived(0.21, call(`x${i}`));
    // Running 10, no queue: probe one above (5% of 10, at least 1).
    expect(targets(c.drain()).filter((t) => t === "a")).toHaveLength(1);
    // The engine took it without a queue: the estimate rises to 11 and the probe goes on.
    c.instanceObserved(0.3, report("a", 0.3, 11, 0));
    expect(targets(c.drain()).filter((t) => t === "a")).toHaveLength(1);
    let sent = 2;
    for (let k = 0, running = 12; k < 60 && sent < 40; k++) {
      c.instanceObserved(0.4 + 0.1 * k, report("a", 0.4 + 0.1 * k, running, 0));
      const n = targets(c.drain()).filter((t) => t === "a").length;
      sent += n;
      running += n;
    }
    // Geometric growth (5% a report) sends the whole backlog within 60 reports; with the old
    // largest-seen cap it stayed at 10 forever.
    expect(sent).toBe(40);
  });

  it("stops holding for an instance that reports waiting without a break for max_waiting_s, and wakes the controller then", () => {
    const c = controller(hold({ max_waiting_s: 5 }), [spec("a")]);
    c.instanceObserved(0, report("a", 0, 4, 2));
    c.callArrived(0.5, call("x0"));
    expect(c.drain()).toEqual([{ kind: "wakeMeAt", at_s: 5 }]);
    c.instanceObserved(4, report("a", 4, 4, 2));
    expect(targets(c.drain()).filter((t) => t === "a")).toEqual([]);
    c.tick(5);
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("stops holding for an instance whose last report is max_waiting_s old (a silent instance)", () => {
    const c = controller(hold({ max_waiting_s: 2 }), [spec("a")]);
    c.instanceObserved(0, report("a", 0, 4, 1));
    c.callArrived(3, call("x0"));
    expect(targets(c.drain())).toEqual(["a"]);
  });

  it("rejects a bad option with the policy and field named", () => {
    expect(() => createDispatchPolicy({ name: "least-kv", params: { hold_when_waiting: "yes" } })).toThrow(/--dispatch: least-kv params\.hold_when_waiting: /);
    expect(() => createDispatchPolicy({ name: "least-kv", params: { max_waiting_s: 0 } })).toThrow(/least-kv params\.max_waiting_s/);
  });
});
