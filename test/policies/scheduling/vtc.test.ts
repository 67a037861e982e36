import { describe, expect, it } from "vitest";
import type { RequestSpec } from "../../../src/core/types.ts";
import type { CallRow } from "../../../src/metrics/calls-csv.ts";
import { Recorder } from "../../../src/metrics/recorder.ts";
import { createSchedulingPolicy } from "../../../src/policies/registry.ts";
import { RngStreams } from "../../../src/core/rng.ts";
import { simulate } from "../../../sim/host.ts";
import { asBatches, testInstances } from "../../helpers/cluster.ts";
import { Gate, call, dispatched, finish, gatedController } from "./harness.ts";

// Every call here: 10 prompt tokens and, when it finishes, 5 output tokens — 10 + 2 × 5 = 20 units.

describe("vtc scheduling (controller)", () => {
  it("serves the tenant with the smaller counter first", () => {
    const { controller } = gatedController("vtc", { limit: 1 });
    for (let i = 1; i <= 3; i++) controller.callArrived(0, call(`A${i}`, 0, { tenant: "A" }));
    expect(dispatched(controller.drain())).toEqual(["A1"]); // A: 10
    controller.callArrived(0.1, call("B1", 0.1, { tenant: "B" })); // B joins at A's 10
    // A1 finishes: A 20 > B 10, so B1 goes before A's backlog.
    expect(finish(controller, 1, "A1")).toEqual(["B1"]);
    expect(finish(controller, 2, "B1")).toEqual(["A2"]);
    expect(finish(controller, 3, "A2")).toEqual(["A3"]);
  });

  it("lifts a newly active tenant to the smallest active counter, so it cannot bank idle time", () => {
    const { controller } = gatedController("vtc", { limit: 1 });
    for (let i = 1; i <= 6; i++) controller.callArrived(0, call(`A${i}`, 0, { tenant: "A" }));
    controller.drain();
    finish(controller, 1, "A1");
    finish(controller, 2, "A2");
    finish(controller, 3, "A3"); // A4 dispatched: A = 70
    for (let i = 1; i <= 3; i++) controller.callArrived(3.5, call(`B${i}`, 3.5, { tenant: "B" })); // B lifted 0 → 70
    const order: string[] = [];
    order.push(...finish(controller, 4, "A4"));
    for (let t = 5; order.length < 5; t++) order.push(...finish(controller, t, order[order.length - 1]));
    // Without the lift B (at 0) would take all three turns before A's backlog moved.
    expect(order).toEqual(["B1", "A5", "B2", "A6", "B3"]);
  });

  it("lifts a tenant arriving at an idle cluster to the counter of the tenant that left last", () => {
    const { controller } = gatedController("vtc", { limit: 1 });
    controller.callArrived(0, call("A1", 0, { tenant: "A" }));
    controller.drain();
    finish(controller, 1, "A1"); // A = 20, then idle
    for (let i = 1; i <= 3; i++) controller.callArrived(2, call(`B${i}`, 2, { tenant: "B" })); // B lifted to 20, B1 out: 30
    for (let i = 2; i <= 3; i++) controller.callArrived(2.5, call(`A${i}`, 2.5, { tenant: "A" })); // A lifted to B's 30
    const order = dispatched(controller.drain());
    for (let t = 3; order.length < 5; t++) order.push(...finish(controller, t, order[order.length - 1]));
    expect(order).toEqual(["B1", "A2", "B2", "A3", "B3"]);
  });

  it("rejects bad params with an error naming the param", () => {
    expect(() => createSchedulingPolicy({ name: "vtc", params: { output_weight: -1 } })).toThrow(/vtc params\.output_weight/);
    expect(() => createSchedulingPolicy({ name: "vtc", params: { weights: 1 } })).toThrow(/vtc params: .*"weights"/);
  });
});

/** Tenant A asks for 10× what B asks for, both more than half the instance can serve, so both are
 *  backlogged; the instance takes 8 calls at a time, so the queue forms at the controller. Returns
 *  the weighted tokens (prompt + 2 × output) dispatched to each tenant between 2 s and 8 s. */
async function servedWhileBacklogged(scheduling: string): Promise<{ A: number; B: number }> {
  const requests: RequestSpec[] = [];
  for (let i = 0; i < 2000; i++) requests.push({ id: `A${i}`, arrival_s: i * 0.005, prompt_tokens: 100, output_tokens: 50, tenant: "A" });
  for (let i = 0; i < 200; i++) requests.push({ id: `B${i}`, arrival_s: i * 0.05 + 0.001, prompt_tokens: 100, output_tokens: 50, tenant: "B" });
  requests.sort((a, b) => a.arrival_s - b.arrival_s);
  const rows: CallRow[] = [];
  await simulate(asBatches(requests, 64), {
    instances: testInstances(1, {}, 4000),
    scheduling: createSchedulingPolicy(scheduling),
    dispatch: new Gate(8),
    recorder: new Recorder({ slo: {}, onCallClosed: (row) => rows.push(row) }),
    rng: new RngStreams(1),
    observability: { mode: "scraped", interval_s: 0.05 },
  });
  expect(rows.filter((r) => r.status === "finished")).toHaveLength(2200);
  const served = { A: 0, B: 0 };
  for (const row of rows) {
    if (row.dispatched_s === null || row.dispatched_s < 2 || row.dispatched_s > 8) continue;
    served[row.tenant as "A" | "B"] += row.prompt_tokens + 2 * (row.output_tokens ?? 0);
  }
  return served;
}

describe("vtc scheduling (simulated cluster)", () => {
  it("gives two backlogged tenants with 1:10 demand service within 2× of equal", async () => {
    const vtc = await servedWhileBacklogged("vtc");
    expect(vtc.B).toBeGreaterThan(0);
    expect(vtc.A / vtc.B).toBeGreaterThan(0.5);
    expect(vtc.A / vtc.B).toBeLessThan(2);
    // fcfs, for contrast, serves them in proportion to their demand.
    const fcfs = await servedWhileBacklogged("fcfs");
    expect(fcfs.A / fcfs.B).toBeGreaterThan(5);
  });
});
