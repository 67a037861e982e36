import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RngStreams } from "../../src/core/rng.ts";
import { Recorder } from "../../src/metrics/recorder.ts";
import { reportToJson } from "../../src/metrics/report-schema.ts";
import type { WorkflowRow } from "../../src/metrics/workflow-recorder.ts";
import { createDispatchPolicy, createSchedulingPolicy } from "../../src/policies/registry.ts";
import type { WorkflowSpec } from "../../src/workflow/types.ts";
import { simulate } from "../../sim/host.ts";
import { runSimulation } from "../../sim/run.ts";
import { testInstances } from "../helpers/cluster.ts";
import { randomWorkflow } from "../helpers/random-workflows.ts";

/** Random workflows with scrambled arrival times: a closed loop must ignore them. */
const workflows = fc.array(fc.double({ min: 0, max: 50, noNaN: true }), { minLength: 1, maxLength: 12 }).chain((times) => fc.tuple(...times.map((t, k) => randomWorkflow(`w${k}`, t))));

async function* inBatches(list: WorkflowSpec[], size = 3): AsyncGenerator<WorkflowSpec[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

describe("closed-loop users in the simulator", () => {
  it("at most N workflows are open at once, every workflow ends, and a user's next workflow starts exactly its think time after the last closed", async () => {
    await fc.assert(
      fc.asyncProperty(
        workflows,
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 3 }),
        async (list, users, thinks, instances) => {
          const closed: WorkflowRow[] = [];
          const drawn: number[] = [];
          const started = new Map<string, { user: number; at_s: number }>();
          const recorder = new Recorder({ slo: {}, onWorkflowClosed: (row) => closed.push(row) });
          await simulate(inBatches(list), {
            instances: testInstances(instances, { max_num_seqs: 4 }, 200),
            scheduling: createSchedulingPolicy("fcfs"),
            dispatch: createDispatchPolicy("round-robin"),
            recorder,
            rng: new RngStreams(1),
            observability: { mode: "scraped", interval_s: 0.05 },
            closedLoop: {
              users,
              thinkTime: () => {
                const t = thinks[drawn.length % thinks.length];
                drawn.push(t);
                return t;
              },
              onStart: (user, id, at_s) => started.set(id, { user, at_s }),
            },
          });
          // Every workflow started, in the source's order, and ended.
          expect([...started.keys()]).toEqual(list.map((w) => w.id));
          expect(closed.map((r) => r.workflow_id).sort()).toEqual(list.map((w) => w.id).sort());
          // Each user's first workflow starts at 0; the recorder saw the start time the user chose.
          for (const row of closed) expect(row.arrival_s).toBe(started.get(row.workflow_id)!.at_s);
          const firsts = new Set<number>();
          for (const { user, at_s } of started.values()) {
            if (!firsts.has(user)) {
              firsts.add(user);
              expect(at_s).toBe(0);
            }
          }
          expect(firsts.size).toBe(Math.min(users, list.length));
          // The k-th close drew the k-th think time; the user's next start is close + think.
          const finished = new Map(closed.map((r, k) => [r.workflow_id, { at_s: r.finished_s, think: drawn[k] }]));
          const lastOf = new Map<number, string>();
          for (const [id, { user, at_s }] of started) {
            const previous = lastOf.get(user);
            if (previous !== undefined) {
              const end = finished.get(previous)!;
              expect(at_s).toBeGreaterThanOrEqual(end.at_s + end.think);
              expect(at_s).toBe(end.at_s + end.think);
            }
            lastOf.set(user, id);
          }
          // Open workflows over time (a close at t comes before a start at t): never more than N.
          const edges = [...closed.map((r) => [r.finished_s, -1] as const), ...closed.map((r) => [r.arrival_s, 1] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          let open = 0;
          for (const [, delta] of edges) {
            open += delta;
            expect(open).toBeLessThanOrEqual(users);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("the same seed gives a byte-identical report and workflows.csv; another seed gives other think times", async () => {
    const once = async (seed: number) => {
      const rows: string[] = [];
      const { report } = await runSimulation({
        workload: { kind: "app", name: "qa-router", params: {}, timing: { kind: "fixed", count: 24, interval_s: 0 }, closed_loop: { users: 3, think_time: "exp:2" } },
        seed,
        onWorkflowClosed: (row) => rows.push(JSON.stringify(row)),
      });
      return { json: reportToJson(report), rows: rows.join("\n"), trace: report.run.trace };
    };
    const a = await once(5);
    expect(a.json).toBe((await once(5)).json);
    expect(a.rows).toBe((await once(5)).rows);
    expect(a.trace).toMatchObject({ arrival: "closed-loop", users: 3, think_time: "exp:2", rows: 24 });
    expect(a.rows).not.toBe((await once(6)).rows);
  });

  it("fewer users mean fewer workflows at once: one user runs them strictly one after another", async () => {
    const rows: WorkflowRow[] = [];
    await runSimulation({
      workload: { kind: "app", name: "chain", params: {}, timing: { kind: "fixed", count: 8, interval_s: 0 }, closed_loop: { users: 1, think_time: "fixed:0.5" } },
      seed: 3,
      onWorkflowClosed: (row) => rows.push(row),
    });
    expect(rows).toHaveLength(8);
    for (let k = 1; k < rows.length; k++) expect(rows[k].arrival_s).toBe(rows[k - 1].finished_s + 0.5);
  });
});
