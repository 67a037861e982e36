import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RngStreams } from "../../src/core/rng.ts";
import type { RequestSpec } from "../../src/core/types.ts";
import type { CallRow } from "../../src/metrics/calls-csv.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import { simulate } from "../../sim/host.ts";
import { asBatches, testInstances } from "../helpers/cluster.ts";
import { call, controller, spec } from "../policies/dispatch/helpers.ts";

const MAX_MODEL_LEN = 400;

const requests = fc
  .array(fc.record({ gap_s: fc.double({ min: 0, max: 0.2, noNaN: true }), prompt: fc.integer({ min: 1, max: 380 }), output: fc.integer({ min: 1, max: 40 }) }), {
    minLength: 1,
    maxLength: 80,
  })
  .map((rows) => {
    let t = 0;
    return rows.map((r, i): RequestSpec => {
      t += r.gap_s;
      return { id: `r${i}`, arrival_s: t, prompt_tokens: r.prompt, output_tokens: r.output };
    });
  });

describe("hold_when_waiting in the simulator", () => {
  it("every accepted call ends finished (or rejected when it cannot fit), however small the engines' batches", async () => {
    await fc.assert(
      fc.asyncProperty(
        requests,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom("round-robin", "least-outstanding", "least-kv", "kairos-timeslot"),
        fc.constantFrom("fcfs", "kairos", "sjf"),
        async (reqs, count, max_num_seqs, dispatch, scheduling) => {
          const rows: CallRow[] = [];
          const recorder = new Recorder({ slo: {}, onCallClosed: (row) => rows.push(row) });
          await simulate(asBatches(reqs), {
            instances: testInstances(count, { max_num_seqs, max_num_batched_tokens: MAX_MODEL_LEN }, 60, MAX_MODEL_LEN),
            scheduling: createSchedulingPolicy(scheduling),
            dispatch: createDispatchPolicy({ name: dispatch, params: { hold_when_waiting: true } }),
            recorder,
            rng: new RngStreams(1),
            observability: { mode: "scraped", interval_s: 0.05 },
          });
          expect(rows.map((r) => r.call_id).sort()).toEqual(reqs.map((r) => r.id).sort());
          for (const row of rows) expect(row.status).toBe(row.prompt_tokens + reqs.find((r) => r.id === row.call_id)!.output_tokens > MAX_MODEL_LEN ? "rejected" : "finished");
        },
      ),
      { numRuns: 60 },
    );
  });

  it("no call waits forever when every instance keeps reporting waiting requests: each is sent by max_waiting_s after the queue was first reported", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 20, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0.5, max: 10, noNaN: true }),
        (arrivals, count, max_waiting_s) => {
          const ids = Array.from({ length: count }, (_, i) => `i${i}`);
          const c = controller(
            { name: "least-outstanding", params: { hold_when_waiting: true, max_waiting_s } },
            ids.map((id) => spec(id)),
          );
          const sorted = [...arrivals].sort((a, b) => a - b);
          // Every instance reports a queue every 0.1 s for ever; calls arrive in between.
          const dispatched = new Map<string, number>();
          let next = 0;
          let wake = Number.POSITIVE_INFINITY;
          for (let t = 0; t <= 40; t = Math.round((t + 0.1) * 10) / 10) {
            // The controller's own wake-up first: it may fall before this instant (time never runs backwards).
            if (wake <= t) {
              c.tick(wake);
              wake = Number.POSITIVE_INFINITY;
            }
            while (next < sorted.length && sorted[next] <= t) c.callArrived(t, call(`x${next}`, { arrival_s: sorted[next++] }));
            for (const id of ids)
              c.instanceObserved(t, { instance: id, at_s: t, running: 8, waiting: 3, kv_usage: 0.9, prefix_queried_tokens: 0, prefix_hit_tokens: 0, preemptions: 0, awake: true });
            for (const action of c.drain()) {
              if (action.kind === "dispatch") dispatched.set(action.call.id, t);
              if (action.kind === "wakeMeAt") wake = Math.min(wake, action.at_s);
            }
          }
          expect(dispatched.size).toBe(sorted.length);
          for (const [id, at] of dispatched) {
            const arrival = sorted[Number(id.slice(1))];
            expect(at).toBeLessThanOrEqual(Math.max(arrival, max_waiting_s) + 0.1 + 1e-9);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
