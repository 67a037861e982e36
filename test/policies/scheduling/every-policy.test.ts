import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CallRow } from "../../../src/metrics/calls-csv.ts";
import { Recorder } from "../../../src/metrics/recorder.ts";
import type { WorkflowRow } from "../../../src/metrics/workflow-recorder.ts";
import { SCHEDULING_POLICIES, createSchedulingPolicy } from "../../../src/policies/registry.ts";
import { RngStreams } from "../../../src/core/rng.ts";
import { simulate } from "../../../sim/host.ts";
import type { WorkflowSpec } from "../../../src/workflow/types.ts";
import { testInstances } from "../../helpers/cluster.ts";
import { randomWorkflows } from "../../helpers/random-workflows.ts";
import { Gate } from "./harness.ts";

/** Policies that cannot run without params (their required inputs, as a host would fill them). */
const REQUIRED_PARAMS: Record<string, Record<string, unknown>> = { "kairos-static": { priorities: { a: 2, b: 0.5 } } };

async function run(name: string, workflows: WorkflowSpec[]) {
  const calls: CallRow[] = [];
  const flows: WorkflowRow[] = [];
  async function* batches() {
    yield workflows;
  }
  await simulate(batches(), {
    instances: testInstances(1, {}, 2000, 100_000),
    scheduling: createSchedulingPolicy({ name, params: REQUIRED_PARAMS[name] ?? {} }),
    // Two calls at a time, so calls queue at the controller and the scheduling policy decides.
    dispatch: new Gate(2),
    recorder: new Recorder({ slo: {}, onCallClosed: (r) => calls.push(r), onWorkflowClosed: (r) => flows.push(r) }),
    rng: new RngStreams(7),
    observability: { mode: "scraped", interval_s: 0.05 },
  });
  return { calls, flows };
}

describe("every scheduling policy", () => {
  for (const name of Object.keys(SCHEDULING_POLICIES)) {
    it(`${name}: completes every workflow, and the same input gives the same run`, async () => {
      await fc.assert(
        fc.asyncProperty(randomWorkflows, async (workflows) => {
          const first = await run(name, workflows);
          expect(first.flows.map((r) => r.status).sort()).toEqual(workflows.map(() => "completed"));
          expect(first.calls.every((r) => r.status === "finished")).toBe(true);
          expect(await run(name, workflows)).toEqual(first);
        }),
        { numRuns: 25 },
      );
    });
  }
});
